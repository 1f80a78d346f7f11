//! Training checkpoints: every tensor of the learner (networks, targets, entropy coefficient,
//! Adam moments) plus, as JSON metadata, the step counter, normalisers and RNG states. Written
//! atomically, so a run killed mid-write keeps its previous checkpoint.

use std::path::{Path, PathBuf};

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::nets::Adam;
use super::normalize::{ObsNormalizer, RewardScaler};
use super::rng::Noise;
use super::tensors::{self, TensorFile};
use super::{Sac, SacConfig};

/// Format tag of checkpoints.
pub const CHECKPOINT_FORMAT: &str = "so101-lab-checkpoint";

/// Non-tensor training state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainState {
    /// Always [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// Format version.
    pub version: u32,
    /// The hyperparameters of the run.
    pub config: SacConfig,
    /// Env steps taken.
    pub step: usize,
    /// Episodes finished.
    pub episodes: usize,
    /// Gradient updates done.
    pub updates: usize,
    /// Adam step counters (actor, critic, alpha).
    pub adam_t: [i64; 3],
    /// Observation normaliser.
    pub obs_norm: ObsNormalizer,
    /// Reward scaler.
    pub reward_scaler: RewardScaler,
    /// Replay-sampling RNG.
    pub sample_rng: ChaCha8Rng,
    /// Exploration RNG (random actions before learning starts).
    pub action_rng: ChaCha8Rng,
    /// Policy noise RNG.
    pub noise: Noise,
    /// Best evaluation success rate so far.
    pub best_success: f64,
}

/// Why a checkpoint could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading failed.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Corrupt, truncated, or not a checkpoint.
    #[error("checkpoint {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn named_adam(prefix: &str, opt: &Adam, out: &mut Vec<(String, Tensor)>) {
    for (k, (m, v)) in opt.m().iter().zip(opt.v()).enumerate() {
        out.push((format!("{prefix}.m.{k}"), m.shallow_clone()));
        out.push((format!("{prefix}.v.{k}"), v.shallow_clone()));
    }
}

fn named_layers(prefix: &str, layers: &[(Tensor, Tensor)], out: &mut Vec<(String, Tensor)>) {
    for (k, (w, b)) in layers.iter().enumerate() {
        out.push((format!("{prefix}.{k}.weight"), w.shallow_clone()));
        out.push((format!("{prefix}.{k}.bias"), b.shallow_clone()));
    }
}

/// Every tensor of the learner, by name.
fn all_tensors(sac: &Sac) -> Vec<(String, Tensor)> {
    let mut out = Vec::new();
    named_layers("actor", &sac.actor.layers, &mut out);
    named_layers("critic", &sac.critic.layers, &mut out);
    named_layers("critic_target", &sac.critic_target.layers, &mut out);
    out.push(("log_alpha".into(), sac.log_alpha.shallow_clone()));
    named_adam("actor_opt", &sac.actor_opt, &mut out);
    named_adam("critic_opt", &sac.critic_opt, &mut out);
    if let Some(opt) = &sac.alpha_opt {
        named_adam("alpha_opt", opt, &mut out);
    }
    out
}

/// Writes `dir/checkpoint.safetensors` atomically.
pub fn save(dir: &Path, sac: &Sac, state: &TrainState) -> std::io::Result<PathBuf> {
    let path = dir.join("checkpoint.safetensors");
    let meta = serde_json::to_string(state).map_err(std::io::Error::other)?;
    tensors::save(&path, &all_tensors(sac), &meta)?;
    Ok(path)
}

/// A learner rebuilt from a checkpoint for inference (on the CPU): networks, critics, entropy
/// coefficient, and the train state (with the observation normaliser).
pub fn load_learner(
    path: &Path,
    obs_dim: usize,
    act_dim: usize,
) -> Result<(Sac, TrainState), CheckpointError> {
    let bytes = read(path)?;
    let mut file = TensorFile::parse(&bytes).map_err(|e| invalid(path, e.to_string()))?;
    let state = parse_state(&file, path)?;
    let mut cfg = state.config.clone();
    cfg.device = "cpu".into();
    let mut sac = Sac::new(obs_dim, act_dim, &cfg);
    let state = restore(&mut file, path, state, &mut sac)?;
    Ok((sac, state))
}

/// Reads a checkpoint's state and copies its tensors into `sac` (built with the same config).
pub fn load_into(path: &Path, sac: &mut Sac) -> Result<TrainState, CheckpointError> {
    let bytes = read(path)?;
    let mut file = TensorFile::parse(&bytes).map_err(|e| invalid(path, e.to_string()))?;
    let state = parse_state(&file, path)?;
    restore(&mut file, path, state, sac)
}

fn read(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    std::fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_owned(),
        source,
    })
}

fn invalid(path: &Path, message: String) -> CheckpointError {
    CheckpointError::Invalid {
        path: path.to_owned(),
        message,
    }
}

/// The JSON metadata, checked to be a checkpoint's.
fn parse_state(file: &TensorFile, path: &Path) -> Result<TrainState, CheckpointError> {
    let state: TrainState = serde_json::from_str(&file.meta_json)
        .map_err(|e| invalid(path, format!("metadata: {e}")))?;
    if state.format != CHECKPOINT_FORMAT {
        return Err(invalid(path, format!("not a {CHECKPOINT_FORMAT} file")));
    }
    Ok(state)
}

/// Copies the file's tensors into `sac` and restores optimiser counters and noise.
fn restore(
    file: &mut TensorFile,
    path: &Path,
    state: TrainState,
    sac: &mut Sac,
) -> Result<TrainState, CheckpointError> {
    let invalid = |message: String| invalid(path, message);
    let targets = all_tensors(sac);
    tch::no_grad(|| -> Result<(), CheckpointError> {
        for (name, dst) in &targets {
            let src = file
                .take(name, &dst.size())
                .map_err(|e| invalid(e.to_string()))?;
            dst.shallow_clone().copy_(&src);
        }
        Ok(())
    })?;
    sac.actor_opt.t = state.adam_t[0];
    sac.critic_opt.t = state.adam_t[1];
    if let Some(opt) = &mut sac.alpha_opt {
        opt.t = state.adam_t[2];
    }
    sac.noise = state.noise.clone();
    Ok(state)
}
