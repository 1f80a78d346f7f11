//! The policy file: actor weights + observation normaliser + observation/action layout + the
//! env and reward config identity, in one safetensors file. Loading checks all of it; a policy
//! whose layout does not match the env is a clear error, not a silent mis-read.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::nets::Mlp;
use super::normalize::{ObsNormalizer, RunningStats};
use super::tensors::{self, TensorFile};
use crate::episode::ConfigIdentity;

/// Format tag of policy files.
pub const POLICY_FORMAT: &str = "so101-lab-policy";
/// Newest policy format version.
pub const POLICY_VERSION: u32 = 1;

/// Everything about a policy except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyMeta {
    /// Always [`POLICY_FORMAT`].
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Observation element names the actor was trained on.
    pub obs_names: Vec<String>,
    /// Action element names.
    pub action_names: Vec<String>,
    /// Hidden layer sizes.
    pub net_arch: Vec<usize>,
    /// Whether observations are standardised (stats are tensors in the file).
    pub normalize_obs: bool,
    /// Clip of standardised observations.
    pub clip: f64,
    /// Sample count of the normaliser.
    pub obs_count: f64,
    /// Normaliser means (JSON keeps them exact in f64).
    pub obs_mean: Vec<f64>,
    /// Normaliser variances.
    pub obs_var: Vec<f64>,
    /// Scene, task and reward the policy was trained with.
    pub config: ConfigIdentity,
    /// Env steps of training.
    pub trained_steps: usize,
    /// Free-form notes (e.g. the evaluation result).
    pub notes: String,
    /// The image input's layout (pixel policies; absent for state policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<crate::task::ImageSpec>,
    /// The image encoder's shape (pixel policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<super::config::EncoderConfig>,
    /// How it was trained: method, the whole training config, seed, demonstrations, steps
    /// (absent in files written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingRecord>,
    /// The head outputs the action itself (a distilled student) rather than a Gaussian's mean
    /// and log-std (SAC).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deterministic_head: bool,
}

/// How a policy was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// `sac`, `pixel-sac` or `distill`.
    pub method: String,
    /// The training config as TOML: every hyperparameter.
    pub config_toml: String,
    /// Training seed.
    pub seed: u64,
    /// Scripted demonstration episodes used (0: from reward alone).
    pub demos: usize,
    /// Env steps of training.
    pub env_steps: usize,
}

impl TrainingRecord {
    /// A record of `config` (serialised as TOML; empty if it cannot be).
    pub fn of(
        method: &str,
        config: &impl Serialize,
        seed: u64,
        demos: usize,
        env_steps: usize,
    ) -> Self {
        Self {
            method: method.to_owned(),
            config_toml: toml::to_string(config).unwrap_or_default(),
            seed,
            demos,
            env_steps,
        }
    }
}

impl PolicyMeta {
    /// The metadata of a state-input actor: our format and version, the env's action names,
    /// the normaliser's statistics. Pixel policies add `image` and `encoder`.
    pub fn for_actor(
        obs_names: &[String],
        net_arch: &[usize],
        norm: &ObsNormalizer,
        config: ConfigIdentity,
        trained_steps: usize,
        notes: String,
    ) -> Self {
        Self {
            format: POLICY_FORMAT.into(),
            version: POLICY_VERSION,
            obs_names: obs_names.to_vec(),
            action_names: crate::task::obs::ACTION_NAMES
                .iter()
                .map(|n| (*n).to_owned())
                .collect(),
            net_arch: net_arch.to_vec(),
            normalize_obs: norm.enabled,
            clip: norm.clip,
            obs_count: norm.stats.count,
            obs_mean: norm.stats.mean.clone(),
            obs_var: norm.stats.var.clone(),
            config,
            trained_steps,
            notes,
            image: None,
            encoder: None,
            training: None,
            deterministic_head: false,
        }
    }
}

/// Errors unless `found` (an env's observation names) is exactly the layout a policy in `path`
/// was trained on.
pub fn check_obs_layout(
    expected: &[String],
    found: &[String],
    path: &Path,
) -> Result<(), PolicyError> {
    if expected == found {
        Ok(())
    } else {
        Err(PolicyError::LayoutMismatch {
            path: path.to_owned(),
            expected: expected.to_vec(),
            found: found.to_vec(),
        })
    }
}

/// Reads a policy file's tensors and metadata, checking the format tag and version.
pub fn read_policy_file(path: &Path) -> Result<(TensorFile, PolicyMeta), PolicyError> {
    let bytes = std::fs::read(path).map_err(|source| PolicyError::Io {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |message: String| PolicyError::Invalid {
        path: path.to_owned(),
        message,
    };
    let file = TensorFile::parse(&bytes).map_err(|e| invalid(e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(&file.meta_json)
        .map_err(|_| invalid("no so101-lab policy metadata".into()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(POLICY_FORMAT) {
        return Err(invalid(format!("not a {POLICY_FORMAT} file")));
    }
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > u64::from(POLICY_VERSION) {
        return Err(PolicyError::FutureVersion {
            path: path.to_owned(),
            found: u32::try_from(version).unwrap_or(u32::MAX),
        });
    }
    let meta: PolicyMeta = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    Ok((file, meta))
}

/// Checks a policy's normaliser statistics against its observation layout.
pub fn normalizer_of(meta: &PolicyMeta, path: &Path) -> Result<ObsNormalizer, PolicyError> {
    let invalid = |message: &str| PolicyError::Invalid {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let (mean, var) = (meta.obs_mean.clone(), meta.obs_var.clone());
    if mean.len() != meta.obs_names.len() || var.len() != meta.obs_names.len() {
        return Err(invalid(
            "normaliser statistics do not match the observation layout",
        ));
    }
    if mean.iter().chain(&var).any(|v| !v.is_finite()) || var.iter().any(|&v| v < 0.0) {
        return Err(invalid("normaliser statistics are not finite"));
    }
    Ok(ObsNormalizer {
        stats: RunningStats {
            mean,
            var,
            count: meta.obs_count,
        },
        clip: meta.clip,
        enabled: meta.normalize_obs,
    })
}

/// Why a policy could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Reading failed.
    #[error("policy {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Corrupt or not a policy.
    #[error("policy {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Written by a newer so101-lab.
    #[error("policy {path} has format version {found}; this build reads up to {POLICY_VERSION}")]
    FutureVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// The observation layout differs from the env's.
    #[error("policy {path} expects observations {expected:?} but the env provides {found:?}")]
    LayoutMismatch {
        /// The file.
        path: PathBuf,
        /// The policy's layout.
        expected: Vec<String>,
        /// The env's layout.
        found: Vec<String>,
    },
    /// A thread panicked while acting with this policy.
    #[error("the policy was poisoned by a panic in another thread")]
    Poisoned,
    /// The policy reads simulator-only state, but the task is meant for the real robot.
    #[error(
        "policy {path} reads privileged state ({names}), which the real robot cannot measure; \
         the task has `[obs.image] privileged_state = false`"
    )]
    Privileged {
        /// The file.
        path: PathBuf,
        /// The privileged inputs it lists.
        names: String,
    },
}

/// A loaded (or freshly exported) deterministic policy.
#[derive(Debug)]
pub struct Policy {
    /// Metadata.
    pub meta: PolicyMeta,
    actor: Mlp,
    normalizer: ObsNormalizer,
    buf: Vec<f32>,
}

impl Policy {
    /// A policy from an actor and its normaliser.
    pub fn from_parts(meta: PolicyMeta, actor: &Mlp, normalizer: &ObsNormalizer) -> Self {
        let layers = actor
            .layers
            .iter()
            .map(|(w, b)| {
                (
                    w.detach().to_device(tch::Device::Cpu).copy(),
                    b.detach().to_device(tch::Device::Cpu).copy(),
                )
            })
            .collect();
        Self {
            meta,
            actor: Mlp { layers },
            normalizer: normalizer.clone(),
            buf: Vec::new(),
        }
    }

    /// Writes the policy file atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut named: Vec<(String, Tensor)> = Vec::new();
        for (k, (w, b)) in self.actor.layers.iter().enumerate() {
            named.push((format!("actor.{k}.weight"), w.shallow_clone()));
            named.push((format!("actor.{k}.bias"), b.shallow_clone()));
        }
        let meta = serde_json::to_string(&self.meta).map_err(std::io::Error::other)?;
        tensors::save(path, &named, &meta)
    }

    /// Loads and validates a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let (mut file, meta) = read_policy_file(path)?;
        let invalid = |message: String| PolicyError::Invalid {
            path: path.to_owned(),
            message,
        };
        if meta.image.is_some() {
            return Err(invalid(
                "a pixel policy (it reads images): load it as a pixel policy".into(),
            ));
        }
        let obs = meta.obs_names.len() as i64;
        let act = meta.action_names.len() as i64;
        let mut dims = vec![obs];
        dims.extend(meta.net_arch.iter().map(|&h| h as i64));
        dims.push(2 * act);
        let mut layers = Vec::new();
        for (k, w) in dims.windows(2).enumerate() {
            let weight = file
                .take(&format!("actor.{k}.weight"), &[w[0], w[1]])
                .map_err(|e| invalid(e.to_string()))?;
            let bias = file
                .take(&format!("actor.{k}.bias"), &[w[1]])
                .map_err(|e| invalid(e.to_string()))?;
            layers.push((weight, bias));
        }
        let normalizer = normalizer_of(&meta, path)?;
        Ok(Self {
            meta,
            actor: Mlp { layers },
            normalizer,
            buf: Vec::new(),
        })
    }

    /// Errors unless `obs_names` is exactly the layout this policy was trained on.
    /// Refuses a policy that lists a privileged input (the cube pose) for a task that keeps
    /// privileged state out of its observation.
    pub fn check_privileged(
        &self,
        task: &crate::task::TaskConfig,
        path: &Path,
    ) -> Result<(), PolicyError> {
        check_privileged_inputs(&self.meta.obs_names, task, path)
    }

    /// Checks the policy's observation names against the env's.
    pub fn check_layout(&self, obs_names: &[String], path: &Path) -> Result<(), PolicyError> {
        check_obs_layout(&self.meta.obs_names, obs_names, path)
    }

    /// Observation shift, scale (1/std) and clip as f32 tensors (identity when disabled).
    pub fn normalizer_tensors(&self) -> (Tensor, Tensor, f64) {
        let n = &self.normalizer;
        let dim = n.stats.mean.len();
        if !n.enabled {
            return (
                Tensor::zeros([dim as i64], (tch::Kind::Float, tch::Device::Cpu)),
                Tensor::ones([dim as i64], (tch::Kind::Float, tch::Device::Cpu)),
                f64::MAX,
            );
        }
        let shift: Vec<f32> = n.stats.mean.iter().map(|&m| m as f32).collect();
        let scale: Vec<f32> = n
            .stats
            .var
            .iter()
            .map(|&v| (1.0 / (v + 1e-8).sqrt()) as f32)
            .collect();
        (
            Tensor::from_slice(&shift),
            Tensor::from_slice(&scale),
            n.clip,
        )
    }

    /// Detached copies of the actor's weights and biases.
    pub fn actor_layers(&self) -> Vec<(Tensor, Tensor)> {
        self.actor
            .layers
            .iter()
            .map(|(w, b)| (w.detach().copy(), b.detach().copy()))
            .collect()
    }

    /// Deterministic actions for a batch of raw observations [B, obs] (f32), as a tensor op
    /// chain (also what the TorchScript export traces).
    pub fn deterministic_action(&self, raw_obs: &Tensor) -> Tensor {
        let act = self.meta.action_names.len() as i64;
        let x = self.normalizer.apply_batch(raw_obs);
        self.actor.forward(&x, true).narrow(1, 0, act).tanh()
    }

    /// The deterministic action (squashed mean) for a raw observation, plus mean and std.
    pub fn act(&mut self, obs: &[f64]) -> super::ActOutput {
        let mut buf = std::mem::take(&mut self.buf);
        self.normalizer.apply(obs, &mut buf);
        let act = self.meta.action_names.len() as i64;
        let out = tch::no_grad(|| {
            let x = Tensor::from_slice(&buf).reshape([1, buf.len() as i64]);
            let y = self.actor.forward(&x, true);
            let mean = y.narrow(1, 0, act);
            let raw = y.narrow(1, act, act).tanh();
            let log_std = (raw + 1.0) * (0.5 * (super::sac::LOG_STD_MAX - super::sac::LOG_STD_MIN))
                + super::sac::LOG_STD_MIN;
            let v = |t: &Tensor| {
                Vec::<f64>::try_from(t.reshape([-1]).to_kind(tch::Kind::Double)).unwrap_or_default()
            };
            super::ActOutput {
                action: v(&mean.tanh()),
                mean: v(&mean),
                std: v(&log_std.exp()),
                q: Vec::new(),
                alpha: None,
            }
        });
        self.buf = buf;
        out
    }
}

/// The privileged-state guard on a list of input names (policy files, TorchScript sidecars).
pub fn check_privileged_inputs(
    obs_names: &[String],
    task: &crate::task::TaskConfig,
    path: &Path,
) -> Result<(), PolicyError> {
    if task.obs.privileged_state() {
        return Ok(());
    }
    let bad: Vec<&str> = obs_names
        .iter()
        .map(String::as_str)
        .filter(|n| crate::task::obs::is_privileged_name(n))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(PolicyError::Privileged {
            path: path.to_owned(),
            names: bad.join(", "),
        })
    }
}
