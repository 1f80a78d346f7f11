//! Replay buffer: preallocated flat f32 storage, uniform sampling into reused batch buffers, and
//! env steps stored through the n-step folder (online training and demonstrations alike).
//! Observations are stored raw; the learner normalises batches with the current statistics.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

use super::config::SacConfig;
use super::nstep::NStepFolder;

/// A batch of transitions as tensors.
#[derive(Debug)]
pub struct Batch {
    /// Raw observations [B, obs].
    pub obs: Tensor,
    /// Actions [B, act].
    pub actions: Tensor,
    /// Rewards (already scaled) [B, 1].
    pub rewards: Tensor,
    /// Raw next observations [B, obs].
    pub next_obs: Tensor,
    /// 1 where the transition ended in a terminal state [B, 1] (truncations are 0).
    pub dones: Tensor,
    /// Bootstrap discount of each transition [B, 1] (gamma^m of n-step returns); `None` for
    /// one-step buffers, whose learner uses its gamma.
    pub discounts: Option<Tensor>,
    /// How many of the last rows are demonstrations (the behaviour-cloning term reads them).
    pub demo_rows: i64,
}

/// Ring buffer of transitions.
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    obs_dim: usize,
    act_dim: usize,
    capacity: usize,
    len: usize,
    next: usize,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    dones: Vec<f32>,
    discounts: Option<Vec<f32>>,
}

impl ReplayBuffer {
    /// Storage for `capacity` transitions.
    pub fn new(capacity: usize, obs_dim: usize, act_dim: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            obs_dim,
            act_dim,
            capacity,
            len: 0,
            next: 0,
            obs: vec![0.0; capacity * obs_dim],
            next_obs: vec![0.0; capacity * obs_dim],
            actions: vec![0.0; capacity * act_dim],
            rewards: vec![0.0; capacity],
            dones: vec![0.0; capacity],
            discounts: None,
        }
    }

    /// Storage that also keeps each transition's bootstrap discount (n-step returns).
    pub fn with_discounts(mut self) -> Self {
        self.discounts = Some(vec![0.0; self.capacity]);
        self
    }

    /// Stores an n-step transition with its bootstrap discount (needs [`Self::with_discounts`];
    /// without it the discount is dropped).
    pub fn push_folded(&mut self, t: &super::nstep::Folded) {
        let i = self.next;
        if let Some(d) = &mut self.discounts {
            d[i] = t.discount as f32;
        }
        self.push(&t.obs, &t.action, t.reward, &t.next_obs, t.terminal);
    }

    /// Transitions stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores one transition (overwriting the oldest when full).
    pub fn push(
        &mut self,
        obs: &[f64],
        action: &[f64],
        reward: f64,
        next_obs: &[f64],
        terminal: bool,
    ) {
        let i = self.next;
        let (o, a) = (self.obs_dim, self.act_dim);
        for (dst, src) in self.obs[i * o..(i + 1) * o].iter_mut().zip(obs) {
            *dst = *src as f32;
        }
        for (dst, src) in self.next_obs[i * o..(i + 1) * o].iter_mut().zip(next_obs) {
            *dst = *src as f32;
        }
        for (dst, src) in self.actions[i * a..(i + 1) * a].iter_mut().zip(action) {
            *dst = *src as f32;
        }
        self.rewards[i] = reward as f32;
        self.dones[i] = f32::from(u8::from(terminal));
        self.next = (self.next + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// `n` transitions sampled uniformly with replacement.
    pub fn sample(&self, n: usize, rng: &mut ChaCha8Rng) -> Batch {
        let (o, a) = (self.obs_dim, self.act_dim);
        let mut obs = Vec::with_capacity(n * o);
        let mut next_obs = Vec::with_capacity(n * o);
        let mut actions = Vec::with_capacity(n * a);
        let mut rewards = Vec::with_capacity(n);
        let mut dones = Vec::with_capacity(n);
        let mut discounts = Vec::with_capacity(if self.discounts.is_some() { n } else { 0 });
        for _ in 0..n {
            let i = rng.random_range(0..self.len.max(1));
            obs.extend_from_slice(&self.obs[i * o..(i + 1) * o]);
            next_obs.extend_from_slice(&self.next_obs[i * o..(i + 1) * o]);
            actions.extend_from_slice(&self.actions[i * a..(i + 1) * a]);
            rewards.push(self.rewards[i]);
            dones.push(self.dones[i]);
            if let Some(d) = &self.discounts {
                discounts.push(d[i]);
            }
        }
        let n = n as i64;
        Batch {
            obs: Tensor::from_slice(&obs).reshape([n, o as i64]),
            actions: Tensor::from_slice(&actions).reshape([n, a as i64]),
            rewards: Tensor::from_slice(&rewards).reshape([n, 1]),
            next_obs: Tensor::from_slice(&next_obs).reshape([n, o as i64]),
            dones: Tensor::from_slice(&dones).reshape([n, 1]),
            discounts: self
                .discounts
                .is_some()
                .then(|| Tensor::from_slice(&discounts).reshape([n, 1])),
            demo_rows: 0,
        }
    }
}

/// Concatenates an online batch and a batch of demonstrations (RLPD-style symmetric
/// sampling); the demonstration rows come last.
pub fn concat(a: Batch, b: Batch) -> Batch {
    // `a` holds no demonstrations, so they are exactly the rows taken from `b`, at the end.
    debug_assert_eq!(a.demo_rows, 0, "the online part holds no demonstrations");
    let demo_rows = b.obs.size()[0];
    Batch {
        obs: Tensor::cat(&[a.obs, b.obs], 0),
        actions: Tensor::cat(&[a.actions, b.actions], 0),
        rewards: Tensor::cat(&[a.rewards, b.rewards], 0),
        next_obs: Tensor::cat(&[a.next_obs, b.next_obs], 0),
        dones: Tensor::cat(&[a.dones, b.dones], 0),
        discounts: match (a.discounts, b.discounts) {
            (Some(x), Some(y)) => Some(Tensor::cat(&[x, y], 0)),
            _ => None,
        },
        demo_rows,
    }
}

/// A replay buffer for the learner config `cfg`: with per-transition discounts when targets
/// fold n > 1 steps.
pub(super) fn for_learner(cfg: &SacConfig, capacity: usize, obs_dim: usize) -> ReplayBuffer {
    let buf = ReplayBuffer::new(capacity, obs_dim, 4);
    if cfg.n_step > 1 {
        buf.with_discounts()
    } else {
        buf
    }
}

/// Stores one env step through the n-step folder, which may complete none, one or, at an
/// episode's end, several transitions (n = 1 gives each step back as it is). `ends` =
/// (terminated, truncated).
#[allow(
    clippy::too_many_arguments,
    reason = "one env step, as the replay buffer takes it"
)]
pub(super) fn store(
    buffer: &mut ReplayBuffer,
    folder: &mut NStepFolder,
    env: usize,
    row: &[f64],
    action: &[f64],
    reward: f64,
    next_row: &[f64],
    ends: (bool, bool),
) {
    for t in folder.push(env, row, action, reward, next_row, ends.0, ends.1) {
        buffer.push_folded(&t);
    }
}
