//! Soft Actor-Critic (Haarnoja et al. 2018, as in Stable-Baselines3 and CleanRL): twin Q
//! networks with Polyak-averaged targets, a tanh-squashed Gaussian actor with clamped log-std,
//! and automatic entropy tuning toward -|A|.
//!
//! Efficiency choices: both critics are one ensemble network (one batched GEMM per layer); the
//! actor loss reads the critics through detached weights, so no gradient is computed for them;
//! target values are computed under `no_grad`.

use tch::{Kind, Tensor};

use super::config::{EntCoef, SacConfig};
use super::nets::{Adam, EnsembleMlp, Mlp, polyak, sum_last};
use super::replay::Batch;
use super::rng::{Noise, TorchInit};
use super::timing::{Lap, PhaseTimes};

/// log-std bounds of the actor (CleanRL's): the raw output is squashed into this range.
pub const LOG_STD_MIN: f64 = -5.0;
/// Upper log-std bound.
pub const LOG_STD_MAX: f64 = 2.0;
/// Half the log-std range: tanh's (-1, 1) maps onto it.
pub const LOG_STD_HALF_RANGE: f64 = 0.5 * (LOG_STD_MAX - LOG_STD_MIN);

/// Losses and values of one gradient step (CleanRL metric names in `metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct UpdateStats {
    /// Mean squared TD error of critic 1.
    pub qf1_loss: f64,
    /// Mean squared TD error of critic 2.
    pub qf2_loss: f64,
    /// Mean Q of critic 1 on the batch.
    pub qf1_value: f64,
    /// Actor loss.
    pub actor_loss: f64,
    /// Entropy coefficient.
    pub alpha: f64,
    /// Entropy-coefficient loss (0 when fixed).
    pub alpha_loss: f64,
    /// Mean -log pi of the sampled actions.
    pub entropy: f64,
    /// Behaviour-cloning error on the batch's demonstration rows (0 without the term).
    pub bc_loss: f64,
}

/// The SAC learner.
#[derive(Debug)]
pub struct Sac {
    /// Policy network: obs -> (mean, raw log-std).
    pub actor: Mlp,
    /// Twin critics: (obs, action) -> Q, ensemble of 2.
    pub critic: EnsembleMlp,
    /// Target critics.
    pub critic_target: EnsembleMlp,
    /// log of the entropy coefficient.
    pub log_alpha: Tensor,
    /// Actor optimiser.
    pub actor_opt: Adam,
    /// Critic optimiser.
    pub critic_opt: Adam,
    /// Entropy-coefficient optimiser (auto mode).
    pub alpha_opt: Option<Adam>,
    /// Sampling noise.
    pub noise: Noise,
    pub(super) target_entropy: f64,
    /// Behaviour-cloning weight on demonstration rows (`SacConfig::bc_weight`).
    pub(super) bc_weight: f64,
    /// Actor input width; the critics also read `critic_extra` more columns after it.
    pub(super) obs_dim: i64,
    pub(super) critic_extra: i64,
    pub(super) gamma: f64,
    pub(super) tau: f64,
    pub(super) act_dim: i64,
    /// Where the networks live.
    pub device: tch::Device,
    /// Hand-written gradients instead of autograd (`SacConfig::fused_update`; CPU only).
    pub fused: bool,
    /// Seconds of forward, backward and optimiser work in `update`, accumulated.
    pub times: PhaseTimes,
}

impl Sac {
    /// A learner for `obs_dim` observations and `act_dim` actions in [-1, 1].
    pub fn new(obs_dim: usize, act_dim: usize, cfg: &SacConfig) -> Self {
        Self::asymmetric(obs_dim, 0, act_dim, cfg)
    }

    /// A learner whose critics read `critic_extra` privileged columns after the `obs_dim`
    /// observation columns of each batch row (input `[obs, extras, action]`); the actor reads
    /// only the observation. `critic_extra = 0` is plain SAC.
    pub fn asymmetric(
        obs_dim: usize,
        critic_extra: usize,
        act_dim: usize,
        cfg: &SacConfig,
    ) -> Self {
        // An unusable device was reported by `train` before it got here; fall back to the CPU.
        let device = cfg.torch_device().unwrap_or(tch::Device::Cpu);
        let mut init = TorchInit::new(cfg.seed).on(device);
        let hidden: Vec<i64> = cfg.net_arch.iter().map(|&h| h as i64).collect();
        let (o, a) = (obs_dim as i64, act_dim as i64);
        let actor = Mlp::new(o, &hidden, 2 * a, &mut init);
        let extra = critic_extra as i64;
        let mut critic = EnsembleMlp::new(2, o + extra + a, &hidden, 1, &mut init);
        critic.layer_norm = cfg.critic_layer_norm;
        let critic_target = critic.copy_untracked();
        let (alpha0, auto) = match cfg.ent_coef {
            EntCoef::Auto { init } => (init, true),
            EntCoef::Fixed(v) => (v, false),
        };
        let log_alpha = Tensor::from_slice(&[alpha0.ln() as f32])
            .to_device(device)
            .set_requires_grad(auto);
        let actor_opt = Adam::new(&actor.parameters(), cfg.learning_rate);
        let critic_opt = Adam::new(&critic.parameters(), cfg.learning_rate);
        let alpha_opt = auto.then(|| Adam::new(&[&log_alpha], cfg.learning_rate));
        Self {
            actor,
            critic,
            critic_target,
            log_alpha,
            actor_opt,
            critic_opt,
            alpha_opt,
            noise: Noise::new(cfg.seed.wrapping_add(1)),
            target_entropy: cfg.target_entropy.unwrap_or(-(act_dim as f64)),
            bc_weight: cfg.bc_weight,
            obs_dim: o,
            critic_extra: extra,
            gamma: cfg.gamma,
            tau: cfg.tau,
            act_dim: a,
            fused: cfg.fused_update && device == tch::Device::Cpu,
            device,
            times: PhaseTimes::default(),
        }
    }

    /// The current entropy coefficient.
    pub fn alpha(&self) -> f64 {
        self.log_alpha.double_value(&[0]).exp()
    }

    /// Mean and log-std of the action distribution for normalised observations [B, obs].
    pub fn distribution(&self, obs: &Tensor) -> (Tensor, Tensor) {
        let out = self.actor.forward(obs, false);
        let mean = out.narrow(1, 0, self.act_dim);
        let raw = out.narrow(1, self.act_dim, self.act_dim).tanh();
        let log_std = (raw + 1.0) * LOG_STD_HALF_RANGE + LOG_STD_MIN;
        (mean, log_std)
    }

    /// The actor's columns of a batch of (normalised) replay rows.
    pub fn actor_view(&self, rows: &Tensor) -> Tensor {
        if self.critic_extra == 0 {
            rows.shallow_clone()
        } else {
            rows.narrow(1, 0, self.obs_dim)
        }
    }

    /// Reparameterised sample: squashed action and its log-probability [B, 1].
    pub fn sample(&mut self, obs: &Tensor) -> (Tensor, Tensor) {
        let (action, logp, _) = self.sample_with_mean(obs);
        (action, logp)
    }

    /// As `sample`, also returning the pre-squash mean.
    fn sample_with_mean(&mut self, obs: &Tensor) -> (Tensor, Tensor, Tensor) {
        let (mean, log_std) = self.distribution(obs);
        let eps = self
            .noise
            .normal(obs.size()[0], self.act_dim)
            .to_device(self.device);
        let x = &mean + log_std.exp() * &eps;
        let action = x.tanh();
        let logp = squashed_log_prob(&eps, &log_std, &x);
        (action, logp, mean)
    }

    /// The behaviour-cloning term on the last `batch.demo_rows` rows: the squared error of the
    /// mean action against the demonstrated one, and the loss to add, weighted by
    /// `bc_weight * max(mean|Q|, 1)` (a plain number, so no gradient flows through the
    /// weight). The floor keeps the term acting while the critics' values are still near 0, as
    /// at the start of pretraining.
    fn bc_term(&self, batch: &Batch, mean: &Tensor, q_pi: &Tensor) -> Option<(Tensor, f64)> {
        let start = self.bc_start(batch)?;
        let d = batch.demo_rows;
        let err = (mean.narrow(0, start, d).tanh() - batch.actions.narrow(0, start, d))
            .square()
            .mean(Kind::Float);
        let weight = self.bc_scale(q_pi.abs().mean(Kind::Float).double_value(&[]));
        let value = err.double_value(&[]);
        Some((err * weight, value))
    }

    /// The first of the batch's demonstration rows (the last `demo_rows`) when the
    /// behaviour-cloning term applies; `None` without a weight or without such rows.
    pub(super) fn bc_start(&self, batch: &Batch) -> Option<i64> {
        let d = batch.demo_rows;
        (self.bc_weight > 0.0 && d > 0).then(|| batch.actions.size()[0] - d)
    }

    /// The behaviour-cloning term's weight for critics whose values average `mean_abs_q` in
    /// magnitude: `bc_weight * max(mean|Q|, 1)`.
    pub(super) fn bc_scale(&self, mean_abs_q: f64) -> f64 {
        self.bc_weight * mean_abs_q.max(1.0)
    }

    /// Q values of both critics for normalised `obs` and `action`: [2, B, 1].
    pub fn q_values(&self, obs: &Tensor, action: &Tensor) -> Tensor {
        self.critic.forward(&Tensor::cat(&[obs, action], 1), false)
    }

    /// The critics' regression target for `batch` [B, 1]: scaled reward plus the discounted
    /// (gamma, or the batch's n-step discounts) soft value of the next state under the target
    /// critics, zero after a terminal.
    pub fn td_target(&mut self, batch: &Batch, reward_scale: f64, alpha: f64) -> Tensor {
        tch::no_grad(|| {
            let (next_a, next_logp) = self.sample(&self.actor_view(&batch.next_obs));
            let q = self
                .critic_target
                .forward(&Tensor::cat(&[&batch.next_obs, &next_a], 1), false);
            let min_q = q.amin(0, false) - next_logp * alpha;
            let bootstrap = match &batch.discounts {
                Some(d) => (1.0 - &batch.dones) * d * min_q,
                None => (1.0 - &batch.dones) * self.gamma * min_q,
            };
            &batch.rewards * reward_scale + bootstrap
        })
    }

    /// One gradient step on critics, actor and entropy coefficient, then the target update.
    /// `batch` holds normalised observations; `reward_scale` multiplies its rewards.
    pub fn update(&mut self, batch: &Batch, reward_scale: f64) -> UpdateStats {
        if self.fused {
            return self.update_fused(batch, reward_scale);
        }
        let mut lap = Lap::start();
        let alpha = self.alpha();
        let target_q = self.td_target(batch, reward_scale, alpha);
        let q = self.q_values(&batch.obs, &batch.actions);
        let td = (&q - target_q.unsqueeze(0))
            .square()
            .mean_dim(1, false, Kind::Float);
        let qf_loss = td.sum(Kind::Float);
        lap.to(&mut self.times.forward);
        self.critic_opt.zero_grad();
        lap.to(&mut self.times.optimiser);
        qf_loss.backward();
        lap.to(&mut self.times.backward);
        self.critic_opt.step();
        lap.to(&mut self.times.optimiser);

        let (action, logp, mean) = self.sample_with_mean(&self.actor_view(&batch.obs));
        let q_pi = self
            .critic
            .forward(&Tensor::cat(&[&batch.obs, &action], 1), true)
            .amin(0, false);
        let mut actor_loss = (&logp * alpha - &q_pi).mean(Kind::Float);
        let mut bc_loss = 0.0;
        if let Some((term, value)) = self.bc_term(batch, &mean, &q_pi) {
            actor_loss += term;
            bc_loss = value;
        }
        lap.to(&mut self.times.forward);
        self.actor_opt.zero_grad();
        lap.to(&mut self.times.optimiser);
        actor_loss.backward();
        lap.to(&mut self.times.backward);
        self.actor_opt.step();
        lap.to(&mut self.times.optimiser);

        let mut alpha_loss_value = 0.0;
        if let Some(opt) = &mut self.alpha_opt {
            let alpha_loss =
                -(&self.log_alpha * (logp.detach() + self.target_entropy)).mean(Kind::Float);
            lap.to(&mut self.times.forward);
            opt.zero_grad();
            alpha_loss.backward();
            opt.step();
            alpha_loss_value = alpha_loss.double_value(&[]);
        }
        polyak(&self.critic_target, &self.critic, self.tau);
        lap.to(&mut self.times.optimiser);
        UpdateStats {
            qf1_loss: td.double_value(&[0, 0]),
            qf2_loss: td.double_value(&[1, 0]),
            qf1_value: q.get(0).mean(Kind::Float).double_value(&[]),
            actor_loss: actor_loss.double_value(&[]),
            alpha,
            alpha_loss: alpha_loss_value,
            entropy: -logp.mean(Kind::Float).double_value(&[]),
            bc_loss,
        }
    }

    /// Action for one normalised observation: the squashed mean (deterministic) or a sample.
    /// Also returns the distribution's mean and std (pre-squash) for plots.
    pub fn act(&mut self, obs: &[f32], deterministic: bool) -> ActOutput {
        tch::no_grad(|| {
            let x = Tensor::from_slice(obs)
                .reshape([1, obs.len() as i64])
                .to_device(self.device);
            let (mean, log_std) = self.distribution(&x);
            let pre = if deterministic {
                mean.shallow_clone()
            } else {
                &mean + log_std.exp() * self.noise.normal(1, self.act_dim).to_device(self.device)
            };
            let to_vec = |t: &Tensor| {
                Vec::<f64>::try_from(
                    t.reshape([-1])
                        .to_device(tch::Device::Cpu)
                        .to_kind(Kind::Double),
                )
                .unwrap_or_default()
            };
            ActOutput {
                action: to_vec(&pre.tanh()),
                mean: to_vec(&mean),
                std: to_vec(&log_std.exp()),
                q: Vec::new(),
                alpha: None,
            }
        })
    }
}

/// What the policy computed for one observation.
#[derive(Debug, Clone, PartialEq)]
pub struct ActOutput {
    /// Action in [-1, 1].
    pub action: Vec<f64>,
    /// Pre-squash mean.
    pub mean: Vec<f64>,
    /// Pre-squash std.
    pub std: Vec<f64>,
    /// Q values of both critics for the action (empty when only the actor is known).
    pub q: Vec<f64>,
    /// Entropy coefficient (when the learner is known).
    pub alpha: Option<f64>,
}

/// log pi(tanh(x)) for x = mean + std * eps, summed over action dims: the Gaussian density at x
/// minus the log-Jacobian of tanh, written stably as 2 (log 2 - x - softplus(-2x)).
pub fn squashed_log_prob(eps: &Tensor, log_std: &Tensor, x: &Tensor) -> Tensor {
    let gauss = eps.square() * -0.5 - log_std - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let log_det = (std::f64::consts::LN_2 - x - (x * -2.0).softplus()) * 2.0;
    sum_last(&(gauss - log_det))
}
