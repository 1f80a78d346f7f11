//! A session driver that follows recorded joint positions (a LeRobot episode, resampled to the
//! control rate): each env step targets the next recorded pose through the servos, and the
//! tracking error of every step is kept for the app's plot.

/// Recorded servo targets and how well the sim has followed them so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Follow {
    /// The recording's first pose, rad: where the arm starts (and restarts on a reset).
    pub start: [f64; 6],
    /// Servo targets per control step, rad, [`crate::scene::names::ALL_JOINTS`] order.
    pub targets: Vec<[f64; 6]>,
    /// Target minus reached joint positions after each step taken, rad.
    pub errors: Vec<[f64; 6]>,
    /// Where the targets came from (shown in the app).
    pub source: String,
}

impl Follow {
    /// A driver that starts at `start` and then targets `targets`, named by `source`.
    pub fn new(start: [f64; 6], targets: Vec<[f64; 6]>, source: String) -> Self {
        Self {
            start,
            errors: Vec::with_capacity(targets.len()),
            targets,
            source,
        }
    }

    /// The next step's target: the recording's next pose, then its last one held.
    pub fn next_target(&self) -> Option<[f64; 6]> {
        self.targets
            .get(self.errors.len())
            .or(self.targets.last())
            .copied()
    }

    /// True once every recorded pose has been targeted.
    pub fn finished(&self) -> bool {
        self.errors.len() >= self.targets.len()
    }

    /// Records the joints reached by a step that targeted `target` (ignored once finished).
    pub fn record(&mut self, target: &[f64; 6], reached: &[f64; 6]) {
        if !self.finished() {
            self.errors
                .push(std::array::from_fn(|i| target[i] - reached[i]));
        }
    }

    /// Root-mean-square error per joint over the steps taken, rad.
    pub fn rms(&self) -> [f64; 6] {
        crate::episode::lerobot::rms(&self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_run_in_order_then_hold_the_last_and_errors_stop() {
        let mut f = Follow::new([0.0; 6], vec![[1.0; 6], [2.0; 6]], "t".into());
        assert_eq!(f.next_target(), Some([1.0; 6]));
        f.record(&[1.0; 6], &[0.5; 6]);
        assert_eq!(f.next_target(), Some([2.0; 6]));
        f.record(&[2.0; 6], &[2.0; 6]);
        assert!(f.finished());
        assert_eq!(f.next_target(), Some([2.0; 6]), "the last pose is held");
        f.record(&[2.0; 6], &[0.0; 6]);
        assert_eq!(f.errors.len(), 2, "no error is kept past the recording");
        // errors 0.5 and 0: rms = sqrt(0.25 / 2)
        assert!((f.rms()[3] - (0.125f64).sqrt()).abs() < 1e-12);
        assert_eq!(
            Follow::new([0.0; 6], Vec::new(), "e".into()).next_target(),
            None
        );
    }
}
