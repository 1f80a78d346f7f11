//! `so101-lab train-pixel`: pixel SAC on a task with `[obs.image]` (no teacher needed), from
//! scratch or from a distilled student; metrics (CSV and TensorBoard), periodic deterministic
//! evaluation on held-out seeds, and the final policy file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{
    EncoderConfig, ImageShape, PixelPolicy, PixelReplay, PixelSac, PixelSacParams, Transition,
};
use crate::config::{Check, ConfigError, FieldError};
use crate::episode::ConfigIdentity;
use crate::rl::eval::{EvalReport, evaluate};
use crate::rl::metrics::MetricsWriter;
use crate::rl::normalize::ObsNormalizer;
use crate::rl::policy::{POLICY_FORMAT, POLICY_VERSION, PolicyMeta};
use crate::scene::BuiltScene;
use crate::task::{DrConfig, LiftEnv, RewardConfig, TaskConfig, VecEnv};

/// `configs/train/pixel_*.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PixelTrainConfig {
    /// Task with `[obs.image]`.
    pub task: PathBuf,
    /// Reward version.
    pub reward: PathBuf,
    /// Domain randomisation ranges (absent = none).
    pub dr: Option<PathBuf>,
    /// A distilled student to start from (its encoder and head).
    pub init_from: Option<PathBuf>,
    /// Seed.
    pub seed: u64,
    /// Envs stepped together.
    pub envs: usize,
    /// Threads stepping them.
    pub threads: usize,
    /// Torch threads.
    pub torch_threads: usize,
    /// Env steps.
    pub total_timesteps: usize,
    /// Random actions before learning.
    pub learning_starts: usize,
    /// Gradient steps per env step.
    pub utd: f64,
    /// Minibatch size.
    pub batch_size: usize,
    /// Replay capacity.
    pub buffer_size: usize,
    /// Actor learning rate.
    pub actor_lr: f64,
    /// Critic (and encoder) learning rate.
    pub critic_lr: f64,
    /// Discount.
    pub gamma: f64,
    /// Polyak factor.
    pub tau: f64,
    /// Initial entropy coefficient.
    pub init_alpha: f64,
    /// Random shift, pixels.
    pub shift_px: i32,
    /// Encoder shape.
    pub encoder: EncoderConfig,
    /// Hidden layers of actor and critics.
    pub hidden: Vec<usize>,
    /// Env steps between evaluations (0 = only at the end).
    pub eval_every: usize,
    /// Episodes per evaluation.
    pub eval_episodes: usize,
}

impl Default for PixelTrainConfig {
    fn default() -> Self {
        Self {
            task: PathBuf::from("configs/task_wrist64.toml"),
            reward: PathBuf::from("configs/rewards/v11_fixed.toml"),
            dr: None,
            init_from: None,
            seed: 0,
            envs: 4,
            threads: 2,
            torch_threads: 2,
            total_timesteps: 100_000,
            learning_starts: 2_000,
            utd: 0.5,
            batch_size: 128,
            buffer_size: 100_000,
            actor_lr: 3e-4,
            critic_lr: 3e-4,
            gamma: 0.99,
            tau: 0.01,
            init_alpha: 0.1,
            shift_px: 4,
            encoder: EncoderConfig::default(),
            hidden: vec![256, 256],
            eval_every: 10_000,
            eval_episodes: 10,
        }
    }
}

impl PixelTrainConfig {
    /// Loads and validates a pixel SAC config.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::config::load_toml(path, Self::validate)
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), FieldError> {
        Check::int_range("envs", self.envs as i64, 1, 256)?;
        Check::int_range("threads", self.threads as i64, 1, 256)?;
        Check::int_range("torch_threads", self.torch_threads as i64, 1, 256)?;
        Check::int_range(
            "total_timesteps",
            self.total_timesteps as i64,
            1,
            1_000_000_000,
        )?;
        Check::int_range("batch_size", self.batch_size as i64, 1, 65_536)?;
        Check::int_range("buffer_size", self.buffer_size as i64, 1, 100_000_000)?;
        Check::range("utd", self.utd, 0.0, 64.0)?;
        Check::range("actor_lr", self.actor_lr, 0.0, 1.0)?;
        Check::range("critic_lr", self.critic_lr, 0.0, 1.0)?;
        Check::range("gamma", self.gamma, 0.0, 1.0)?;
        Check::range("tau", self.tau, 0.0, 1.0)?;
        Check::range("init_alpha", self.init_alpha, 1e-6, 10.0)?;
        Check::int_range("shift_px", i64::from(self.shift_px), 0, 32)?;
        Check::int_range("eval_episodes", self.eval_episodes as i64, 0, 100_000)?;
        if self.hidden.is_empty() || self.hidden.iter().any(|&h| !(1..=4096).contains(&h)) {
            return Err(FieldError {
                field: "hidden".into(),
                value: format!("{:?}", self.hidden),
                allowed: "one or more layer sizes in 1 ..= 4096".into(),
            });
        }
        Ok(())
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy)]
pub struct PixelProgress {
    /// Env steps taken.
    pub step: usize,
    /// Total env steps.
    pub total: usize,
    /// Latest critic loss.
    pub critic_loss: f64,
    /// Entropy coefficient.
    pub alpha: f64,
    /// Latest evaluation success rate.
    pub eval_success: Option<f64>,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct PixelTrainReport {
    /// Env steps.
    pub env_steps: usize,
    /// Gradient steps.
    pub updates: usize,
    /// Env steps per second (collection and learning together).
    pub env_steps_per_sec: f64,
    /// Wall time, seconds.
    pub wall_secs: f64,
    /// The last evaluation.
    pub last_eval: Option<EvalReport>,
    /// The policy file.
    pub policy: PathBuf,
}

fn resolve(p: &Path) -> PathBuf {
    crate::rl::SacConfig::resolve(p)
}

/// Trains pixel SAC into `out` (never overwriting a run there).
pub fn train_pixel(
    cfg: &PixelTrainConfig,
    scene: &BuiltScene,
    out: &Path,
    mut progress: impl FnMut(&PixelProgress),
) -> anyhow::Result<PixelTrainReport> {
    let started = Instant::now();
    let task_path = resolve(&cfg.task);
    let mut task = TaskConfig::load(&task_path)?;
    if let Some(dr) = &cfg.dr {
        task.dr = Some(DrConfig::load(&resolve(dr))?);
    }
    crate::cli::check_task_scene(&task, scene, &task_path)?;
    let Some(image) = task.obs.image.clone() else {
        bail!("{}: pixel SAC needs [obs.image]", task_path.display());
    };
    let reward = RewardConfig::load(&resolve(&cfg.reward))?;
    let final_path = out.join("policy_final.safetensors");
    if final_path.exists() {
        bail!(
            "{} already holds a run; choose another --out",
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let space = crate::task::obs::observation_space(&task.obs);
    let shape = ImageShape::of(&image.spec());
    let hidden: Vec<i64> = cfg.hidden.iter().map(|&h| h as i64).collect();
    let params = PixelSacParams {
        seed: cfg.seed,
        actor_lr: cfg.actor_lr,
        critic_lr: cfg.critic_lr,
        gamma: cfg.gamma,
        tau: cfg.tau,
        init_alpha: cfg.init_alpha,
        shift_px: cfg.shift_px,
        encoder: cfg.encoder.clone(),
        hidden,
    };
    let mut sac = PixelSac::new(shape, space.dim(), &params).map_err(anyhow::Error::msg)?;
    let mut norm = ObsNormalizer::new(space.dim(), 10.0, true);
    if let Some(student) = &cfg.init_from {
        let student = PixelPolicy::load(&resolve(student))?;
        student.check_layout(
            &space.names,
            &resolve(&cfg.init_from.clone().unwrap_or_default()),
        )?;
        sac.init_from(&student.actor).map_err(anyhow::Error::msg)?;
        norm.stats.mean = student.meta.obs_mean.clone();
        norm.stats.var = student.meta.obs_var.clone();
        norm.stats.count = student.meta.obs_count;
    }
    let mut replay = PixelReplay::new(shape.len(), space.dim(), cfg.buffer_size);
    let mut vec = VecEnv::try_new(scene, &task, &reward, cfg.envs, cfg.threads)?;
    let mut eval_task = task.clone();
    eval_task.dr = None;
    let mut eval_env = LiftEnv::try_new(scene.clone(), eval_task, reward.clone())?;
    let mut metrics = MetricsWriter::create(out)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(101));
    tch::set_num_threads(cfg.torch_threads.max(1) as i32);
    let mut obs = vec.reset(cfg.seed);
    let mut pixels: Vec<Vec<u8>> = vec
        .pixels()
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    let (mut step, mut updates, mut owed) = (0usize, 0usize, 0.0f64);
    let mut stats = super::sac::PixelSacStats::default();
    let mut last_eval = None;
    let mut next_eval = if cfg.eval_every > 0 {
        cfg.eval_every
    } else {
        usize::MAX
    };
    let mut buf = Vec::new();
    while step < cfg.total_timesteps {
        let actions: Vec<[f64; 4]> = (0..vec.len())
            .map(|i| {
                if step < cfg.learning_starts {
                    std::array::from_fn(|_| rng.random_range(-1.0..=1.0))
                } else {
                    norm.apply(&obs[i], &mut buf);
                    sac.act(&pixels[i], &buf, false)
                }
            })
            .collect();
        let out_step = vec.step(&actions);
        for i in 0..vec.len() {
            let ended = out_step.terminated[i] || out_step.truncated[i];
            let next_obs = out_step.final_obs[i].as_ref().unwrap_or(&out_step.obs[i]);
            let next_px = match (&out_step.final_pixels[i], &out_step.pixels[i]) {
                (Some(p), _) | (None, Some(p)) => p.as_slice(),
                (None, None) => &[],
            };
            norm.stats.update(&obs[i]);
            replay.push(&Transition {
                image: &pixels[i],
                state: &obs[i],
                action: &actions[i],
                reward: out_step.rewards[i],
                next_image: next_px,
                next_state: next_obs,
                done: out_step.terminated[i],
            });
            if ended {
                metrics.scalar(
                    step,
                    "charts/success",
                    f64::from(u8::from(out_step.infos[i].success)),
                )?;
            }
        }
        obs = out_step.obs;
        pixels = out_step
            .pixels
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        step += vec.len();
        if step >= cfg.learning_starts {
            owed += cfg.utd * vec.len() as f64;
            while owed >= 1.0 {
                stats = sac.update(&replay, cfg.batch_size, &norm);
                updates += 1;
                owed -= 1.0;
                if updates % 100 == 0 {
                    metrics.scalar(step, "losses/critic_loss", stats.critic_loss)?;
                    metrics.scalar(step, "losses/actor_loss", stats.actor_loss)?;
                    metrics.scalar(step, "losses/alpha", stats.alpha)?;
                }
            }
        }
        if step >= next_eval || step >= cfg.total_timesteps {
            next_eval = next_eval.saturating_add(cfg.eval_every.max(1));
            let mut b = Vec::new();
            let report = evaluate(
                &mut eval_env,
                cfg.eval_episodes,
                1_500_000,
                None,
                "pixel-sac",
                |o, px| {
                    norm.apply(o, &mut b);
                    (sac.act(px.unwrap_or(&[]), &b, true), None)
                },
            )?;
            metrics.scalar(step, "eval/success_rate", report.success_rate)?;
            metrics.scalar(step, "eval/mean_return", report.mean_return)?;
            metrics.flush()?;
            last_eval = Some(report);
        }
        progress(&PixelProgress {
            step,
            total: cfg.total_timesteps,
            critic_loss: stats.critic_loss,
            alpha: stats.alpha,
            eval_success: last_eval.as_ref().map(|e| e.success_rate),
        });
    }
    let meta = PolicyMeta {
        format: POLICY_FORMAT.into(),
        version: POLICY_VERSION,
        obs_names: space.names.clone(),
        action_names: crate::task::obs::ACTION_NAMES
            .iter()
            .map(|n| (*n).to_owned())
            .collect(),
        net_arch: cfg.hidden.clone(),
        normalize_obs: true,
        clip: norm.clip,
        obs_count: norm.stats.count,
        obs_mean: norm.stats.mean.clone(),
        obs_var: norm.stats.var.clone(),
        config: ConfigIdentity::of(&scene.config, &task, &reward),
        trained_steps: step,
        notes: format!("pixel SAC (DrQ-v2 style), {step} env steps, {updates} updates"),
        image: Some(image.spec()),
        encoder: Some(cfg.encoder.clone()),
        deterministic_head: false,
    };
    PixelPolicy::from_parts(meta, &sac.actor, &norm).save(&final_path)?;
    let wall = started.elapsed().as_secs_f64();
    Ok(PixelTrainReport {
        env_steps: step,
        updates,
        env_steps_per_sec: step as f64 / wall.max(1e-9),
        wall_secs: wall,
        last_eval,
        policy: final_path,
    })
}
