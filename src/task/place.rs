//! The place goal: where the target is (`[target]` of a task config), the place success
//! predicate, and the weights of the staged place reward (`[place]` of a reward version; the
//! reward itself is computed in `reward`).

use nalgebra::Vector3;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::{Check, FieldError};

/// A target marker on the table, drawn per episode (`[target]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetConfig {
    /// Target centre x range (min, max), metres.
    pub x: [f64; 2],
    /// Target centre y range (min, max), metres.
    pub y: [f64; 2],
    /// Smallest horizontal distance between the cube's start and the target, metres.
    pub min_cube_distance_m: f64,
    /// Success radius: the cube centre within this of the target in x/y, metres.
    pub radius_m: f64,
    /// Largest height of the cube's centre above its resting height that still counts as resting
    /// on the table, metres.
    pub rest_tolerance_m: f64,
    /// Largest cube tilt that counts as upright, degrees.
    pub max_tilt_deg: f64,
    /// Smallest gripper joint angle that counts as open, rad.
    pub open_min_rad: f64,
    /// Success also needs the cube to have been carried (grasped and lifted) earlier in the
    /// episode, so pushing it across the table onto the target does not count.
    pub require_carry: bool,
}

impl Default for TargetConfig {
    fn default() -> Self {
        Self {
            x: [0.15, 0.35],
            y: [-0.15, 0.15],
            min_cube_distance_m: 0.06,
            radius_m: 0.02,
            rest_tolerance_m: 0.004,
            max_tilt_deg: 10.0,
            open_min_rad: 0.3,
            require_carry: true,
        }
    }
}

/// Attempts at drawing a target far enough from the cube before giving up (the validated ranges
/// always leave room, so this is never reached in practice).
const MAX_DRAWS: usize = 1000;

impl TargetConfig {
    /// Checks the ranges against the TCP workspace (`target_min`/`target_max` of the task), with
    /// errors under `prefix` (e.g. `target.`).
    pub fn validate(&self, prefix: &str, lo: [f64; 3], hi: [f64; 3]) -> Result<(), FieldError> {
        for (k, (name, r)) in [("x", self.x), ("y", self.y)].into_iter().enumerate() {
            let field = format!("{prefix}{name}");
            Check::each(&field, &r, lo[k], hi[k])?;
            if r[0] > r[1] {
                return Err(FieldError {
                    field,
                    value: format!("{:?}", r),
                    allowed: "min <= max".into(),
                });
            }
        }
        let f = |n: &str| format!("{prefix}{n}");
        Check::range(
            &f("min_cube_distance_m"),
            self.min_cube_distance_m,
            0.0,
            0.3,
        )?;
        Check::range(&f("radius_m"), self.radius_m, 0.001, 0.1)?;
        Check::range(&f("rest_tolerance_m"), self.rest_tolerance_m, 0.0, 0.05)?;
        Check::range(&f("max_tilt_deg"), self.max_tilt_deg, 0.0, 90.0)?;
        Check::range(&f("open_min_rad"), self.open_min_rad, -0.2, 1.8)?;
        Ok(())
    }

    /// Draws a target at least `min_cube_distance_m` from `cube` (x, y) from the ranges.
    pub fn sample(&self, rng: &mut impl Rng, cube: [f64; 2]) -> [f64; 2] {
        let mut p = [0.0; 2];
        for _ in 0..MAX_DRAWS {
            p = [
                self.x[0] + rng.random::<f64>() * (self.x[1] - self.x[0]),
                self.y[0] + rng.random::<f64>() * (self.y[1] - self.y[0]),
            ];
            if (p[0] - cube[0]).hypot(p[1] - cube[1]) >= self.min_cube_distance_m {
                break;
            }
        }
        p
    }
}

/// What the place predicate and reward read from one state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceState {
    /// Cube centre, world, metres.
    pub cube: Vector3<f64>,
    /// Cube centre height when resting on the table, metres.
    pub rest_z: f64,
    /// Cube tilt, degrees.
    pub tilt_deg: f64,
    /// Target centre on the table (x, y), metres.
    pub target: [f64; 2],
    /// Gripper joint angle, rad.
    pub gripper_q: f64,
    /// Either pad touches the cube.
    pub pad_contact: bool,
}

impl PlaceState {
    /// Horizontal distance of the cube centre from the target, metres.
    pub fn target_distance(&self) -> f64 {
        (self.cube.x - self.target[0]).hypot(self.cube.y - self.target[1])
    }

    /// The cube rests upright on the table (within the tolerances).
    pub fn resting(&self, t: &TargetConfig) -> bool {
        (self.cube.z - self.rest_z).abs() <= t.rest_tolerance_m && self.tilt_deg <= t.max_tilt_deg
    }

    /// The cube is inside the success region.
    pub fn on_target(&self, t: &TargetConfig) -> bool {
        self.target_distance() <= t.radius_m
    }

    /// The hand has let go: gripper open and neither pad on the cube.
    pub fn released(&self, t: &TargetConfig) -> bool {
        self.gripper_q >= t.open_min_rad && !self.pad_contact
    }

    /// The place predicate for one state: on target, resting upright, released. Success needs it
    /// for the task's `success_hold_steps` steps in a row.
    pub fn placed(&self, t: &TargetConfig) -> bool {
        self.on_target(t) && self.resting(t) && self.released(t)
    }
}

/// Weights of the staged place reward (`[place]` of a reward version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaceRewardConfig {
    /// Cube height the lift term counts up to (carry height), metres above resting.
    pub carry_height_m: f64,
    /// Weight of the capped lift term while grasping.
    pub lift_weight: f64,
    /// Weight of the carry term 1 - tanh(scale * d_xy) while grasped and lifted.
    pub carry_weight: f64,
    /// Distance scale of the carry term, 1/m.
    pub carry_scale: f64,
    /// Height above resting that counts as lifted for the carry term, metres.
    pub lifted_above_m: f64,
    /// Weight of the lower term (1 - height / carry height) while grasped over the target.
    pub lower_weight: f64,
    /// Bonus per step while the grasped cube is inside the target's radius (0 before place_v4):
    /// the last 2 cm of the carry pay, not only the distance.
    pub over_target_bonus: f64,
    /// Per-step bonus while the cube is placed (on target, resting, released). It exceeds every
    /// grasped term together, so letting go on the target pays.
    pub release_bonus: f64,
    /// Penalty when the grasp is lost with the cube outside the target.
    pub drop_outside_penalty: f64,
    /// Cube speed above which a free cube counts as thrown, m/s.
    pub throw_speed_mps: f64,
    /// Penalty per step of a thrown cube.
    pub throw_penalty: f64,
}

impl Default for PlaceRewardConfig {
    fn default() -> Self {
        Self {
            carry_height_m: 0.05,
            lift_weight: 1.0,
            carry_weight: 1.0,
            carry_scale: 10.0,
            lifted_above_m: 0.01,
            lower_weight: 1.0,
            over_target_bonus: 0.0,
            release_bonus: 5.0,
            drop_outside_penalty: 2.0,
            throw_speed_mps: 0.5,
            throw_penalty: 1.0,
        }
    }
}

impl PlaceRewardConfig {
    /// Checks every value, with errors under `prefix` (e.g. `place.`).
    pub fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        let f = |n: &str| format!("{prefix}{n}");
        Check::range(&f("carry_height_m"), self.carry_height_m, 0.005, 0.3)?;
        Check::range(&f("lifted_above_m"), self.lifted_above_m, 0.0, 0.3)?;
        Check::range(&f("carry_scale"), self.carry_scale, 0.0, 1000.0)?;
        Check::range(&f("throw_speed_mps"), self.throw_speed_mps, 0.01, 100.0)?;
        for (n, v) in [
            ("lift_weight", self.lift_weight),
            ("carry_weight", self.carry_weight),
            ("lower_weight", self.lower_weight),
            ("over_target_bonus", self.over_target_bonus),
            ("release_bonus", self.release_bonus),
            ("drop_outside_penalty", self.drop_outside_penalty),
            ("throw_penalty", self.throw_penalty),
        ] {
            Check::range(&f(n), v, 0.0, 1000.0)?;
        }
        Ok(())
    }
}

/// The place-specific part of one reward evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceInput {
    /// The state after the step.
    pub state: PlaceState,
    /// The target's success region and tolerances.
    pub target: TargetConfig,
    /// Cube linear speed, m/s.
    pub cube_speed: f64,
}

/// Hand-built place states for the tests of the predicate (here) and of the place reward.
#[cfg(test)]
pub(super) mod fixture {
    use super::*;

    /// The cube's resting height, m.
    pub(in crate::task) const REST: f64 = 0.015;

    /// A state with the target at (0.30, 0.10).
    pub(in crate::task) fn state(
        cube: [f64; 3],
        gripper_q: f64,
        pad_contact: bool,
        tilt_deg: f64,
    ) -> PlaceState {
        PlaceState {
            cube: Vector3::from(cube),
            rest_z: REST,
            tilt_deg,
            target: [0.30, 0.10],
            gripper_q,
            pad_contact,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{REST, state};
    use super::*;

    #[test]
    fn predicate_on_hand_built_states() {
        let t = TargetConfig::default();
        // Inside: 1.5 cm off in x/y, resting, open, no contact.
        assert!(state([0.315, 0.10, REST], 0.9, false, 0.0).placed(&t));
        // Outside: 2.5 cm off.
        assert!(!state([0.30, 0.125, REST], 0.9, false, 0.0).placed(&t));
        // Still grasped: closed on the cube.
        let held = state([0.30, 0.10, REST], 0.1, true, 0.0);
        assert!(held.on_target(&t) && held.resting(&t) && !held.placed(&t));
        // Open, but a pad still touches.
        assert!(!state([0.30, 0.10, REST], 0.9, true, 0.0).placed(&t));
        // Tilted 15 degrees (leaning on something), or lifted 1 cm.
        assert!(!state([0.30, 0.10, REST + 0.003], 0.9, false, 15.0).placed(&t));
        assert!(!state([0.30, 0.10, REST + 0.01], 0.9, false, 0.0).placed(&t));
    }

    #[test]
    fn targets_keep_their_distance_and_range() {
        use rand::SeedableRng;
        let t = TargetConfig::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..500 {
            let p = t.sample(&mut rng, [0.25, 0.0]);
            assert!((p[0] - 0.25).hypot(p[1]) >= 0.06, "{p:?}");
            assert!((0.15..=0.35).contains(&p[0]) && (-0.15..=0.15).contains(&p[1]));
        }
    }
}
