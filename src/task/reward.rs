//! Reward versions (`RewardConfig`, `configs/rewards/*.toml`) and the staged lift and place
//! rewards they select, reported term by term.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::place::{PlaceInput, PlaceRewardConfig};
use crate::config::{Check, ConfigError, FieldError};

/// Everything one reward evaluation needs, measured after the step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RewardInput {
    /// |TCP - cube centre|, metres.
    pub tcp_cube_dist: f64,
    /// Cube centre height, metres.
    pub cube_z: f64,
    /// The grasp predicate now.
    pub grasping: bool,
    /// Success on this step.
    pub success: bool,
    /// This step's action.
    pub action: [f64; 4],
    /// The previous action (zeros at the first step).
    pub prev_action: [f64; 4],
    /// Cube height that counts as lifted (task config), metres.
    pub lift_height_m: f64,
}

/// Every term of one step's reward.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RewardTerms {
    /// 1 - tanh(scale * distance), weighted.
    pub reach: f64,
    /// Penalty for pushing the cube into the floor.
    pub push_down: f64,
    /// Penalty for losing the grasp.
    pub drop: f64,
    /// Bonus while grasping.
    pub grasp: f64,
    /// Lift progress while grasping.
    pub lift_progress: f64,
    /// Cube above the binary lift height.
    pub binary_lift: f64,
    /// Cube above the lift height.
    pub target: f64,
    /// Action-rate penalty once lifted.
    pub action_rate: f64,
    /// Success bonus.
    pub success: f64,
    /// Place: carrying toward the target (0 in lift rewards; absent in older episode files).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub carry: f64,
    /// Place: lowering over the target.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lower: f64,
    /// Place: the cube rests on the target, released.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub release: f64,
    /// Place: penalty for a free cube moving fast (thrown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throw: f64,
    /// Place: bonus while the grasped cube is inside the target's radius.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub over_target: f64,
}

impl RewardTerms {
    /// Term names, in [`RewardTerms::values`] order (metric names use `reward/<name>`). Each
    /// reward function reports a subset: [`RewardFunction::term_names`].
    pub const NAMES: [&'static str; 14] = [
        "reach",
        "push_down",
        "drop",
        "grasp",
        "lift_progress",
        "binary_lift",
        "target",
        "action_rate",
        "success",
        "carry",
        "lower",
        "release",
        "throw",
        "over_target",
    ];

    /// Term values in [`RewardTerms::NAMES`] order.
    pub fn values(&self) -> [f64; 14] {
        [
            self.reach,
            self.push_down,
            self.drop,
            self.grasp,
            self.lift_progress,
            self.binary_lift,
            self.target,
            self.action_rate,
            self.success,
            self.carry,
            self.lower,
            self.release,
            self.throw,
            self.over_target,
        ]
    }

    /// The step's reward: the sum of every term.
    pub fn total(&self) -> f64 {
        self.values().iter().sum()
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The per-episode memory a reward needs (drop debounce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RewardState {
    /// Steps since the grasp was last seen; `None` before any grasp and after the drop fired.
    pub steps_since_grasp: Option<usize>,
}

/// The reward functions a reward version can name (`function = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardFunction {
    /// The staged lift reward (V11 and its variants).
    #[default]
    StagedLift,
    /// The staged place reward: lift's reach and grasp, then carry, lower, release.
    StagedPlace,
}

impl RewardFunction {
    /// The name used in config files.
    pub fn name(self) -> &'static str {
        match self {
            Self::StagedLift => "staged_lift",
            Self::StagedPlace => "staged_place",
        }
    }

    /// The terms this function reports, by name (a subset of [`RewardTerms::NAMES`]).
    pub fn term_names(self) -> &'static [&'static str] {
        match self {
            Self::StagedLift => &RewardTerms::NAMES[..9],
            Self::StagedPlace => &[
                "reach",
                "push_down",
                "drop",
                "grasp",
                "lift_progress",
                "carry",
                "lower",
                "over_target",
                "release",
                "throw",
                "action_rate",
                "success",
            ],
        }
    }
}

/// One version of the staged lift reward. V11 (the reference) is the default; each of its
/// known flaws has a switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardConfig {
    /// Name shown in logs and episode files.
    pub name: String,
    /// The reward function, by name (`staged_lift`, `staged_place`).
    pub function: RewardFunction,
    /// Weights of the place function (`[place]`; unused by `staged_lift`).
    #[serde(skip_serializing_if = "is_lift")]
    pub place: PlaceRewardConfig,
    /// Weight of the reach term 1 - tanh(scale * |TCP - cube|).
    pub reach_weight: f64,
    /// Distance scale of the reach term, 1/m.
    pub reach_scale: f64,
    /// Cube height below which the push-down penalty applies, metres.
    pub push_down_below_m: f64,
    /// Penalty per metre below that height.
    pub push_down_per_m: f64,
    /// Penalty when the grasp is lost.
    pub drop_penalty: f64,
    /// Steps without a grasp before the drop penalty fires (1 = V11: on the first step).
    pub drop_debounce_steps: usize,
    /// Bonus per grasping step.
    pub grasp_bonus: f64,
    /// Weight of lift progress (z - from) / (lift height - from) while grasping.
    pub lift_progress_weight: f64,
    /// Cube height where lift progress starts (the resting centre of the 3 cm cube), metres.
    pub lift_progress_from_m: f64,
    /// Cap lift progress at the lift height (V11: uncapped, pays overshoot).
    pub cap_lift_progress: bool,
    /// Cube height of the binary lift bonus, metres.
    pub binary_lift_above_m: f64,
    /// Binary lift bonus.
    pub binary_lift_bonus: f64,
    /// Bonus above the lift height.
    pub target_bonus: f64,
    /// Pay the height bonuses only while grasping (V11: no, so a pushed or tilted cube earns).
    pub gate_height_bonuses_on_grasp: bool,
    /// Cube height above which the action-rate penalty applies, metres.
    pub action_rate_above_m: f64,
    /// Weight of the action-rate penalty |a_t - a_(t-1)|^2.
    pub action_rate_weight: f64,
    /// Leave the gripper out of the action-rate penalty (V11: included).
    pub action_rate_excludes_gripper: bool,
    /// Bonus on the success step.
    pub success_bonus: f64,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            name: "v11".into(),
            function: RewardFunction::StagedLift,
            place: PlaceRewardConfig::default(),
            reach_weight: 1.0,
            reach_scale: 10.0,
            push_down_below_m: 0.01,
            push_down_per_m: 50.0,
            drop_penalty: 2.0,
            drop_debounce_steps: 1,
            grasp_bonus: 0.25,
            lift_progress_weight: 2.0,
            lift_progress_from_m: 0.015,
            cap_lift_progress: false,
            binary_lift_above_m: 0.02,
            binary_lift_bonus: 1.0,
            target_bonus: 1.0,
            gate_height_bonuses_on_grasp: false,
            action_rate_above_m: 0.06,
            action_rate_weight: 0.01,
            action_rate_excludes_gripper: false,
            success_bonus: 10.0,
        }
    }
}

fn is_lift(place: &PlaceRewardConfig) -> bool {
    *place == PlaceRewardConfig::default()
}

impl RewardConfig {
    /// The first place reward version (`configs/rewards/place_v1.toml`): V11's reach, grasp,
    /// push-down, action-rate and success terms, a drop debounce of 3 steps, and the place terms
    /// at their defaults.
    pub fn place_v1() -> Self {
        Self {
            name: "place_v1".into(),
            function: RewardFunction::StagedPlace,
            drop_debounce_steps: 3,
            ..Self::default()
        }
    }

    /// Loads and validates a reward version file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::config::load_toml(path, Self::validate)
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), FieldError> {
        for (field, v) in [
            ("reach_weight", self.reach_weight),
            ("push_down_per_m", self.push_down_per_m),
            ("drop_penalty", self.drop_penalty),
            ("grasp_bonus", self.grasp_bonus),
            ("lift_progress_weight", self.lift_progress_weight),
            ("binary_lift_bonus", self.binary_lift_bonus),
            ("target_bonus", self.target_bonus),
            ("action_rate_weight", self.action_rate_weight),
            ("success_bonus", self.success_bonus),
        ] {
            Check::range(field, v, 0.0, 1000.0)?;
        }
        Check::range("reach_scale", self.reach_scale, 0.0, 1000.0)?;
        Check::range("push_down_below_m", self.push_down_below_m, 0.0, 0.1)?;
        Check::range("lift_progress_from_m", self.lift_progress_from_m, 0.0, 0.3)?;
        Check::range("binary_lift_above_m", self.binary_lift_above_m, 0.0, 0.5)?;
        Check::range("action_rate_above_m", self.action_rate_above_m, 0.0, 0.5)?;
        Check::int_range(
            "drop_debounce_steps",
            self.drop_debounce_steps as i64,
            1,
            1000,
        )?;
        self.place.validate("place.")
    }
}

/// Advances the drop debounce; true on the step the drop penalty fires.
fn grasp_lost(cfg: &RewardConfig, state: &mut RewardState, grasping: bool) -> bool {
    if grasping {
        state.steps_since_grasp = Some(0);
    } else if let Some(s) = state.steps_since_grasp {
        let s = s + 1;
        if s >= cfg.drop_debounce_steps {
            state.steps_since_grasp = None;
            return true;
        }
        state.steps_since_grasp = Some(s);
    }
    false
}

/// |a_t - a_(t-1)|^2, the gripper left out when the version says so.
fn action_rate(cfg: &RewardConfig, input: &RewardInput) -> f64 {
    let dims = if cfg.action_rate_excludes_gripper {
        3
    } else {
        4
    };
    (0..dims)
        .map(|i| (input.action[i] - input.prev_action[i]).powi(2))
        .sum()
}

/// Evaluates one step with the version's reward function and advances the reward state. The
/// place function needs `place`; without it (a task with no target) the lift function runs.
pub fn compute(
    cfg: &RewardConfig,
    state: &mut RewardState,
    input: &RewardInput,
    place: Option<&PlaceInput>,
) -> RewardTerms {
    match (cfg.function, place) {
        (RewardFunction::StagedPlace, Some(p)) => compute_place(cfg, state, input, p),
        _ => compute_lift(cfg, state, input),
    }
}

/// The staged lift reward.
fn compute_lift(cfg: &RewardConfig, state: &mut RewardState, input: &RewardInput) -> RewardTerms {
    let z = input.cube_z;
    let mut t = RewardTerms {
        reach: cfg.reach_weight * (1.0 - (cfg.reach_scale * input.tcp_cube_dist).tanh()),
        ..RewardTerms::default()
    };
    if z < cfg.push_down_below_m {
        t.push_down = -(cfg.push_down_below_m - z) * cfg.push_down_per_m;
    }
    if grasp_lost(cfg, state, input.grasping) {
        t.drop = -cfg.drop_penalty;
    }
    if input.grasping {
        t.grasp = cfg.grasp_bonus;
        let span = (input.lift_height_m - cfg.lift_progress_from_m).max(1e-9);
        let mut progress = (z - cfg.lift_progress_from_m).max(0.0) / span;
        if cfg.cap_lift_progress {
            progress = progress.min(1.0);
        }
        t.lift_progress = cfg.lift_progress_weight * progress;
    }
    let bonus_allowed = input.grasping || !cfg.gate_height_bonuses_on_grasp;
    if bonus_allowed && z > cfg.binary_lift_above_m {
        t.binary_lift = cfg.binary_lift_bonus;
    }
    if bonus_allowed && z > input.lift_height_m {
        t.target = cfg.target_bonus;
    }
    if z > cfg.action_rate_above_m {
        t.action_rate = -cfg.action_rate_weight * action_rate(cfg, input);
    }
    if input.success {
        t.success = cfg.success_bonus;
    }
    t
}

/// The staged place reward for one step: reach, grasp, lift (capped at the carry height), carry
/// toward the target, lower over it, release on it, and penalties for a drop outside the target
/// and for a thrown cube. `drop` and `lift_progress` of [`RewardTerms`] carry the drop-outside
/// penalty and the lift term.
pub fn compute_place(
    cfg: &RewardConfig,
    state: &mut RewardState,
    input: &RewardInput,
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
    if grasp_lost(cfg, state, input.grasping) && !s.on_target(t) {
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
            r.action_rate = -cfg.action_rate_weight * action_rate(cfg, input);
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
    use super::*;

    fn input(dist: f64, z: f64, grasping: bool, success: bool, action: [f64; 4]) -> RewardInput {
        RewardInput {
            tcp_cube_dist: dist,
            cube_z: z,
            grasping,
            success,
            action,
            prev_action: [0.0; 4],
            lift_height_m: 0.08,
        }
    }

    /// The six worked values of the reference (shared/spec/lift_task.md).
    #[test]
    fn v11_worked_values() {
        let cfg = RewardConfig::default();
        // (dist, z, grasping, was grasping, success, action, expected)
        type Row = (f64, f64, bool, bool, bool, [f64; 4], f64);
        let rows: [Row; 6] = [
            (0.0386, 0.015, false, false, false, [0.0; 4], 0.632093),
            (0.035, 0.005, false, false, false, [0.0; 4], 0.413624),
            (0.036, 0.016, true, false, false, [0.0; 4], 0.935555),
            (0.036, 0.016, false, true, false, [0.0; 4], -1.345214),
            (
                0.036,
                0.07,
                true,
                true,
                false,
                [1.0, 0.0, 0.0, -1.0],
                3.577094,
            ),
            (
                0.036,
                0.10,
                true,
                true,
                true,
                [0.0, 0.0, 0.5, -1.0],
                15.507671,
            ),
        ];
        for (dist, z, grasping, was, success, action, expected) in rows {
            let mut state = RewardState {
                steps_since_grasp: was.then_some(0),
            };
            let r = compute(
                &cfg,
                &mut state,
                &input(dist, z, grasping, success, action),
                None,
            )
            .total();
            assert!(
                (r - expected).abs() < 5e-6,
                "dist {dist} z {z}: {r} != {expected}"
            );
        }
    }

    #[test]
    fn switches_fix_the_known_flaws() {
        let v11 = RewardConfig::default();
        let fixed = RewardConfig {
            cap_lift_progress: true,
            gate_height_bonuses_on_grasp: true,
            action_rate_excludes_gripper: true,
            drop_debounce_steps: 3,
            ..RewardConfig::default()
        };
        // Overshoot: V11 pays more at 0.2 m than at 0.08 m; capped does not.
        let hi = input(0.03, 0.2, true, false, [0.0; 4]);
        let at = input(0.03, 0.0801, true, false, [0.0; 4]);
        let lift =
            |c: &RewardConfig, i| compute(c, &mut RewardState::default(), i, None).lift_progress;
        assert!(lift(&v11, &hi) > lift(&v11, &at) + 1.0);
        assert!((lift(&fixed, &hi) - lift(&fixed, &at)).abs() < 0.01);
        // A cube tilted or pushed up without a grasp earns height bonuses only in V11.
        let pushed = input(0.05, 0.09, false, false, [0.0; 4]);
        let t = compute(&v11, &mut RewardState::default(), &pushed, None);
        assert_eq!((t.binary_lift, t.target), (1.0, 1.0));
        let t = compute(&fixed, &mut RewardState::default(), &pushed, None);
        assert_eq!((t.binary_lift, t.target), (0.0, 0.0));
        // Gripper twitching costs only in V11.
        let twitch = input(0.03, 0.1, true, false, [0.0, 0.0, 0.0, 1.0]);
        assert!(compute(&v11, &mut RewardState::default(), &twitch, None).action_rate < 0.0);
        assert_eq!(
            compute(&fixed, &mut RewardState::default(), &twitch, None).action_rate,
            0.0
        );
        // A one-step contact flicker: V11 fires the drop, debounced does not.
        let mut s11 = RewardState::default();
        let mut sfx = RewardState::default();
        let mut drops = (0.0, 0.0);
        for grasping in [true, false, true, true, false, false, false, false] {
            let i = input(0.03, 0.05, grasping, false, [0.0; 4]);
            drops.0 += compute(&v11, &mut s11, &i, None).drop;
            drops.1 += compute(&fixed, &mut sfx, &i, None).drop;
        }
        assert_eq!(drops, (-4.0, -2.0));
    }
}

#[cfg(test)]
mod place_tests {
    use super::*;
    use crate::task::place::fixture::{REST, state};
    use crate::task::place::{PlaceState, TargetConfig};

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
        compute_place(&cfg, st, &input(0.01, grasping, success, s), &place)
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
        let t = compute_place(&v4, &mut RewardState::default(), &i, &place);
        assert_eq!(t.over_target, 1.0);
        let outside = PlaceInput {
            state: state([0.30, 0.125, REST + 0.015], 0.1, true, 0.0),
            ..place
        };
        let t = compute_place(&v4, &mut RewardState::default(), &i, &outside);
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
