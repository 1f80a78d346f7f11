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
use crate::rl::policy::PolicyMeta;
use crate::scene::BuiltScene;
use crate::task::{DrConfig, RewardConfig, TaskConfig, TaskEnv, VecEnv};

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
    /// Env steps before learning: uniform random actions, or the `init_from` student's samples.
    pub learning_starts: usize,
    /// Updates at the start that train only the critics (encoder and actor held).
    pub critic_warmup: usize,
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
            critic_warmup: 0,
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
    /// Seconds spent stepping and rendering the envs.
    pub env_secs: f64,
    /// Seconds spent in gradient steps.
    pub update_secs: f64,
    /// Gradient steps per second of update time.
    pub updates_per_sec: f64,
    /// Seconds spent in periodic evaluations.
    pub eval_secs: f64,
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

/// The learner a run starts from: fresh, or a distilled student's actor and normaliser.
fn build_learner(
    cfg: &PixelTrainConfig,
    shape: ImageShape,
    names: &[String],
) -> anyhow::Result<(PixelSac, ObsNormalizer)> {
    let params = PixelSacParams {
        seed: cfg.seed,
        actor_lr: cfg.actor_lr,
        critic_lr: cfg.critic_lr,
        gamma: cfg.gamma,
        tau: cfg.tau,
        init_alpha: cfg.init_alpha,
        shift_px: cfg.shift_px,
        encoder: cfg.encoder.clone(),
        hidden: cfg.hidden.iter().map(|&h| h as i64).collect(),
        critic_warmup: cfg.critic_warmup,
    };
    let mut sac = PixelSac::new(shape, names.len(), &params).map_err(anyhow::Error::msg)?;
    let mut norm = ObsNormalizer::new(names.len(), 10.0, true);
    if let Some(path) = &cfg.init_from {
        let path = resolve(path);
        let student = PixelPolicy::load(&path)?;
        student.check_layout(names, &path)?;
        sac.init_from(&student.actor).map_err(anyhow::Error::msg)?;
        norm.stats.mean = student.meta.obs_mean.clone();
        norm.stats.var = student.meta.obs_var.clone();
        norm.stats.count = student.meta.obs_count;
    }
    Ok((sac, norm))
}

/// Seconds spent stepping and rendering, in gradient steps and in evaluations.
#[derive(Debug, Default, Clone, Copy)]
struct Timings {
    env: f64,
    update: f64,
    eval: f64,
}

/// Everything a run mutates while it steps.
struct PixelRun {
    sac: PixelSac,
    norm: ObsNormalizer,
    replay: PixelReplay,
    vec: VecEnv,
    eval_env: TaskEnv,
    metrics: MetricsWriter,
    rng: ChaCha8Rng,
    obs: Vec<Vec<f64>>,
    pixels: Vec<Vec<u8>>,
    step: usize,
    updates: usize,
    owed: f64,
    stats: super::sac::PixelSacStats,
    last_eval: Option<EvalReport>,
    times: Timings,
}

fn unwrap_pixels(pixels: Vec<Option<Vec<u8>>>) -> Vec<Vec<u8>> {
    pixels.into_iter().map(Option::unwrap_or_default).collect()
}

impl PixelRun {
    /// One vectorised env step: act (uniform before `learning_starts`), store the transitions.
    fn collect(&mut self, cfg: &PixelTrainConfig) -> anyhow::Result<()> {
        let mut buf = Vec::new();
        let actions: Vec<[f64; 4]> = (0..self.vec.len())
            .map(|i| {
                if self.step < cfg.learning_starts && cfg.init_from.is_none() {
                    std::array::from_fn(|_| self.rng.random_range(-1.0..=1.0))
                } else {
                    self.norm.apply(&self.obs[i], &mut buf);
                    self.sac.act(&self.pixels[i], &buf, false)
                }
            })
            .collect();
        let t_env = Instant::now();
        let out = self.vec.step(&actions);
        self.times.env += t_env.elapsed().as_secs_f64();
        for (i, action) in actions.iter().enumerate() {
            let next_obs = out.final_obs[i].as_ref().unwrap_or(&out.obs[i]);
            let next_px = match (&out.final_pixels[i], &out.pixels[i]) {
                (Some(p), _) | (None, Some(p)) => p.as_slice(),
                (None, None) => &[],
            };
            // A student's normaliser is kept as it was fitted: moving it moves every input the
            // student's head was trained on (measured: 10/10 -> 8/10 in 1,000 critic-only updates).
            if cfg.init_from.is_none() {
                self.norm.stats.update(&self.obs[i]);
            }
            self.replay.push(&Transition {
                image: &self.pixels[i],
                state: &self.obs[i],
                action,
                reward: out.rewards[i],
                next_image: next_px,
                next_state: next_obs,
                done: out.terminated[i],
            });
            if out.terminated[i] || out.truncated[i] {
                let success = f64::from(u8::from(out.infos[i].success));
                self.metrics.scalar(self.step, "charts/success", success)?;
            }
        }
        self.obs = out.obs;
        self.pixels = unwrap_pixels(out.pixels);
        self.step += self.vec.len();
        Ok(())
    }

    /// The gradient steps owed by the env steps taken (`utd` per env step).
    fn learn(&mut self, cfg: &PixelTrainConfig) -> anyhow::Result<()> {
        if self.step < cfg.learning_starts {
            return Ok(());
        }
        self.owed += cfg.utd * self.vec.len() as f64;
        while self.owed >= 1.0 {
            let t_update = Instant::now();
            self.stats = self.sac.update(&self.replay, cfg.batch_size, &self.norm);
            self.times.update += t_update.elapsed().as_secs_f64();
            self.updates += 1;
            self.owed -= 1.0;
            if self.updates.is_multiple_of(100) {
                let (m, step) = (&mut self.metrics, self.step);
                m.scalar(step, "losses/critic_loss", self.stats.critic_loss)?;
                m.scalar(step, "losses/actor_loss", self.stats.actor_loss)?;
                m.scalar(step, "losses/alpha", self.stats.alpha)?;
            }
        }
        Ok(())
    }

    /// A deterministic evaluation on the held-out seeds, without DR.
    fn evaluate(&mut self, cfg: &PixelTrainConfig) -> anyhow::Result<()> {
        let t_eval = Instant::now();
        let (norm, sac) = (&self.norm, &mut self.sac);
        let mut b = Vec::new();
        let report = evaluate(
            &mut self.eval_env,
            cfg.eval_episodes,
            1_500_000,
            None,
            "pixel-sac",
            |o, px| {
                norm.apply(o, &mut b);
                (sac.act(px.unwrap_or(&[]), &b, true), None)
            },
        )?;
        self.metrics
            .scalar(self.step, "eval/success_rate", report.success_rate)?;
        self.metrics
            .scalar(self.step, "eval/mean_return", report.mean_return)?;
        self.metrics.flush()?;
        self.times.eval += t_eval.elapsed().as_secs_f64();
        self.last_eval = Some(report);
        Ok(())
    }
}

/// The policy file's metadata for what a run learned.
fn final_meta(
    cfg: &PixelTrainConfig,
    names: &[String],
    run: &PixelRun,
    config: ConfigIdentity,
    image: crate::task::ImageSpec,
) -> PolicyMeta {
    let (step, updates) = (run.step, run.updates);
    PolicyMeta {
        image: Some(image),
        encoder: Some(cfg.encoder.clone()),
        training: Some(crate::rl::policy::TrainingRecord::of(
            "pixel-sac",
            cfg,
            cfg.seed,
            0,
            step,
        )),
        ..PolicyMeta::for_actor(
            names,
            &cfg.hidden,
            &run.norm,
            config,
            step,
            format!("pixel SAC (DrQ-v2 style), {step} env steps, {updates} updates"),
        )
    }
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
    crate::task::check_task_scene(&task, scene, &task_path)?;
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
    let (sac, norm) = build_learner(cfg, shape, &space.names)?;
    let mut vec = VecEnv::try_new(scene, &task, &reward, cfg.envs, cfg.threads)?;
    tch::set_num_threads(cfg.torch_threads.max(1) as i32);
    let obs = vec.reset(cfg.seed);
    let pixels = unwrap_pixels(vec.pixels());
    let mut run = PixelRun {
        sac,
        norm,
        replay: PixelReplay::new(shape.len(), space.dim(), cfg.buffer_size),
        vec,
        eval_env: TaskEnv::try_new(scene.clone(), task.without_dr(), reward.clone())?,
        metrics: MetricsWriter::create(out)?,
        rng: ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(101)),
        obs,
        pixels,
        step: 0,
        updates: 0,
        owed: 0.0,
        stats: super::sac::PixelSacStats::default(),
        last_eval: None,
        times: Timings::default(),
    };
    let mut next_eval = if cfg.eval_every > 0 {
        cfg.eval_every
    } else {
        usize::MAX
    };
    while run.step < cfg.total_timesteps {
        run.collect(cfg)?;
        run.learn(cfg)?;
        if run.step >= next_eval || run.step >= cfg.total_timesteps {
            next_eval = next_eval.saturating_add(cfg.eval_every.max(1));
            run.evaluate(cfg)?;
        }
        progress(&PixelProgress {
            step: run.step,
            total: cfg.total_timesteps,
            critic_loss: run.stats.critic_loss,
            alpha: run.stats.alpha,
            eval_success: run.last_eval.as_ref().map(|e| e.success_rate),
        });
    }
    let (step, updates) = (run.step, run.updates);
    let config = ConfigIdentity::of(&scene.config, &task, &reward);
    let meta = final_meta(cfg, &space.names, &run, config, image.spec());
    PixelPolicy::from_parts(meta, &run.sac.actor, &run.norm).save(&final_path)?;
    let wall = started.elapsed().as_secs_f64();
    let t = run.times;
    Ok(PixelTrainReport {
        env_steps: step,
        updates,
        env_steps_per_sec: step as f64 / wall.max(1e-9),
        env_secs: t.env,
        update_secs: t.update,
        updates_per_sec: updates as f64 / t.update.max(1e-9),
        eval_secs: t.eval,
        wall_secs: wall,
        last_eval: run.last_eval,
        policy: final_path,
    })
}
