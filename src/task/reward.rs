//! The staged lift reward, versioned by `RewardConfig`, reported term by term.

use serde::{Deserialize, Serialize};

use super::config::RewardConfig;

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

/// Advances the drop debounce; true on the step the drop penalty fires.
pub(super) fn grasp_lost(cfg: &RewardConfig, state: &mut RewardState, grasping: bool) -> bool {
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
pub(super) fn action_rate(cfg: &RewardConfig, input: &RewardInput) -> f64 {
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
    place: Option<&super::place::PlaceInput>,
) -> RewardTerms {
    match (cfg.function, place) {
        (RewardFunction::StagedPlace, Some(p)) => super::place::compute(cfg, state, input, p),
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
