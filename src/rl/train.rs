//! The training loop: collect with the VecEnv, learn with SAC, evaluate, checkpoint, log.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::checkpoint::{self, CHECKPOINT_FORMAT, TrainState};
use super::eval::{EvalReport, evaluate};
use super::metrics::MetricsWriter;
use super::normalize::{ObsNormalizer, RewardScaler};
use super::nstep::NStepFolder;
use super::policy::{Policy, PolicyMeta};
use super::replay::{self, ReplayBuffer, concat, store};
use super::timing::{Lap, PhaseTimes};
use super::{Sac, SacConfig, critic_obs, demos, explore};
use crate::episode::ConfigIdentity;
use crate::scene::BuiltScene;
use crate::task::{RewardConfig, RewardTerms, TaskConfig, TaskEnv, VecEnv};

/// Progress reported to the caller (for the progress bar).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Progress {
    /// Env steps so far.
    pub step: usize,
    /// Env steps per second.
    pub steps_per_sec: f64,
    /// Mean return of the last episodes.
    pub recent_return: f64,
    /// Success rate of the last episodes.
    pub recent_success: f64,
    /// Entropy coefficient.
    pub alpha: f64,
    /// Critic loss.
    pub qf_loss: f64,
    /// Last evaluation success rate.
    pub eval_success: Option<f64>,
}

/// Where a run writes.
#[derive(Debug, Clone)]
pub struct RunDir(pub PathBuf);

impl RunDir {
    /// Policy of the best evaluation.
    pub fn best_policy(&self) -> PathBuf {
        self.0.join("policy_best.safetensors")
    }
    /// Policy at the end.
    pub fn final_policy(&self) -> PathBuf {
        self.0.join("policy_final.safetensors")
    }
}

/// Trains; returns the last evaluation. `on_progress` is called about twice a second.
pub fn train<F: FnMut(&Progress)>(
    cfg: &SacConfig,
    scene: &BuiltScene,
    task: &TaskConfig,
    reward: &RewardConfig,
    run_dir: &Path,
    resume: Option<&Path>,
    mut on_progress: F,
) -> anyhow::Result<Option<EvalReport>> {
    tch::set_num_threads(cfg.torch_threads as i32);
    cfg.torch_device().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let mut t = Trainer::new(cfg, scene, task, reward, run_dir, resume)?;
    if resume.is_none() {
        t.pretrain()?;
    }
    let start_step = t.state.step;
    let mut last_report = Instant::now();
    while t.state.step < cfg.total_timesteps {
        t.collect()?;
        t.learn()?;
        t.evaluate_and_checkpoint()?;
        if last_report.elapsed().as_secs_f64() > 0.5 {
            last_report = Instant::now();
            on_progress(&t.progress(started, start_step));
        }
    }
    let mut lap = Lap::start();
    save_checkpoint(&t.dir.0, &t.sac, &mut t.state)?;
    t.policy("final").save(&t.dir.final_policy())?;
    t.metrics.flush()?;
    lap.to(&mut t.times.io);
    let times = PhaseTimes {
        forward: t.sac.times.forward,
        backward: t.sac.times.backward,
        optimiser: t.sac.times.optimiser,
        total: started.elapsed().as_secs_f64(),
        ..t.times
    };
    eprintln!("time per phase: {}", times.summary());
    crate::fsutil::write_atomic(
        &t.dir.0.join("timing.json"),
        serde_json::to_string_pretty(&times)?.as_bytes(),
    )?;
    Ok(t.last_eval)
}

/// Everything a run holds between steps.
struct Trainer {
    cfg: SacConfig,
    dir: RunDir,
    envs: VecEnv,
    eval_env: TaskEnv,
    obs_names: Vec<String>,
    identity: ConfigIdentity,
    sac: Sac,
    state: TrainState,
    buffer: ReplayBuffer,
    demos: Option<ReplayBuffer>,
    folder: NStepFolder,
    /// The asymmetric critic's extras of each env's current state (empty without one).
    extras: Vec<Vec<f64>>,
    hold_steps: usize,
    /// Per env: gripper-aware exploration's current hold.
    gripper_hold: Vec<explore::GripperHold>,
    times: PhaseTimes,
    metrics: MetricsWriter,
    obs: Vec<Vec<f64>>,
    ep_return: Vec<f64>,
    recent: Vec<(f64, bool)>,
    norm_buf: Vec<f32>,
    last_eval: Option<EvalReport>,
    last_stats: super::UpdateStats,
    last_terms: RewardTerms,
    explore_randomly: bool,
}

impl Trainer {
    fn new(
        cfg: &SacConfig,
        scene: &BuiltScene,
        task: &TaskConfig,
        reward: &RewardConfig,
        run_dir: &Path,
        resume: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let dir = RunDir(run_dir.to_owned());
        let mut envs = VecEnv::new(scene, task, reward, cfg.n_envs, cfg.n_envs.min(2));
        let obs_names = envs.envs()[0].observation_space().names.clone();
        let obs_dim = obs_names.len();
        let extra = if cfg.asymmetric_critic {
            critic_obs::DIM
        } else {
            0
        };
        let mut sac = Sac::asymmetric(obs_dim, extra, 4, cfg);
        let mut state = TrainState {
            format: CHECKPOINT_FORMAT.into(),
            version: 1,
            config: cfg.clone(),
            step: 0,
            episodes: 0,
            updates: 0,
            adam_t: [0; 3],
            obs_norm: ObsNormalizer::new(obs_dim + extra, cfg.clip, cfg.normalize_obs),
            reward_scaler: RewardScaler::new(cfg.n_envs, cfg.gamma, cfg.clip, cfg.normalize_reward),
            sample_rng: ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(2)),
            action_rng: ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(3)),
            noise: sac.noise.clone(),
            best_success: -1.0,
        };
        if let Some(ckpt) = resume {
            let stale = crate::fsutil::remove_stale_temps(&dir.0)?;
            if stale > 0 {
                eprintln!("removed {stale} temp file(s) of a killed write");
            }
            state = checkpoint::load_into(ckpt, &mut sac)?;
            eprintln!("resumed from {} at step {}", ckpt.display(), state.step);
        }
        // Pretraining normalises with statistics that include the demonstrations; a resumed
        // run has its statistics from the checkpoint.
        let stats =
            (cfg.pretrain_updates > 0 && resume.is_none()).then_some(&mut state.obs_norm.stats);
        let demos = demos::collect(cfg, scene, task, reward, obs_dim + extra, stats)?;
        // Written once the checkpoint has loaded: a refused resume leaves the folder as it was.
        std::fs::create_dir_all(&dir.0)?;
        crate::fsutil::write_atomic(&dir.0.join("config.toml"), toml::to_string(cfg)?.as_bytes())?;
        let obs = envs.reset(cfg.seed.wrapping_add(state.step as u64));
        let extras = envs
            .envs()
            .iter()
            .map(|e| match extra {
                0 => Vec::new(),
                _ => critic_obs::at_reset(e).to_vec(),
            })
            .collect();
        Ok(Self {
            cfg: cfg.clone(),
            metrics: match resume {
                Some(_) => MetricsWriter::resume(&dir.0, state.step)?,
                None => MetricsWriter::create(&dir.0)?,
            },
            dir,
            eval_env: TaskEnv::new(scene.clone(), task.clone(), reward.clone()),
            identity: ConfigIdentity::of(&scene.config, task, reward),
            buffer: replay::for_learner(cfg, cfg.buffer_size, obs_dim + extra),
            extras,
            hold_steps: task.success_hold_steps,
            gripper_hold: vec![explore::GripperHold::default(); cfg.n_envs],
            folder: NStepFolder::new(cfg.n_step, cfg.gamma, cfg.n_envs),
            times: PhaseTimes::default(),
            demos,
            ep_return: vec![0.0; cfg.n_envs],
            recent: Vec::new(),
            norm_buf: Vec::new(),
            last_eval: None,
            last_stats: super::UpdateStats::default(),
            last_terms: RewardTerms::default(),
            explore_randomly: resume.is_none(),
            obs_names,
            envs,
            sac,
            state,
            obs,
        })
    }

    /// One step of every env: random actions before learning starts, then policy samples.
    fn collect(&mut self) -> anyhow::Result<()> {
        let mut lap = Lap::start();
        let random = self.explore_randomly && self.state.step < self.cfg.learning_starts;
        let actions: Vec<[f64; 4]> = (0..self.obs.len())
            .map(|i| {
                if random {
                    std::array::from_fn(|_| self.state.action_rng.random_range(-1.0..=1.0))
                } else {
                    self.state.obs_norm.apply(&self.obs[i], &mut self.norm_buf);
                    let a = self.sac.act(&self.norm_buf, false).action;
                    std::array::from_fn(|k| a.get(k).copied().unwrap_or(0.0))
                }
            })
            .collect();
        let mut actions = actions;
        if !random {
            let c = &self.cfg;
            let (p, range) = (c.gripper_explore_prob, c.gripper_explore_steps);
            let rng = &mut self.state.action_rng;
            explore::override_gripper(&mut actions, &mut self.gripper_hold, rng, p, range);
        }
        lap.to(&mut self.times.act);
        let out = self.envs.step(&actions);
        lap.to(&mut self.times.env);
        let until = self.cfg.normalize_reward_until;
        if until.is_some_and(|until| self.state.step >= until) {
            self.state.reward_scaler.frozen = true;
        }
        for (i, action) in actions.iter().enumerate() {
            let done = out.terminated[i] || out.truncated[i];
            let next = out.final_obs[i].as_ref().unwrap_or(&out.obs[i]);
            let hold = self.cfg.asymmetric_critic.then_some(self.hold_steps);
            let next_extras = critic_obs::extras_after(hold, &out.infos[i]);
            let row = critic_obs::joined(&self.obs[i], &self.extras[i]);
            let next_row = critic_obs::joined(next, &next_extras);
            let ends = (out.terminated[i], out.truncated[i]);
            store(
                &mut self.buffer,
                &mut self.folder,
                i,
                &row,
                action,
                out.rewards[i],
                &next_row,
                ends,
            );
            self.state.obs_norm.stats.update(&next_row);
            self.extras[i] = if done && hold.is_some() {
                critic_obs::at_reset(&self.envs.envs()[i]).to_vec()
            } else {
                next_extras
            };
            self.state.reward_scaler.observe(i, out.rewards[i], done);
            self.ep_return[i] += out.rewards[i];
            if done {
                self.episode_finished(i, out.infos[i].step, out.infos[i].success)?;
            }
        }
        self.obs = out.obs;
        self.state.step += self.cfg.n_envs;
        self.last_terms = out.infos[0].reward_terms;
        Ok(())
    }

    fn episode_finished(
        &mut self,
        env: usize,
        length: usize,
        success: bool,
    ) -> std::io::Result<()> {
        let step = self.state.step;
        self.state.episodes += 1;
        self.recent.push((self.ep_return[env], success));
        if self.recent.len() > 20 {
            self.recent.remove(0);
        }
        self.metrics
            .scalar(step, "charts/episodic_return", self.ep_return[env])?;
        self.metrics
            .scalar(step, "charts/episodic_length", length as f64)?;
        self.metrics
            .scalar(step, "charts/success", f64::from(u8::from(success)))?;
        self.ep_return[env] = 0.0;
        Ok(())
    }

    /// `pretrain_updates` gradient steps on demonstration-only batches (none without demos).
    fn pretrain(&mut self) -> anyhow::Result<()> {
        let Some(d) = &self.demos else {
            return Ok(());
        };
        let scale = reward_scale(&self.cfg, &self.state);
        for _ in 0..self.cfg.pretrain_updates {
            let mut lap = Lap::start();
            let mut batch = d.sample(self.cfg.batch_size, &mut self.state.sample_rng);
            batch.demo_rows = self.cfg.batch_size as i64;
            to_learner(&self.cfg, &mut batch, &self.state);
            lap.to(&mut self.times.sampling);
            self.last_stats = self.sac.update(&batch, scale);
            self.state.updates += 1;
        }
        if self.cfg.pretrain_updates > 0 {
            log_update(&mut self.metrics, 0, &self.last_stats)?;
            eprintln!(
                "pretrained on the demonstrations: {} updates, behaviour-cloning error {:.4}",
                self.cfg.pretrain_updates, self.last_stats.bc_loss
            );
        }
        Ok(())
    }

    /// Gradient steps when due.
    fn learn(&mut self) -> anyhow::Result<()> {
        let cfg = &self.cfg;
        let due = self.state.step >= cfg.learning_starts
            && self.buffer.len() >= cfg.batch_size
            && self.state.step % cfg.train_freq < cfg.n_envs;
        if !due {
            return Ok(());
        }
        for _ in 0..cfg.gradient_steps {
            let mut lap = Lap::start();
            let batch = sample_batch(cfg, &self.buffer, self.demos.as_ref(), &mut self.state);
            lap.to(&mut self.times.sampling);
            let scale = reward_scale(cfg, &self.state);
            self.last_stats = self.sac.update(&batch, scale);
            self.state.updates += 1;
        }
        if self.state.updates.is_multiple_of(100) {
            log_update(&mut self.metrics, self.state.step, &self.last_stats)?;
            log_reward_terms(&mut self.metrics, self.state.step, &self.last_terms)?;
        }
        Ok(())
    }

    /// Periodic evaluation (saving the best policy) and checkpoint.
    fn evaluate_and_checkpoint(&mut self) -> anyhow::Result<()> {
        let (step, n) = (self.state.step, self.cfg.n_envs);
        let mut lap = Lap::start();
        if self.cfg.eval_freq > 0 && step % self.cfg.eval_freq < n {
            let report = run_eval(
                &self.cfg,
                &mut self.eval_env,
                &mut self.sac,
                &self.state.obs_norm,
            )?;
            lap.to(&mut self.times.eval);
            self.metrics
                .scalar(step, "eval/success_rate", report.success_rate)?;
            self.metrics
                .scalar(step, "eval/mean_return", report.mean_return)?;
            if report.success_rate > self.state.best_success {
                self.state.best_success = report.success_rate;
                let notes = format!("eval success {:.2} at step {step}", report.success_rate);
                self.policy(&notes).save(&self.dir.best_policy())?;
            }
            self.last_eval = Some(report);
            self.metrics.flush()?;
        }
        if self.cfg.checkpoint_freq > 0 && step % self.cfg.checkpoint_freq < n {
            save_checkpoint(&self.dir.0, &self.sac, &mut self.state)?;
        }
        lap.to(&mut self.times.io);
        Ok(())
    }

    fn policy(&self, notes: &str) -> Policy {
        export_policy(
            &self.sac,
            &self.state,
            &self.obs_names,
            &self.identity,
            &self.cfg,
            notes,
        )
    }

    fn progress(&self, started: Instant, start_step: usize) -> Progress {
        let n = self.recent.len().max(1) as f64;
        Progress {
            step: self.state.step,
            steps_per_sec: (self.state.step - start_step) as f64
                / started.elapsed().as_secs_f64().max(1e-9),
            recent_return: self.recent.iter().map(|r| r.0).sum::<f64>() / n,
            recent_success: self.recent.iter().filter(|r| r.1).count() as f64 / n,
            alpha: self.last_stats.alpha,
            qf_loss: self.last_stats.qf1_loss + self.last_stats.qf2_loss,
            eval_success: self.last_eval.as_ref().map(|e| e.success_rate),
        }
    }
}

fn save_checkpoint(dir: &Path, sac: &Sac, state: &mut TrainState) -> std::io::Result<()> {
    state.adam_t = [
        sac.actor_opt.t,
        sac.critic_opt.t,
        sac.alpha_opt.as_ref().map_or(0, |o| o.t),
    ];
    state.noise = sac.noise.clone();
    checkpoint::save(dir, sac, state).map(|_| ())
}

fn sample_batch(
    cfg: &SacConfig,
    buffer: &ReplayBuffer,
    demos: Option<&ReplayBuffer>,
    state: &mut TrainState,
) -> super::replay::Batch {
    let mut batch = match demos {
        Some(d) if !d.is_empty() => {
            let n_demo = ((cfg.batch_size as f64) * cfg.demo_ratio).round() as usize;
            concat(
                buffer.sample(cfg.batch_size - n_demo, &mut state.sample_rng),
                d.sample(n_demo, &mut state.sample_rng),
            )
        }
        _ => buffer.sample(cfg.batch_size, &mut state.sample_rng),
    };
    to_learner(cfg, &mut batch, state);
    batch
}

/// The factor on replay rewards: the running return std's scale, or 1 without normalisation.
fn reward_scale(cfg: &SacConfig, state: &TrainState) -> f64 {
    if cfg.normalize_reward {
        state.reward_scaler.scale(1.0)
    } else {
        1.0
    }
}

/// Moves a raw batch to the learner's device and normalises its observations.
fn to_learner(cfg: &SacConfig, batch: &mut super::replay::Batch, state: &TrainState) {
    let device = cfg.torch_device().unwrap_or(tch::Device::Cpu);
    for t in [
        &mut batch.obs,
        &mut batch.actions,
        &mut batch.rewards,
        &mut batch.next_obs,
        &mut batch.dones,
    ] {
        *t = t.to_device(device);
    }
    if let Some(d) = &mut batch.discounts {
        *d = d.to_device(device);
    }
    batch.obs = state.obs_norm.apply_batch(&batch.obs);
    batch.next_obs = state.obs_norm.apply_batch(&batch.next_obs);
}

fn log_update(m: &mut MetricsWriter, step: usize, s: &super::UpdateStats) -> std::io::Result<()> {
    m.scalar(step, "losses/qf1_loss", s.qf1_loss)?;
    m.scalar(step, "losses/qf2_loss", s.qf2_loss)?;
    m.scalar(step, "losses/qf1_values", s.qf1_value)?;
    m.scalar(step, "losses/actor_loss", s.actor_loss)?;
    m.scalar(step, "losses/alpha", s.alpha)?;
    m.scalar(step, "losses/alpha_loss", s.alpha_loss)?;
    if s.bc_loss > 0.0 {
        m.scalar(step, "losses/bc_loss", s.bc_loss)?;
    }
    m.scalar(step, "charts/entropy", s.entropy)
}

fn log_reward_terms(
    m: &mut MetricsWriter,
    step: usize,
    terms: &RewardTerms,
) -> std::io::Result<()> {
    for (name, v) in RewardTerms::NAMES.iter().zip(terms.values()) {
        m.scalar(step, &format!("reward/{name}"), v)?;
    }
    Ok(())
}

fn run_eval(
    cfg: &SacConfig,
    env: &mut TaskEnv,
    sac: &mut Sac,
    norm: &ObsNormalizer,
) -> anyhow::Result<EvalReport> {
    let mut buf = Vec::new();
    Ok(evaluate(
        env,
        cfg.eval_episodes,
        cfg.eval_first_seed,
        None,
        "sac",
        |o, _| {
            norm.apply(o, &mut buf);
            let a = sac.act(&buf, true).action;
            (
                std::array::from_fn(|i| a.get(i).copied().unwrap_or(0.0)),
                None,
            )
        },
    )?)
}

/// The current actor as a policy file.
pub fn export_policy(
    sac: &Sac,
    state: &TrainState,
    obs_names: &[String],
    identity: &ConfigIdentity,
    cfg: &SacConfig,
    notes: &str,
) -> Policy {
    // An asymmetric learner normalises [obs, extras]; the actor's part is the first columns.
    let actor_norm = state.obs_norm.prefix(obs_names.len());
    let meta = PolicyMeta {
        training: Some(super::policy::TrainingRecord::of(
            "sac", cfg, cfg.seed, cfg.demos, state.step,
        )),
        ..PolicyMeta::for_actor(
            obs_names,
            &cfg.net_arch,
            &actor_norm,
            identity.clone(),
            state.step,
            notes.to_owned(),
        )
    };
    Policy::from_parts(meta, &sac.actor, &actor_norm)
}
