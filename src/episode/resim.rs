//! Re-simulating a recording: rebuild the recorded scene and task from the header, restore the
//! initial state, replay the actions, and compare every state bit for bit.

use std::path::Path;

use super::{Episode, EpisodeError};
use crate::config::SceneConfig;
use crate::task::{LiftEnv, RewardConfig, TaskConfig};

/// Result of a re-simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct ResimReport {
    /// Steps replayed.
    pub steps: usize,
    /// First step whose state differed from the recording (bitwise), if any.
    pub first_divergence: Option<usize>,
}

/// Replays `episode`'s actions from its initial state in a scene rebuilt from its header.
pub fn resimulate(episode: &Episode, path: &Path) -> Result<ResimReport, EpisodeError> {
    let cfg_err = |message: String| EpisodeError::Config {
        path: path.to_owned(),
        message,
    };
    let c = &episode.header.config;
    let scene_cfg: SceneConfig =
        toml::from_str(&c.scene_toml).map_err(|e| cfg_err(e.to_string()))?;
    let task: TaskConfig = toml::from_str(&c.task_toml).map_err(|e| cfg_err(e.to_string()))?;
    let reward: RewardConfig =
        toml::from_str(&c.reward_toml).map_err(|e| cfg_err(e.to_string()))?;
    let scene = crate::scene::build(&scene_cfg).map_err(|e| cfg_err(e.to_string()))?;
    let mut env = LiftEnv::new(scene, task, reward);
    env.restore(
        &episode.header.initial_state,
        &episode.header.initial_controller,
    )
    .map_err(|e| cfg_err(e.to_string()))?;
    let mut first_divergence = None;
    for (i, step) in episode.steps.iter().enumerate() {
        env.step(&step.action);
        let now = env.sim().save_state();
        let same = now.values.len() == step.state.values.len()
            && now
                .values
                .iter()
                .zip(&step.state.values)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if !same && first_divergence.is_none() {
            first_divergence = Some(i);
        }
    }
    Ok(ResimReport {
        steps: episode.steps.len(),
        first_divergence,
    })
}
