//! `SacConfig` (`configs/train/*.toml`), with Stable-Baselines3's hyperparameter names, and
//! `EncoderConfig`, the image encoder's shape that the pixel configs and policy files share.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Check, ConfigError, FieldError};

/// Entropy coefficient: `"auto"` (learned, SB3's default, starting at 1.0), `"auto_0.1"`
/// (learned, starting at 0.1) or a fixed number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EntCoef {
    /// Learned toward the target entropy, starting at `init`.
    Auto {
        /// Initial value.
        init: f64,
    },
    /// Fixed.
    Fixed(f64),
}

impl Serialize for EntCoef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Auto { init } if *init == 1.0 => s.serialize_str("auto"),
            Self::Auto { init } => s.serialize_str(&format!("auto_{init}")),
            Self::Fixed(v) => s.serialize_f64(*v),
        }
    }
}

impl<'de> Deserialize<'de> for EntCoef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(v) => Ok(Self::Fixed(v)),
            Raw::Text(t) if t == "auto" => Ok(Self::Auto { init: 1.0 }),
            Raw::Text(t) => t
                .strip_prefix("auto_")
                .and_then(|v| v.parse::<f64>().ok())
                .map(|init| Self::Auto { init })
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "ent_coef `{t}`: expected \"auto\", \"auto_<init>\" or a number"
                    ))
                }),
        }
    }
}

/// Training hyperparameters; defaults are the reference run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SacConfig {
    /// Adam learning rate of every network.
    pub learning_rate: f64,
    /// Replay capacity.
    pub buffer_size: usize,
    /// Uniform random actions before learning starts.
    pub learning_starts: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Polyak coefficient of the target critics.
    pub tau: f64,
    /// Discount.
    pub gamma: f64,
    /// Steps folded into each critic target (1 = one-step TD, SB3's; 3-5 carry the grasp
    /// reward back to the closing of the gripper faster).
    pub n_step: usize,
    /// Env steps between updates.
    pub train_freq: usize,
    /// Gradient steps per update.
    pub gradient_steps: usize,
    /// Entropy coefficient.
    pub ent_coef: EntCoef,
    /// Target entropy; absent = -|A|.
    pub target_entropy: Option<f64>,
    /// Hidden layer sizes of actor and critics (ReLU).
    pub net_arch: Vec<usize>,
    /// Layer normalisation in the critics' hidden layers (RLPD); off in SB3.
    pub critic_layer_norm: bool,
    /// Asymmetric critic: the critics also read simulator state the actor never sees (pad
    /// contacts, grasp flag, hold progress, cube orientation and offset; `rl::critic_obs`).
    pub asymmetric_critic: bool,
    /// The SAC update with hand-written gradients and fused CPU loops (`rl::fused`) instead of
    /// autograd: the same losses, ~1.45x faster at batch 256 (`bench sac`). CPU only (ignored on
    /// CUDA).
    pub fused_update: bool,
    /// Parallel environments.
    pub n_envs: usize,
    /// Seed of everything.
    pub seed: u64,
    /// Env steps to train for.
    pub total_timesteps: usize,
    /// Standardise observations with running statistics.
    pub normalize_obs: bool,
    /// Scale rewards by the running std of the discounted return.
    pub normalize_reward: bool,
    /// Env step after which that std stops moving (none: it moves all run). Why: the return's
    /// std grows ~10x once the agent succeeds (231 against 25 before, reference task), so a
    /// moving scale shrinks every reward as learning works, and the critics chase it.
    pub normalize_reward_until: Option<usize>,
    /// Clip of normalised observations and rewards.
    pub clip: f64,
    /// Env steps between deterministic evaluations (0 = none).
    pub eval_freq: usize,
    /// Episodes per evaluation.
    pub eval_episodes: usize,
    /// First reset seed of in-training evaluations. They choose the best policy, so they stay
    /// apart from training's random seeds and from `eval`'s default 1,000,000.. range.
    pub eval_first_seed: u64,
    /// Env steps between checkpoints (0 = only at the end).
    pub checkpoint_freq: usize,
    /// Scripted demonstration episodes sampled alongside the online buffer (RLPD-style).
    pub demos: usize,
    /// Fraction of each batch drawn from the demonstrations.
    pub demo_ratio: f64,
    /// Behaviour-cloning weight on the demonstration rows of each batch: the actor loss adds
    /// `bc_weight * max(mean|Q|, 1) * mean squared error` between the actor's mean action and
    /// the demonstrated one (scaled by |Q| so the weight does not depend on the reward's scale,
    /// as TD3+BC normalises). 0 = plain SAC. Why: with a handful of demonstrations the
    /// critic alone takes tens of thousands of steps to pull the actor onto the grasp.
    pub bc_weight: f64,
    /// Gradient steps on demonstration-only batches before the first env step (offline warm
    /// start of actor and critics; the observation statistics then include the
    /// demonstrations). 0 = none. Needs `demos > 0`.
    pub pretrain_updates: usize,
    /// Gripper-aware exploration: each env step after `learning_starts`, the chance that an env
    /// starts holding a uniform random gripper command for a while (overriding the policy's
    /// gripper action; the executed action is what replay stores). 0 = off. Why: a policy that
    /// parks above the cube with the jaw saturated open never samples a close from its own
    /// Gaussian, so no grasp is ever seen.
    pub gripper_explore_prob: f64,
    /// Shortest and longest such hold, env steps.
    pub gripper_explore_steps: [usize; 2],
    /// Torch intra-op threads.
    pub torch_threads: usize,
    /// `cpu`, `cuda` (an error when libtorch sees no CUDA device) or `auto` (CUDA when present).
    pub device: String,
    /// Task config file (relative to the repo root unless absolute).
    pub task: PathBuf,
    /// Reward config file.
    pub reward: PathBuf,
}

impl Default for SacConfig {
    fn default() -> Self {
        Self {
            learning_rate: 3e-4,
            buffer_size: 100_000,
            learning_starts: 1000,
            batch_size: 256,
            tau: 0.005,
            gamma: 0.99,
            n_step: 1,
            train_freq: 1,
            gradient_steps: 1,
            ent_coef: EntCoef::Auto { init: 1.0 },
            target_entropy: None,
            net_arch: vec![256, 256],
            critic_layer_norm: false,
            asymmetric_critic: false,
            fused_update: false,
            n_envs: 1,
            seed: 0,
            total_timesteps: 1_000_000,
            normalize_obs: true,
            normalize_reward: true,
            normalize_reward_until: None,
            clip: 10.0,
            eval_freq: 10_000,
            eval_episodes: 20,
            eval_first_seed: 2_000_000,
            checkpoint_freq: 50_000,
            demos: 0,
            demo_ratio: 0.5,
            bc_weight: 0.0,
            pretrain_updates: 0,
            gripper_explore_prob: 0.0,
            gripper_explore_steps: [10, 30],
            torch_threads: 1,
            device: "cpu".into(),
            task: PathBuf::from("configs/task.toml"),
            reward: PathBuf::from("configs/rewards/v11.toml"),
        }
    }
}

impl SacConfig {
    /// The torch device `device` names, if usable here.
    pub fn torch_device(&self) -> Result<tch::Device, String> {
        let cuda = tch::Cuda::is_available();
        match self.device.as_str() {
            "cuda" if cuda => Ok(tch::Device::Cuda(0)),
            "cuda" => Err("device \"cuda\" requested, but libtorch sees no CUDA device (tools/setup.sh \
                           installs the CPU build; point LIBTORCH at a CUDA libtorch 2.13 for a GPU)"
                .into()),
            "auto" if cuda => Ok(tch::Device::Cuda(0)),
            _ => Ok(tch::Device::Cpu),
        }
    }

    /// Loads and validates a training config.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::config::load_toml(path, Self::validate)
    }

    /// Resolves a path named in a training config against the data root (`crate::paths`).
    pub fn resolve(p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_owned()
        } else {
            crate::paths::data_file(p)
        }
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), FieldError> {
        Check::range("learning_rate", self.learning_rate, 1e-7, 1.0)?;
        Check::int_range("buffer_size", self.buffer_size as i64, 1, 100_000_000)?;
        Check::int_range("batch_size", self.batch_size as i64, 1, 65_536)?;
        Check::range("tau", self.tau, 0.0, 1.0)?;
        Check::range("gamma", self.gamma, 0.0, 1.0)?;
        Check::int_range("n_step", self.n_step as i64, 1, 100)?;
        Check::int_range("train_freq", self.train_freq as i64, 1, 100_000)?;
        Check::int_range("gradient_steps", self.gradient_steps as i64, 1, 1000)?;
        match self.ent_coef {
            EntCoef::Auto { init } => Check::range("ent_coef (auto init)", init, 1e-8, 100.0)?,
            EntCoef::Fixed(v) => Check::range("ent_coef", v, 0.0, 100.0)?,
        }
        if self.net_arch.is_empty() || self.net_arch.iter().any(|&h| h == 0 || h > 8192) {
            return Err(FieldError {
                field: "net_arch".into(),
                value: format!("{:?}", self.net_arch),
                allowed: "one or more layer sizes in 1..=8192".into(),
            });
        }
        Check::int_range("n_envs", self.n_envs as i64, 1, 256)?;
        Check::int_range(
            "total_timesteps",
            self.total_timesteps as i64,
            1,
            1_000_000_000,
        )?;
        Check::range("clip", self.clip, 0.1, 1e6)?;
        Check::range("demo_ratio", self.demo_ratio, 0.0, 0.95)?;
        Check::range("bc_weight", self.bc_weight, 0.0, 1000.0)?;
        Check::int_range(
            "pretrain_updates",
            self.pretrain_updates as i64,
            0,
            1_000_000,
        )?;
        let demo_options = [
            ("bc_weight", self.bc_weight > 0.0),
            ("pretrain_updates", self.pretrain_updates > 0),
        ];
        for (field, set) in demo_options {
            if set && self.demos == 0 {
                return Err(FieldError {
                    field: field.into(),
                    value: "set with demos = 0".into(),
                    allowed: "0 unless demos > 0 (they act on demonstration rows)".into(),
                });
            }
        }
        let demo_rows = ((self.batch_size as f64) * self.demo_ratio).round() as usize;
        if self.bc_weight > 0.0 && demo_rows == 0 && self.pretrain_updates == 0 {
            return Err(FieldError {
                field: "bc_weight".into(),
                value: format!("{} with demo_ratio = {}", self.bc_weight, self.demo_ratio),
                allowed: "0 unless some batch rows are demonstrations (demo_ratio x batch_size \
                          >= 0.5, or pretrain_updates > 0)"
                    .into(),
            });
        }
        if self.pretrain_updates > 0 && self.normalize_reward {
            // The reward scale has seen no return before the first env step, so pretrained
            // critics would learn unscaled values and the scale would change under them.
            return Err(FieldError {
                field: "pretrain_updates".into(),
                value: format!("{} with normalize_reward = true", self.pretrain_updates),
                allowed: "0 unless normalize_reward = false".into(),
            });
        }
        Check::range("gripper_explore_prob", self.gripper_explore_prob, 0.0, 1.0)?;
        let [lo, hi] = self.gripper_explore_steps;
        if lo == 0 || hi < lo || hi > 10_000 {
            return Err(FieldError {
                field: "gripper_explore_steps".into(),
                value: format!("{:?}", self.gripper_explore_steps),
                allowed: "[min, max] with 1 <= min <= max <= 10000".into(),
            });
        }
        Check::int_range("torch_threads", self.torch_threads as i64, 1, 256)?;
        if !["cpu", "cuda", "auto"].contains(&self.device.as_str()) {
            return Err(FieldError {
                field: "device".into(),
                value: self.device.clone(),
                allowed: "cpu, cuda or auto".into(),
            });
        }
        Ok(())
    }
}

/// Shape of the pixel policies' image encoder (`[encoder]` of the pixel and distillation
/// configs; recorded in the policy file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncoderConfig {
    /// Output channels of each convolution.
    pub channels: Vec<i64>,
    /// Stride of each convolution.
    pub strides: Vec<i64>,
    /// Kernel size (square).
    pub kernel: i64,
    /// Size of the feature vector.
    pub features: i64,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self {
            channels: vec![16, 32, 32],
            strides: vec![2, 2, 2],
            kernel: 3,
            features: 64,
        }
    }
}

impl EncoderConfig {
    /// Checks the shape against an input of `h` x `w`; the error says what is wrong.
    pub fn check(&self, h: i64, w: i64) -> Result<(i64, i64), String> {
        if self.channels.is_empty() || self.channels.len() != self.strides.len() {
            return Err("encoder: `channels` and `strides` need the same, non-zero length".into());
        }
        if !(1..=7).contains(&self.kernel) || !(1..=1024).contains(&self.features) {
            return Err("encoder: kernel 1..=7 and features 1..=1024".into());
        }
        let (mut h, mut w) = (h, w);
        for (&c, &s) in self.channels.iter().zip(&self.strides) {
            if !(1..=256).contains(&c) || !(1..=4).contains(&s) {
                return Err("encoder: channels 1..=256 and strides 1..=4".into());
            }
            h = (h - self.kernel) / s + 1;
            w = (w - self.kernel) / s + 1;
            if h < 1 || w < 1 {
                return Err(format!(
                    "encoder: the image is too small for {} convolutions",
                    self.channels.len()
                ));
            }
        }
        Ok((h, w))
    }
}
