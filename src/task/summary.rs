//! What one episode came to, in one row: outcome, failure kind and the moment of failure, return,
//! peak height, and how the cube was held (grasp quality). Built step by step from what the env
//! reports and the grasp inspector sees, so `eval` (live) and triage (from recorded episodes)
//! classify the same way.

use serde::{Deserialize, Serialize};

use super::StepInfo;
use crate::sim::{GraspInspection, GraspVerdict};

/// How an unsuccessful episode failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// No pad ever touched the cube.
    NeverTouched,
    /// Pads touched, but never both at once with the gripper closed.
    OnePadContact,
    /// Grasped at some point, not at the end.
    Dropped,
    /// Grasped at the end but not lifted long enough.
    Timeout,
}

impl FailureKind {
    /// Every kind, in report order.
    pub const ALL: [FailureKind; 4] = [
        Self::NeverTouched,
        Self::OnePadContact,
        Self::Dropped,
        Self::Timeout,
    ];

    /// Short text for tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::NeverTouched => "never touched",
            Self::OnePadContact => "one-pad contact",
            Self::Dropped => "dropped",
            Self::Timeout => "timeout",
        }
    }
}

/// How the hand held the cube over an episode.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GraspQuality {
    /// Steps with the grasp predicate true.
    pub held_steps: usize,
    /// Fraction of held steps in which only the pads touch the cube (0 when never held).
    pub pads_only_fraction: f64,
    /// Fraction of held steps with a hand contact at the friction-cone limit (sliding).
    pub sliding_fraction: f64,
    /// Deepest penetration of a hand geom that is not a pad, over the whole episode, metres.
    pub max_box_penetration_m: f64,
}

/// One episode's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeSummary {
    /// Reset seed.
    pub seed: u64,
    /// The task's success test passed.
    pub success: bool,
    /// How it failed (None on success).
    pub failure: Option<FailureKind>,
    /// The moment of failure (state index, 1 = after the first step): the first one-pad
    /// contact, the last drop, or the final step.
    pub failure_step: Option<usize>,
    /// Undiscounted return.
    pub ret: f64,
    /// Steps taken.
    pub steps: usize,
    /// Highest cube centre above its height after the first step, metres.
    pub peak_height_m: f64,
    /// The most frequent grasp verdict while held (or, never held, while touching).
    pub verdict: GraspVerdict,
    /// How the cube was held.
    pub quality: GraspQuality,
}

/// Folds an episode's steps into an [`EpisodeSummary`].
#[derive(Debug, Clone, Default)]
pub struct EpisodeTracker {
    seed: u64,
    steps: usize,
    ret: f64,
    touched: bool,
    ever_grasped: bool,
    was_grasping: bool,
    first_one_pad: Option<usize>,
    last_drop: Option<usize>,
    start_z: Option<f64>,
    peak_z: f64,
    pads_only: usize,
    sliding: usize,
    quality: GraspQuality,
    held_verdicts: [usize; 6],
    touch_verdicts: [usize; 6],
    last: StepInfo,
}

fn most_frequent(counts: &[usize; 6]) -> Option<GraspVerdict> {
    // Ties go to the later (worse) verdict, so a fault is never hidden by a tie.
    let (i, &n) = counts.iter().enumerate().max_by_key(|&(i, &n)| (n, i))?;
    (n > 0).then_some(GraspVerdict::ALL[i])
}

impl EpisodeTracker {
    /// A tracker for the episode reset with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// Adds one step: what the env reported and the grasp inspector's view of the state after it.
    pub fn push(&mut self, info: &StepInfo, reward: f64, grasp: &GraspInspection) {
        self.steps += 1;
        let k = self.steps;
        self.ret += reward;
        let (a, b) = (info.static_pad_contact, info.moving_pad_contact);
        self.touched |= a || b;
        if a != b && !self.ever_grasped && self.first_one_pad.is_none() {
            self.first_one_pad = Some(k);
        }
        if self.was_grasping && !info.grasping {
            self.last_drop = Some(k);
        }
        self.ever_grasped |= info.grasping;
        self.was_grasping = info.grasping;
        let z = info.cube_pos[2];
        let start = *self.start_z.get_or_insert(z);
        self.peak_z = self.peak_z.max(z - start);
        self.quality.max_box_penetration_m = self
            .quality
            .max_box_penetration_m
            .max(grasp.max_box_penetration());
        let v = grasp.verdict.index();
        if info.grasping {
            self.quality.held_steps += 1;
            self.pads_only += usize::from(grasp.pads_only());
            self.sliding += usize::from(grasp.at_cone_limit());
            self.held_verdicts[v] += 1;
        } else if grasp.verdict != GraspVerdict::NoContact {
            self.touch_verdicts[v] += 1;
        }
        self.last = info.clone();
    }

    /// The row, once the episode has ended.
    pub fn finish(self) -> EpisodeSummary {
        let success = self.last.success;
        let failure = if success {
            None
        } else if !self.touched {
            Some(FailureKind::NeverTouched)
        } else if !self.ever_grasped {
            Some(FailureKind::OnePadContact)
        } else if !self.last.grasping {
            Some(FailureKind::Dropped)
        } else {
            Some(FailureKind::Timeout)
        };
        let failure_step = failure.map(|f| match f {
            FailureKind::OnePadContact => self.first_one_pad.unwrap_or(self.steps),
            FailureKind::Dropped => self.last_drop.unwrap_or(self.steps),
            FailureKind::NeverTouched | FailureKind::Timeout => self.steps,
        });
        let held = self.quality.held_steps;
        let frac = |n: usize| {
            if held == 0 {
                0.0
            } else {
                n as f64 / held as f64
            }
        };
        EpisodeSummary {
            seed: self.seed,
            success,
            failure,
            failure_step,
            ret: self.ret,
            steps: self.steps,
            peak_height_m: self.peak_z,
            verdict: most_frequent(&self.held_verdicts)
                .or_else(|| most_frequent(&self.touch_verdicts))
                .unwrap_or_default(),
            quality: GraspQuality {
                pads_only_fraction: frac(self.pads_only),
                sliding_fraction: frac(self.sliding),
                ..self.quality
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::JawContact;

    fn info(pads: (bool, bool), grasping: bool, z: f64, success: bool) -> StepInfo {
        StepInfo {
            static_pad_contact: pads.0,
            moving_pad_contact: pads.1,
            grasping,
            cube_pos: [0.2, 0.0, z],
            success,
            ..StepInfo::default()
        }
    }

    fn jaw(pad: bool, boxes: &[&str], cone: f64, box_depth: f64) -> JawContact {
        JawContact {
            pad,
            other_geoms: boxes.iter().map(|s| s.to_string()).collect(),
            normal_force: 1.0,
            max_cone_use: cone,
            max_penetration: box_depth,
            max_box_penetration: box_depth,
        }
    }

    fn grasp(verdict: GraspVerdict, a: JawContact, b: JawContact) -> GraspInspection {
        GraspInspection {
            static_jaw: a,
            moving_jaw: b,
            verdict,
        }
    }

    #[test]
    fn a_drop_is_found_with_its_step_and_the_held_quality() {
        let clean = grasp(
            GraspVerdict::CleanPadGrasp,
            jaw(true, &[], 0.5, 0.0),
            jaw(true, &[], 0.5, 0.0),
        );
        let slide = grasp(
            GraspVerdict::Sliding,
            jaw(true, &["jaw_box"], 1.0, 0.0008),
            jaw(true, &[], 0.3, 0.0),
        );
        let none = GraspInspection::default();
        let mut t = EpisodeTracker::new(7);
        t.push(&info((false, false), false, 0.015, false), 0.1, &none);
        t.push(&info((true, false), false, 0.015, false), 0.2, &none);
        t.push(&info((true, true), true, 0.02, false), 1.0, &clean);
        t.push(&info((true, true), true, 0.05, false), 1.0, &clean);
        t.push(&info((true, true), true, 0.06, false), 1.0, &slide);
        t.push(&info((false, false), false, 0.015, false), 0.0, &none);
        let s = t.finish();
        assert_eq!(s.seed, 7);
        assert_eq!(s.failure, Some(FailureKind::Dropped));
        assert_eq!(s.failure_step, Some(6));
        assert_eq!(s.steps, 6);
        assert!((s.ret - 3.3).abs() < 1e-12);
        assert!((s.peak_height_m - 0.045).abs() < 1e-12);
        assert_eq!(s.verdict, GraspVerdict::CleanPadGrasp);
        assert_eq!(s.quality.held_steps, 3);
        assert!((s.quality.pads_only_fraction - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.quality.sliding_fraction - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.quality.max_box_penetration_m, 0.0008);
    }

    #[test]
    fn one_pad_never_touched_timeout_and_success() {
        let none = GraspInspection::default();
        let mut t = EpisodeTracker::new(1);
        t.push(&info((false, false), false, 0.015, false), 0.0, &none);
        t.push(&info((false, true), false, 0.015, false), 0.0, &none);
        t.push(&info((false, false), false, 0.015, false), 0.0, &none);
        let s = t.finish();
        assert_eq!(s.failure, Some(FailureKind::OnePadContact));
        assert_eq!(s.failure_step, Some(2));
        assert_eq!(s.quality.held_steps, 0);
        assert_eq!(s.quality.pads_only_fraction, 0.0);

        let mut t = EpisodeTracker::new(2);
        t.push(&info((false, false), false, 0.015, false), 0.0, &none);
        let s = t.finish();
        assert_eq!(s.failure, Some(FailureKind::NeverTouched));
        assert_eq!(s.failure_step, Some(1));
        assert_eq!(s.verdict, GraspVerdict::NoContact);

        let mut t = EpisodeTracker::new(3);
        t.push(&info((true, true), true, 0.015, false), 0.0, &none);
        t.push(&info((true, true), true, 0.015, false), 0.0, &none);
        assert_eq!(t.clone().finish().failure, Some(FailureKind::Timeout));
        t.push(&info((true, true), true, 0.1, true), 0.0, &none);
        let s = t.finish();
        assert!(s.success);
        assert_eq!((s.failure, s.failure_step), (None, None));
    }
}
