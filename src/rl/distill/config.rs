//! `configs/distill/*.toml`: the student's task, the DAgger schedule, the network and the
//! optimiser. Unknown keys are errors; every value is range-checked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Check, ConfigError, FieldError};
use crate::rl::pixel::EncoderConfig;

/// A distillation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistillConfig {
    /// The student's task (with `[obs.image]`), relative to the repo root.
    pub task: PathBuf,
    /// Reward version (reported only; the student learns from the teacher's labels).
    pub reward: PathBuf,
    /// Domain randomisation ranges for the rollouts (absent = none).
    pub dr: Option<PathBuf>,
    /// Seed of everything (network, data order, augmentation, rollout seeds).
    pub seed: u64,
    /// Envs stepped together in the rollouts.
    pub envs: usize,
    /// Threads stepping the envs.
    pub threads: usize,
    /// Torch threads for the gradient updates (rollouts use one).
    pub torch_threads: usize,
    /// DAgger iterations: collect, then train.
    pub iterations: usize,
    /// Env steps collected per iteration (over all envs).
    pub steps_per_iteration: usize,
    /// Probability of executing the teacher's action in iteration 0 (1 = behaviour cloning).
    pub beta_start: f64,
    /// Factor applied to that probability every iteration.
    pub beta_decay: f64,
    /// Gradient steps per iteration.
    pub updates_per_iteration: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Random-shift augmentation, pixels (0 = off).
    pub shift_px: i32,
    /// Samples kept (oldest dropped first).
    pub dataset_capacity: usize,
    /// Loss weight of the gripper dimension (it decides grasps).
    pub gripper_weight: f64,
    /// The image encoder.
    pub encoder: EncoderConfig,
    /// Hidden layers of the head.
    pub head: Vec<usize>,
    /// Deterministic student episodes after every iteration (on seeds never used for data).
    pub eval_episodes: usize,
    /// First seed of those episodes.
    pub eval_first_seed: u64,
}

impl Default for DistillConfig {
    fn default() -> Self {
        Self {
            task: PathBuf::from("configs/task_wrist.toml"),
            reward: PathBuf::from("configs/rewards/v11_fixed.toml"),
            dr: None,
            seed: 0,
            envs: 8,
            threads: 2,
            torch_threads: 2,
            iterations: 8,
            steps_per_iteration: 12_000,
            beta_start: 1.0,
            beta_decay: 0.5,
            updates_per_iteration: 1_500,
            batch_size: 256,
            learning_rate: 3e-4,
            shift_px: 4,
            dataset_capacity: 150_000,
            gripper_weight: 2.0,
            encoder: EncoderConfig::default(),
            head: vec![256, 256],
            eval_episodes: 20,
            eval_first_seed: 2_000_000,
        }
    }
}

impl DistillConfig {
    /// Loads and validates a distillation config.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::config::load_toml(path, Self::validate)
    }

    /// Resolves a config-relative path against the repo root.
    pub fn resolve(p: &Path) -> PathBuf {
        crate::rl::SacConfig::resolve(p)
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), FieldError> {
        Check::int_range("envs", self.envs as i64, 1, 256)?;
        Check::int_range("threads", self.threads as i64, 1, 256)?;
        Check::int_range("torch_threads", self.torch_threads as i64, 1, 256)?;
        Check::int_range("iterations", self.iterations as i64, 1, 10_000)?;
        Check::int_range(
            "steps_per_iteration",
            self.steps_per_iteration as i64,
            1,
            100_000_000,
        )?;
        Check::range("beta_start", self.beta_start, 0.0, 1.0)?;
        Check::range("beta_decay", self.beta_decay, 0.0, 1.0)?;
        Check::int_range(
            "updates_per_iteration",
            self.updates_per_iteration as i64,
            0,
            100_000_000,
        )?;
        Check::int_range("batch_size", self.batch_size as i64, 1, 65_536)?;
        Check::range("learning_rate", self.learning_rate, 1e-7, 1.0)?;
        Check::int_range("shift_px", i64::from(self.shift_px), 0, 32)?;
        Check::int_range(
            "dataset_capacity",
            self.dataset_capacity as i64,
            1,
            100_000_000,
        )?;
        Check::range("gripper_weight", self.gripper_weight, 0.0, 100.0)?;
        Check::int_range("eval_episodes", self.eval_episodes as i64, 0, 100_000)?;
        if self.head.is_empty() || self.head.iter().any(|&h| !(1..=4096).contains(&h)) {
            return Err(FieldError {
                field: "head".into(),
                value: format!("{:?}", self.head),
                allowed: "one or more layer sizes in 1 ..= 4096".into(),
            });
        }
        self.encoder.check(1024, 1024).map_err(|e| FieldError {
            field: "encoder".into(),
            value: format!("{:?}", self.encoder),
            allowed: e,
        })?;
        Ok(())
    }

    /// The probability of executing the teacher's action in iteration `k`.
    pub fn beta(&self, k: usize) -> f64 {
        self.beta_start * self.beta_decay.powi(k as i32)
    }
}
