//! What one episode came to, in one row: outcome, failure kind and the moment of failure, return,
//! peak height, and how the cube was held (grasp quality). Built step by step from what the env
//! reports and the grasp inspector sees, so `eval` (live) and triage (from recorded episodes)
//! classify the same way. The success-rate interval (`wilson95`) lives here too, so `eval` and
//! the scripted runs report it alike.

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
    /// Grasped at the end but not lifted long enough (place: placed, but the episode ended
    /// before the hold completed).
    Timeout,
    /// Place: the cube was never grasped.
    NeverGrasped,
    /// Place: the cube was let go low, outside the target.
    MissedTarget,
    /// Place: the cube is on the target (or still in hand) and the hand has not let go.
    NotReleased,
    /// Place: the cube tipped onto another face, ended tilted, or left the table.
    KnockedOver,
}

impl FailureKind {
    /// Whether only place tasks report this kind.
    pub fn place_only(self) -> bool {
        matches!(
            self,
            Self::NeverGrasped | Self::MissedTarget | Self::NotReleased | Self::KnockedOver
        )
    }

    /// Every kind, in report order.
    pub const ALL: [FailureKind; 8] = [
        Self::NeverTouched,
        Self::OnePadContact,
        Self::Dropped,
        Self::Timeout,
        Self::NeverGrasped,
        Self::MissedTarget,
        Self::NotReleased,
        Self::KnockedOver,
    ];

    /// Short text for tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::NeverTouched => "never touched",
            Self::OnePadContact => "one-pad contact",
            Self::Dropped => "dropped",
            Self::Timeout => "timeout",
            Self::NeverGrasped => "never grasped",
            Self::MissedTarget => "missed the target",
            Self::NotReleased => "not released",
            Self::KnockedOver => "knocked over",
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
    /// Cube height above its start when the grasp was last lost, metres.
    drop_height: f64,
    /// Index of the cube's most upward local axis (and its sign) after the first step.
    start_up: Option<(usize, bool)>,
}

/// Height above its start at which a cube let go counts as dropped, not set down, metres.
const DROPPED_ABOVE_M: f64 = 0.015;

/// The cube's most upward local axis and whether it points up (+) or down (-).
fn up_axis(q: [f64; 4]) -> (usize, bool) {
    let [w, x, y, z] = q;
    // Third row of the rotation matrix: the world z component of each local axis.
    let row = [
        2.0 * (x * z - w * y),
        2.0 * (y * z + w * x),
        1.0 - 2.0 * (x * x + y * y),
    ];
    let (i, v) = row
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map_or((2, 1.0), |(i, v)| (i, *v));
    (i, v > 0.0)
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
        let z = info.cube_pos[2];
        let start = *self.start_z.get_or_insert(z);
        self.start_up.get_or_insert_with(|| up_axis(info.cube_quat));
        if self.was_grasping && !info.grasping {
            self.last_drop = Some(k);
            self.drop_height = z - start;
        }
        self.ever_grasped |= info.grasping;
        self.was_grasping = info.grasping;
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

    /// How a place episode failed, from its last step.
    fn place_failure(&self, place: &super::PlaceInfo) -> FailureKind {
        let last = &self.last;
        let fell = last.cube_pos[2] < self.start_z.unwrap_or(0.0) - 0.01;
        let tipped = self.start_up.is_some_and(|s| s != up_axis(last.cube_quat));
        if !self.ever_grasped {
            FailureKind::NeverGrasped
        } else if fell || tipped || (!last.grasping && !place.resting && !self.touching()) {
            FailureKind::KnockedOver
        } else if last.grasping || (place.on_target && !place.released) {
            FailureKind::NotReleased
        } else if place.on_target {
            FailureKind::Timeout
        } else if self.drop_height > DROPPED_ABOVE_M {
            FailureKind::Dropped
        } else {
            FailureKind::MissedTarget
        }
    }

    fn touching(&self) -> bool {
        self.last.static_pad_contact || self.last.moving_pad_contact
    }

    /// The row, once the episode has ended.
    pub fn finish(self) -> EpisodeSummary {
        let success = self.last.success;
        let failure = if success {
            None
        } else if let Some(place) = self.last.place {
            Some(self.place_failure(&place))
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
            FailureKind::Dropped | FailureKind::MissedTarget => {
                self.last_drop.unwrap_or(self.steps)
            }
            _ => self.steps,
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

/// Wilson score interval for `k` successes out of `n` at 95%.
pub fn wilson95(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (n, p, z) = (n as f64, k as f64 / n as f64, 1.959_963_984_540_054);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
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

    fn placed_info(grasping: bool, xy: [f64; 2], z: f64, on: bool, released: bool) -> StepInfo {
        StepInfo {
            static_pad_contact: grasping || !released,
            moving_pad_contact: grasping,
            grasping,
            cube_pos: [xy[0], xy[1], z],
            cube_quat: [1.0, 0.0, 0.0, 0.0],
            place: Some(super::super::PlaceInfo {
                target_pos: [0.3, 0.1, 0.0],
                target_distance_m: (xy[0] - 0.3).hypot(xy[1] - 0.1),
                on_target: on,
                resting: z < 0.0155,
                released,
                carried: true,
            }),
            ..StepInfo::default()
        }
    }

    /// Runs a place episode: grasp at the start, carried to `held_to` at `height`, then the
    /// `last` step.
    fn place_episode(steps: &[StepInfo]) -> Option<FailureKind> {
        let none = GraspInspection::default();
        let mut t = EpisodeTracker::new(0);
        for s in steps {
            t.push(s, 0.0, &none);
        }
        t.finish().failure
    }

    #[test]
    fn place_failures_by_kind() {
        let start = placed_info(false, [0.2, 0.0], 0.015, false, true);
        let grab = placed_info(true, [0.2, 0.0], 0.015, false, false);
        let carry = placed_info(true, [0.25, 0.05], 0.06, false, false);
        let over = placed_info(true, [0.3, 0.1], 0.02, true, false);
        // Never grasped: touched or not.
        assert_eq!(
            place_episode(std::slice::from_ref(&start)),
            Some(FailureKind::NeverGrasped)
        );
        // Still holding it over the target at the end.
        let held = [start.clone(), grab.clone(), carry.clone(), over.clone()];
        assert_eq!(place_episode(&held), Some(FailureKind::NotReleased));
        // Let go 6 cm up on the way: dropped.
        let loose = placed_info(false, [0.25, 0.05], 0.06, false, true);
        let fell = placed_info(false, [0.25, 0.05], 0.015, false, true);
        let dropped = [start.clone(), grab.clone(), carry.clone(), loose, fell];
        assert_eq!(place_episode(&dropped), Some(FailureKind::Dropped));
        // Set down low, 4 cm off: missed.
        let low = placed_info(true, [0.26, 0.1], 0.016, false, false);
        let off = placed_info(false, [0.26, 0.1], 0.015, false, true);
        let missed = [start.clone(), grab.clone(), carry.clone(), low, off];
        assert_eq!(place_episode(&missed), Some(FailureKind::MissedTarget));
        // Tipped onto its side (another face up) on the target.
        let mut tipped = placed_info(false, [0.3, 0.1], 0.015, true, true);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        tipped.cube_quat = [h, h, 0.0, 0.0];
        let knocked = [start.clone(), grab.clone(), carry.clone(), tipped];
        assert_eq!(place_episode(&knocked), Some(FailureKind::KnockedOver));
        // On the target and released, but the episode ended during the hold.
        let mut placed = placed_info(false, [0.3, 0.1], 0.015, true, true);
        placed.hold_count = 10;
        let late = [start, grab, carry, over, placed];
        assert_eq!(place_episode(&late), Some(FailureKind::Timeout));
    }
}
