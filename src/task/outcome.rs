//! What a step of the lift env returns, its timings, and the env state outside MuJoCo's.

use serde::{Deserialize, Serialize};

use super::reward::{RewardState, RewardTerms};

/// Per-step diagnostics (Gymnasium's `info`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepInfo {
    /// Steps taken in this episode (1 after the first step).
    pub step: usize,
    /// Every reward term.
    pub reward_terms: RewardTerms,
    /// The grasp predicate.
    pub grasping: bool,
    /// Static pad touches the cube.
    pub static_pad_contact: bool,
    /// Moving pad touches the cube.
    pub moving_pad_contact: bool,
    /// Cube centre, world.
    pub cube_pos: [f64; 3],
    /// Cube orientation (w, x, y, z).
    pub cube_quat: [f64; 4],
    /// TCP position, world.
    pub tcp_pos: [f64; 3],
    /// TCP orientation (w, x, y, z).
    pub tcp_quat: [f64; 4],
    /// The IK target the action produced, world.
    pub ik_target: [f64; 3],
    /// Consecutive grasped-and-lifted steps.
    pub hold_count: usize,
    /// Success on this step.
    pub success: bool,
    /// MuJoCo flagged instability (the step was cut short; reset the episode).
    pub unstable: bool,
    /// The place goal's state (tasks with `[target]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<PlaceInfo>,
}

/// Where the cube stands against the place target, after a step.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PlaceInfo {
    /// The target on the table, world.
    pub target_pos: [f64; 3],
    /// Cube centre to target in x/y, metres.
    pub target_distance_m: f64,
    /// Inside the success radius.
    pub on_target: bool,
    /// Resting upright on the table.
    pub resting: bool,
    /// Gripper open and neither pad touching the cube.
    pub released: bool,
    /// The cube has been carried (grasped and lifted) this episode.
    pub carried: bool,
}

/// Where step time went, accumulated since the last [`TaskEnv::take_timings`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct EnvTimings {
    /// Steps measured.
    pub steps: usize,
    /// MuJoCo substeps.
    pub physics: std::time::Duration,
    /// Action mapping and the IK step.
    pub ik: std::time::Duration,
    /// Grasp predicate, reward, observation, info (rendering excluded).
    pub obs_reward: std::time::Duration,
    /// Rendering the image observation (tasks with `[obs.image]`).
    pub render: std::time::Duration,
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Observation after the step.
    pub obs: Vec<f64>,
    /// Sum of the reward terms.
    pub reward: f64,
    /// A terminal state (success): do not bootstrap.
    pub terminated: bool,
    /// Cut by the time limit or instability: bootstrap from `obs`.
    pub truncated: bool,
    /// Diagnostics.
    pub info: StepInfo,
    /// The stacked image observation after the step (tasks with `[obs.image]`).
    pub pixels: Option<Vec<u8>>,
}

/// An IK solution shown before it is applied: joints, residual errors and every geom's pose.
#[derive(Debug, Clone, PartialEq)]
pub struct IkPreview {
    /// The solution (joints, errors, convergence).
    pub solution: crate::kinematics::IkSolution,
    /// World position of every geom at the solution.
    pub geom_pos: Vec<[f64; 3]>,
    /// World orientation of every geom at the solution, row-major.
    pub geom_mat: Vec<[f64; 9]>,
}

/// Env state that is not in MuJoCo's state vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvControllerState {
    /// TCP target.
    pub target: [f64; 3],
    /// Gripper servo target.
    pub gripper_ctrl: f64,
    /// Previous action.
    pub prev_action: [f64; 4],
    /// Steps taken.
    pub steps: usize,
    /// Consecutive lifted-and-grasped steps.
    pub hold: usize,
    /// Drop-debounce memory.
    pub reward_state: RewardState,
    /// Actions waiting out the action latency, oldest first (empty without latency).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_actions: Vec<[f64; 4]>,
    /// The place target (x, y), for tasks with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<[f64; 2]>,
    /// The cube has been carried this episode (place tasks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carried: bool,
}
