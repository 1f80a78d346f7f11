//! Pixel SAC in the style of DrQ-v2: one convolutional encoder shared by actor and critics and
//! trained by the critic loss alone (the actor reads detached features), random-shift
//! augmentation of every sampled image, twin critics with Polyak targets, and the entropy
//! coefficient tuned toward -|A|. It can start from a distilled student: its encoder, and its
//! head as the actor's mean.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::actor::{ImageShape, PixelActor};
use super::augment::RandomShift;
use super::encoder::images_tensor;
use crate::rl::config::EncoderConfig;
use crate::rl::nets::{Adam, EnsembleMlp, polyak};
use crate::rl::rng::{Noise, TorchInit};
use crate::rl::sac::{LOG_STD_HALF_RANGE, LOG_STD_MIN, squashed_log_prob};

/// Transitions with images, in a ring.
#[derive(Debug, Clone, Default)]
pub struct PixelReplay {
    image_len: usize,
    state_dim: usize,
    capacity: usize,
    images: Vec<u8>,
    next_images: Vec<u8>,
    states: Vec<f32>,
    next_states: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    dones: Vec<f32>,
    len: usize,
    next: usize,
}

/// One transition to store.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    /// Image tensor before the step.
    pub image: &'a [u8],
    /// Raw state before the step.
    pub state: &'a [f64],
    /// Action taken.
    pub action: &'a [f64; 4],
    /// Reward.
    pub reward: f64,
    /// Image tensor after the step (the episode's last when it ended).
    pub next_image: &'a [u8],
    /// State after the step.
    pub next_state: &'a [f64],
    /// A terminal state (no bootstrapping).
    pub done: bool,
}

impl PixelReplay {
    /// An empty buffer.
    pub fn new(image_len: usize, state_dim: usize, capacity: usize) -> Self {
        Self {
            image_len,
            state_dim,
            capacity: capacity.max(1),
            ..Self::default()
        }
    }

    /// Transitions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores a transition, replacing the oldest when full.
    pub fn push(&mut self, t: &Transition<'_>) {
        let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let (i, il, sd) = (self.next, self.image_len, self.state_dim);
        if self.len < self.capacity {
            self.images.extend_from_slice(t.image);
            self.next_images.extend_from_slice(t.next_image);
            self.states.extend(f(t.state));
            self.next_states.extend(f(t.next_state));
            self.actions.extend(f(t.action));
            self.rewards.push(t.reward as f32);
            self.dones.push(f32::from(u8::from(t.done)));
            self.len += 1;
        } else {
            self.images[i * il..(i + 1) * il].copy_from_slice(t.image);
            self.next_images[i * il..(i + 1) * il].copy_from_slice(t.next_image);
            self.states[i * sd..(i + 1) * sd].copy_from_slice(&f(t.state));
            self.next_states[i * sd..(i + 1) * sd].copy_from_slice(&f(t.next_state));
            self.actions[i * 4..(i + 1) * 4].copy_from_slice(&f(t.action));
            self.rewards[i] = t.reward as f32;
            self.dones[i] = f32::from(u8::from(t.done));
        }
        self.next = (self.next + 1) % self.capacity;
    }
}

/// Hyperparameters of pixel SAC.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelSacParams {
    /// Seed.
    pub seed: u64,
    /// Learning rate of the actor head and the entropy coefficient.
    pub actor_lr: f64,
    /// Learning rate of the critics and the encoder.
    pub critic_lr: f64,
    /// Discount.
    pub gamma: f64,
    /// Polyak factor.
    pub tau: f64,
    /// Initial entropy coefficient.
    pub init_alpha: f64,
    /// Random shift, pixels.
    pub shift_px: i32,
    /// The encoder.
    pub encoder: EncoderConfig,
    /// Hidden layers of actor and critics.
    pub hidden: Vec<i64>,
    /// Updates at the start that train only the critics: the encoder and the actor stay as
    /// they are (so a distilled student is not rewritten by a critic that knows nothing yet).
    pub critic_warmup: usize,
}

/// The learner.
#[derive(Debug)]
pub struct PixelSac {
    /// Encoder (trained by the critic) and actor head (reads detached features).
    pub actor: PixelActor,
    /// Twin critics over [features, state, action].
    pub critic: EnsembleMlp,
    /// Target critics.
    pub critic_target: EnsembleMlp,
    /// log of the entropy coefficient.
    pub log_alpha: Tensor,
    critic_opt: Adam,
    actor_opt: Adam,
    alpha_opt: Adam,
    noise: Noise,
    shift: RandomShift,
    rng: ChaCha8Rng,
    gamma: f64,
    tau: f64,
    target_entropy: f64,
    critic_warmup: usize,
    updates: usize,
}

/// Losses of one update.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PixelSacStats {
    /// Critic loss (both critics).
    pub critic_loss: f64,
    /// Actor loss.
    pub actor_loss: f64,
    /// Entropy coefficient.
    pub alpha: f64,
}

impl PixelSac {
    /// A fresh learner for `image` inputs and `state_dim` (normalised) states.
    pub fn new(image: ImageShape, state_dim: usize, p: &PixelSacParams) -> Result<Self, String> {
        let mut init = TorchInit::new(p.seed);
        let actor = PixelActor::new(
            image,
            state_dim as i64,
            4,
            &p.encoder,
            &p.hidden,
            true,
            &mut init,
        )?;
        let f = actor.encoder.features + state_dim as i64;
        let critic = EnsembleMlp::new(2, f + 4, &p.hidden, 1, &mut init);
        let critic_target = critic.copy_untracked();
        let log_alpha = Tensor::from_slice(&[p.init_alpha.ln() as f32]).set_requires_grad(true);
        let mut critic_params = critic.parameters();
        critic_params.extend(actor.encoder.parameters());
        Ok(Self {
            critic_opt: Adam::new(&critic_params, p.critic_lr),
            actor_opt: Adam::new(&actor.head.parameters(), p.actor_lr),
            alpha_opt: Adam::new(&[&log_alpha], p.actor_lr),
            actor,
            critic,
            critic_target,
            log_alpha,
            noise: Noise::new(p.seed.wrapping_add(1)),
            shift: RandomShift::new(p.shift_px, p.seed.wrapping_add(2)),
            rng: ChaCha8Rng::seed_from_u64(p.seed.wrapping_add(3)),
            gamma: p.gamma,
            tau: p.tau,
            target_entropy: -4.0,
            critic_warmup: p.critic_warmup,
            updates: 0,
        })
    }

    /// Starts from a distilled student: its encoder, and its head's layers as the actor's (the
    /// output layer's action half becomes the mean; log-std starts at its initialisation).
    pub fn init_from(&mut self, student: &PixelActor) -> Result<(), String> {
        let same = |a: &Tensor, b: &Tensor| a.size() == b.size();
        let enc_ok = self.actor.encoder.convs.len() == student.encoder.convs.len()
            && self
                .actor
                .encoder
                .convs
                .iter()
                .zip(&student.encoder.convs)
                .all(|(a, b)| same(&a.0, &b.0))
            && same(&self.actor.encoder.fc.0, &student.encoder.fc.0);
        let head_ok = self.actor.head.layers.len() == student.head.layers.len();
        if !enc_ok || !head_ok {
            return Err(
                "the student's encoder or head has another shape than this learner's".into(),
            );
        }
        tch::no_grad(|| {
            for (a, b) in self
                .actor
                .encoder
                .parameters()
                .iter()
                .zip(student.encoder.parameters())
            {
                a.shallow_clone().copy_(b);
            }
            let last = self.actor.head.layers.len() - 1;
            for (k, ((w, b), (sw, sb))) in self
                .actor
                .head
                .layers
                .iter()
                .zip(&student.head.layers)
                .enumerate()
            {
                if k < last {
                    w.shallow_clone().copy_(sw);
                    b.shallow_clone().copy_(sb);
                } else {
                    w.narrow(1, 0, 4).copy_(sw);
                    b.narrow(0, 0, 4).copy_(sb);
                }
            }
        });
        Ok(())
    }

    /// The current entropy coefficient.
    pub fn alpha(&self) -> f64 {
        self.log_alpha.double_value(&[0]).exp()
    }

    fn sample(&mut self, features_state: &Tensor, detached_head: bool) -> (Tensor, Tensor) {
        let out = self.actor.head.forward(features_state, detached_head);
        let mean = out.narrow(1, 0, 4);
        let raw = out.narrow(1, 4, 4).tanh();
        let log_std = (raw + 1.0) * LOG_STD_HALF_RANGE + LOG_STD_MIN;
        let eps = self.noise.normal(features_state.size()[0], 4);
        let x = &mean + log_std.exp() * &eps;
        (x.tanh(), squashed_log_prob(&eps, &log_std, &x))
    }

    /// An action for one normalised state and image: a sample, or the squashed mean.
    pub fn act(&mut self, image: &[u8], state: &[f32], deterministic: bool) -> [f64; 4] {
        let s = self.actor.image;
        let a = tch::no_grad(|| {
            let img = images_tensor(image, 1, s.planes, s.height, s.width);
            let st = Tensor::from_slice(state).reshape([1, state.len() as i64]);
            if deterministic {
                self.actor.action(&img, &st)
            } else {
                let f = Tensor::cat(&[self.actor.encoder.forward(&img, true), st], 1);
                self.sample(&f, true).0
            }
        });
        let v = Vec::<f64>::try_from(a.reshape([-1]).to_kind(Kind::Double)).unwrap_or_default();
        std::array::from_fn(|i| v.get(i).copied().unwrap_or(0.0))
    }

    /// One update on `batch` transitions sampled from `replay`; `norm` standardises states.
    pub fn update(
        &mut self,
        replay: &PixelReplay,
        batch: usize,
        norm: &crate::rl::normalize::ObsNormalizer,
    ) -> PixelSacStats {
        let s = self.actor.image;
        let (il, sd) = (replay.image_len, replay.state_dim);
        let mut imgs = Vec::with_capacity(batch * il);
        let mut next_imgs = Vec::with_capacity(batch * il);
        let (mut st, mut nst, mut act, mut rew, mut done) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut row = Vec::with_capacity(sd);
        let mut buf = Vec::with_capacity(sd);
        for _ in 0..batch {
            let i = self.rng.random_range(0..replay.len.max(1));
            imgs.extend_from_slice(&replay.images[i * il..(i + 1) * il]);
            next_imgs.extend_from_slice(&replay.next_images[i * il..(i + 1) * il]);
            for (src, dst) in [(&replay.states, &mut st), (&replay.next_states, &mut nst)] {
                row.clear();
                row.extend(src[i * sd..(i + 1) * sd].iter().map(|&v| f64::from(v)));
                norm.apply(&row, &mut buf);
                dst.extend_from_slice(&buf);
            }
            act.extend_from_slice(&replay.actions[i * 4..(i + 1) * 4]);
            rew.push(replay.rewards[i]);
            done.push(replay.dones[i]);
        }
        let (c, h, w) = (s.planes as usize, s.height as usize, s.width as usize);
        let (mut a_img, mut a_next) = (Vec::new(), Vec::new());
        self.shift.apply(&imgs, &mut a_img, c, h, w);
        self.shift.apply(&next_imgs, &mut a_next, c, h, w);
        let b = batch as i64;
        let img = images_tensor(&a_img, b, s.planes, s.height, s.width);
        let next_img = images_tensor(&a_next, b, s.planes, s.height, s.width);
        let st = Tensor::from_slice(&st).reshape([b, sd as i64]);
        let nst = Tensor::from_slice(&nst).reshape([b, sd as i64]);
        let act = Tensor::from_slice(&act).reshape([b, 4]);
        let rew = Tensor::from_slice(&rew).reshape([b, 1]);
        let done = Tensor::from_slice(&done).reshape([b, 1]);
        let alpha = self.alpha();
        let target: Tensor = tch::no_grad(|| {
            let f = Tensor::cat(&[self.actor.encoder.forward(&next_img, true), nst], 1);
            let (a, logp) = self.sample(&f, true);
            let q = self
                .critic_target
                .forward(&Tensor::cat(&[&f, &a], 1), false);
            &rew + (1.0 - &done) * self.gamma * (q.amin(0, false) - logp * alpha)
        });
        // The critic loss trains the critics and the encoder (after the warm-up).
        let warming = self.updates < self.critic_warmup;
        self.updates += 1;
        let feat = self.actor.encoder.forward(&img, false);
        let feat = if warming { feat.detach() } else { feat };
        let fs = Tensor::cat(&[&feat, &st], 1);
        let q = self.critic.forward(&Tensor::cat(&[&fs, &act], 1), false);
        let critic_loss = (&q - target.unsqueeze(0)).square().mean(Kind::Float) * 2.0;
        self.critic_opt.zero_grad();
        critic_loss.backward();
        self.critic_opt.step();
        // The actor reads detached features and detached critics.
        let fs = fs.detach();
        let (a, logp) = self.sample(&fs, false);
        let q_pi = self
            .critic
            .forward(&Tensor::cat(&[&fs, &a], 1), true)
            .amin(0, false);
        let actor_loss = (&logp * alpha - q_pi).mean(Kind::Float);
        if !warming {
            self.actor_opt.zero_grad();
            actor_loss.backward();
            self.actor_opt.step();
            let alpha_loss =
                -(&self.log_alpha * (logp.detach() + self.target_entropy)).mean(Kind::Float);
            self.alpha_opt.zero_grad();
            alpha_loss.backward();
            self.alpha_opt.step();
        }
        polyak(&self.critic_target, &self.critic, self.tau);
        PixelSacStats {
            critic_loss: critic_loss.double_value(&[]),
            actor_loss: actor_loss.double_value(&[]),
            alpha,
        }
    }
}
