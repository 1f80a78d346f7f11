//! The episode file format, version 1: JSON Lines. Line 1 is the header (format tag, version,
//! config identity and full config texts, seed, reset mode, layouts, initial state); every
//! further line is one step. Written line by line and flushed, so a crash keeps every complete
//! step; floats use serde_json's shortest round-trip form, so states reload bit for bit.

use serde::{Deserialize, Serialize};

use crate::sim::SimState;
use crate::task::{DrSample, EnvControllerState, ImageSpec, ResetMode, StepInfo};

/// Value of the header's `format` field.
pub const FORMAT_TAG: &str = "so101-lab-episode";
/// The version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Identity of the configs an episode was recorded with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigIdentity {
    /// SHA-256 over the three config texts below (hex).
    pub hash: String,
    /// The scene config, as TOML.
    pub scene_toml: String,
    /// The task config, as TOML.
    pub task_toml: String,
    /// The reward config, as TOML.
    pub reward_toml: String,
}

/// First line of an episode file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeHeader {
    /// Always [`FORMAT_TAG`].
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Program that wrote the file.
    pub writer: String,
    /// Config identity and texts.
    pub config: ConfigIdentity,
    /// Reset seed of the episode.
    pub seed: u64,
    /// Reset mode.
    pub reset_mode: ResetMode,
    /// Who acted (e.g. `scripted`, `random`, `policy:<file>`, `teleop`).
    pub policy: String,
    /// Names of the `qpos` elements (joint name, with `/x`, `/qw`, ... for free joints).
    pub qpos_names: Vec<String>,
    /// Names of the `qvel` elements.
    pub qvel_names: Vec<String>,
    /// Observation element names.
    pub obs_names: Vec<String>,
    /// Action element names.
    pub action_names: Vec<String>,
    /// Reward term names, in `terms` order.
    pub reward_terms: Vec<String>,
    /// Physics state right after reset (`mjSTATE_INTEGRATION`).
    pub initial_state: SimState,
    /// Env state beyond physics right after reset.
    pub initial_controller: EnvControllerState,
    /// Observation right after reset.
    pub initial_obs: Vec<f64>,
    /// Privileged flags of the observation elements (empty in files written before them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obs_privileged: Vec<bool>,
    /// Image observation settings (the images themselves are re-rendered on replay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSpec>,
    /// The episode's domain randomisation sample: replays apply it before restoring states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dr: Option<DrSample>,
    /// Fingerprint of the image observation right after reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_pixels_sha: Option<String>,
    /// What drew the images (`cpu: ...` or `gpu: <adapter>`): fingerprints are bitwise per
    /// backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render_backend: Option<String>,
}

/// Optional outputs of the acting policy, for plots.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyOutputs {
    /// Mean of the action distribution (pre-squash for SAC).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mean: Vec<f64>,
    /// Standard deviation per action dimension.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub std: Vec<f64>,
    /// Q values of the critics for the taken action.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub q: Vec<f64>,
    /// Entropy coefficient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
}

/// One recorded step: what was done and everything that resulted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeStep {
    /// Simulation time after the step, seconds.
    pub time: f64,
    /// The action applied.
    pub action: [f64; 4],
    /// Full physics state after the step.
    pub state: SimState,
    /// Joint positions (all of `qpos`) after the step.
    pub qpos: Vec<f64>,
    /// Joint velocities (all of `qvel`).
    pub qvel: Vec<f64>,
    /// Servo targets applied during the step.
    pub ctrl: Vec<f64>,
    /// Observation after the step.
    pub obs: Vec<f64>,
    /// Step reward.
    pub reward: f64,
    /// Terminal state.
    pub terminated: bool,
    /// Truncated.
    pub truncated: bool,
    /// Reward terms, flags, poses.
    pub info: StepInfo,
    /// What the policy computed, if it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyOutputs>,
    /// Fingerprint (SHA-256, first 16 hex digits) of the image observation after the step, so a
    /// re-render can be checked bit for bit without storing images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixels_sha: Option<String>,
}

/// The fingerprint stored in episodes for an image observation.
pub fn pixels_sha(pixels: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(pixels)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}
