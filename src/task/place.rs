//! The place goal: where the target is (`[target]` of a task config), the place success
//! predicate, and the staged place reward (`function = "staged_place"` of a reward version).

use nalgebra::Vector3;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::reward::RewardTerms;
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

/// The staged place reward for one step: reach, grasp, lift (capped at the carry height), carry
/// toward the target, lower over it, release on it, and penalties for a drop outside the target
/// and for a thrown cube. `drop` and `lift_progress` of [`RewardTerms`] carry the drop-outside
/// penalty and the lift term.
pub fn compute(
    cfg: &super::RewardConfig,
    state: &mut super::reward::RewardState,
    input: &super::reward::RewardInput,
    place: &PlaceInput,
) -> RewardTerms {
    let p = &cfg.place;
    let s = &place.state;
    let t = &place.target;
    let height = (s.cube.z - s.rest_z).max(0.0);
    let up = (height / p.carry_height_m).min(1.0);
    let placed = s.placed(t);
    let mut r = RewardTerms {
        reach: if placed {
            cfg.reach_weight
        } else {
            cfg.reach_weight * (1.0 - (cfg.reach_scale * input.tcp_cube_dist).tanh())
        },
        ..RewardTerms::default()
    };
    if input.cube_z < cfg.push_down_below_m {
        r.push_down = -(cfg.push_down_below_m - input.cube_z) * cfg.push_down_per_m;
    }
    if super::reward::grasp_lost(cfg, state, input.grasping) && !s.on_target(t) {
        r.drop = -p.drop_outside_penalty;
    }
    let lifted = height > p.lifted_above_m;
    if input.grasping {
        r.grasp = cfg.grasp_bonus;
        r.lift_progress = p.lift_weight * up;
        if lifted {
            r.carry = p.carry_weight * (1.0 - (p.carry_scale * s.target_distance()).tanh());
        }
        if s.on_target(t) {
            r.lower = p.lower_weight * (1.0 - up);
            r.over_target = p.over_target_bonus;
        }
        if lifted {
            r.action_rate = -cfg.action_rate_weight * super::reward::action_rate(cfg, input);
        }
    }
    if placed {
        r.release = p.release_bonus;
    }
    if !input.grasping && !s.pad_contact && place.cube_speed > p.throw_speed_mps {
        r.throw = -p.throw_penalty;
    }
    if input.success {
        r.success = cfg.success_bonus;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::super::RewardConfig;
    use super::super::reward::{RewardInput, RewardState};
    use super::*;

    const REST: f64 = 0.015;

    fn state(cube: [f64; 3], gripper_q: f64, pad_contact: bool, tilt_deg: f64) -> PlaceState {
        PlaceState {
            cube: Vector3::from(cube),
            rest_z: REST,
            tilt_deg,
            target: [0.30, 0.10],
            gripper_q,
            pad_contact,
        }
    }

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

    fn input(tcp_cube: f64, grasping: bool, success: bool, s: PlaceState) -> RewardInput {
        RewardInput {
            tcp_cube_dist: tcp_cube,
            cube_z: s.cube.z,
            grasping,
            success,
            action: [0.5, 0.0, 0.0, -1.0],
            prev_action: [0.0; 4],
            lift_height_m: 0.08,
        }
    }

    fn place_terms(
        grasping: bool,
        success: bool,
        s: PlaceState,
        speed: f64,
        st: &mut RewardState,
    ) -> RewardTerms {
        let cfg = RewardConfig::place_v1();
        let place = PlaceInput {
            state: s,
            target: TargetConfig::default(),
            cube_speed: speed,
        };
        compute(&cfg, st, &input(0.01, grasping, success, s), &place)
    }

    /// Worked values with the shipped weights (configs/rewards/place_v1.toml = `place_v1`).
    #[test]
    fn place_reward_worked_values() {
        let reach = 1.0 - (0.1f64).tanh(); // 0.900332
        // Carrying 3 cm up, 10 cm from the target.
        let s = state([0.30, 0.0, REST + 0.03], 0.1, true, 0.0);
        let r = place_terms(true, false, s, 0.1, &mut RewardState::default());
        assert!((r.reach - reach).abs() < 1e-12);
        assert_eq!(r.grasp, 0.25);
        assert!((r.lift_progress - 0.6).abs() < 1e-12);
        assert!((r.carry - (1.0 - 1f64.tanh())).abs() < 1e-12); // 0.238406
        assert_eq!(r.lower, 0.0);
        assert!((r.action_rate - -0.0125).abs() < 1e-12);
        assert!((r.total() - 1.976238).abs() < 1e-6, "{}", r.total());
        // Over the target, 1.5 cm up: lift 0.3 + lower 0.7, carry = 1.
        let s = state([0.30, 0.10, REST + 0.015], 0.1, true, 0.0);
        let r = place_terms(true, false, s, 0.0, &mut RewardState::default());
        assert!((r.lift_progress + r.lower - 1.0).abs() < 1e-12);
        assert!((r.lower - 0.7).abs() < 1e-12 && r.carry == 1.0);
        assert_eq!(r.over_target, 0.0, "place_v1 has no over-target bonus");
        // place_v4's bonus, there: 1 per step, grasped inside the radius only.
        let v4 = RewardConfig {
            place: PlaceRewardConfig {
                over_target_bonus: 1.0,
                ..PlaceRewardConfig::default()
            },
            ..RewardConfig::place_v1()
        };
        let place = PlaceInput {
            state: s,
            target: TargetConfig::default(),
            cube_speed: 0.0,
        };
        let i = input(0.01, true, false, s);
        let t = compute(&v4, &mut RewardState::default(), &i, &place);
        assert_eq!(t.over_target, 1.0);
        let outside = PlaceInput {
            state: state([0.30, 0.125, REST + 0.015], 0.1, true, 0.0),
            ..place
        };
        let t = compute(&v4, &mut RewardState::default(), &i, &outside);
        assert_eq!((t.over_target, t.lower), (0.0, 0.0));
        // Placed, on the success step: reach in full, release, success.
        let s = state([0.31, 0.10, REST], 0.9, false, 0.0);
        let r = place_terms(false, true, s, 0.0, &mut RewardState::default());
        assert_eq!((r.reach, r.release, r.success), (1.0, 5.0, 10.0));
        assert_eq!(r.total(), 16.0);
        // Grasp lost (for the third step: place_v1 debounces 3) 10 cm from the target: the drop
        // penalty; a fast free cube: thrown.
        let mut st = RewardState {
            steps_since_grasp: Some(2),
        };
        let s = state([0.30, 0.0, REST + 0.03], 0.5, false, 0.0);
        let r = place_terms(false, false, s, 0.8, &mut st);
        assert_eq!((r.drop, r.throw), (-2.0, -1.0));
        // Let go over the target: no drop penalty.
        let mut st = RewardState {
            steps_since_grasp: Some(2),
        };
        let s = state([0.30, 0.10, REST + 0.002], 0.5, false, 0.0);
        assert_eq!(place_terms(false, false, s, 0.1, &mut st).drop, 0.0);
    }
}
