//! Teacher-student distillation (DAgger): a state-based teacher that reads the simulator's
//! privileged state labels every state a student visits; the student sees only the wrist image
//! and the state a real arm measures, and learns to reproduce the labels. Iteration 0 executes
//! the teacher's actions (behaviour cloning); later iterations execute the student's more and
//! more, so it learns to recover from its own mistakes.

mod config;
mod dataset;
mod run;

pub use config::DistillConfig;
pub use dataset::{Dataset, Minibatch};
pub use run::{DistillProgress, DistillReport, distill};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::nets::Adam;
use super::normalize::ObsNormalizer;
use super::pixel::{ImageShape, PixelActor, RandomShift, images_tensor};
use super::rng::TorchInit;
use crate::task::{ObsConfig, VecEnv};

/// Who labels the states: given its own observations of a batch of states, the actions.
pub trait Teacher {
    /// The observation layout the teacher reads (usually privileged).
    fn obs_config(&self) -> &ObsConfig;
    /// Actions for a batch of the teacher's observations.
    fn label(&mut self, obs: &[Vec<f64>]) -> Vec<[f64; 4]>;
}

/// A state policy file as the teacher.
#[derive(Debug)]
pub struct PolicyTeacher {
    /// The policy.
    pub policy: super::policy::Policy,
    /// Its observation layout (from its recorded task config).
    pub obs: ObsConfig,
}

impl Teacher for PolicyTeacher {
    fn obs_config(&self) -> &ObsConfig {
        &self.obs
    }

    fn label(&mut self, obs: &[Vec<f64>]) -> Vec<[f64; 4]> {
        if obs.is_empty() {
            return Vec::new();
        }
        let dim = obs[0].len() as i64;
        let flat: Vec<f32> = obs.iter().flatten().map(|&v| v as f32).collect();
        let a = tch::no_grad(|| {
            let x = Tensor::from_slice(&flat).reshape([obs.len() as i64, dim]);
            self.policy.deterministic_action(&x).to_kind(Kind::Double)
        });
        let v = Vec::<f64>::try_from(a.reshape([-1])).unwrap_or_default();
        v.chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect()
    }
}

/// The student being trained: network, optimiser, state normaliser, augmentation and the
/// random streams of minibatches and of the teacher/student choice.
#[derive(Debug)]
pub struct Student {
    /// The network (deterministic head).
    pub actor: PixelActor,
    /// Its optimiser.
    pub opt: Adam,
    /// State normaliser (statistics of iteration 0's data, then fixed).
    pub norm: ObsNormalizer,
    /// Random shift of training images.
    pub shift: RandomShift,
    /// Minibatch sampling.
    pub sample_rng: ChaCha8Rng,
    /// Teacher-or-student choice in the rollouts.
    pub mix_rng: ChaCha8Rng,
    weights: Tensor,
    batch: Minibatch,
    augmented: Vec<u8>,
}

impl Student {
    /// A fresh student for images of `image` and states of `state_dim`.
    pub fn new(image: ImageShape, state_dim: usize, cfg: &DistillConfig) -> Result<Self, String> {
        let mut init = TorchInit::new(cfg.seed);
        let hidden: Vec<i64> = cfg.head.iter().map(|&h| h as i64).collect();
        let actor = PixelActor::new(
            image,
            state_dim as i64,
            4,
            &cfg.encoder,
            &hidden,
            false,
            &mut init,
        )?;
        let opt = Adam::new(&actor.parameters(), cfg.learning_rate);
        let w = cfg.gripper_weight as f32;
        Ok(Self {
            actor,
            opt,
            norm: ObsNormalizer::new(state_dim, 10.0, true),
            shift: RandomShift::new(cfg.shift_px, cfg.seed.wrapping_add(17)),
            sample_rng: ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(29)),
            mix_rng: ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(43)),
            weights: Tensor::from_slice(&[1.0f32, 1.0, 1.0, w]).reshape([1, 4]),
            batch: Minibatch::default(),
            augmented: Vec::new(),
        })
    }

    fn states_tensor(&self, states: &[f32], batch: usize) -> Tensor {
        let dim = states.len() / batch.max(1);
        let mut flat = Vec::with_capacity(states.len());
        let mut row = Vec::with_capacity(dim);
        let mut buf = Vec::with_capacity(dim);
        for chunk in states.chunks_exact(dim.max(1)) {
            row.clear();
            row.extend(chunk.iter().map(|&v| f64::from(v)));
            self.norm.apply(&row, &mut buf);
            flat.extend_from_slice(&buf);
        }
        Tensor::from_slice(&flat).reshape([batch as i64, dim as i64])
    }

    /// One gradient step on a minibatch of `batch` samples: weighted squared error between the
    /// student's action (on a randomly shifted image) and the teacher's label. Returns the loss.
    pub fn update(&mut self, data: &Dataset, batch: usize) -> f64 {
        data.sample(batch, &mut self.sample_rng, &mut self.batch);
        let s = self.actor.image;
        let (c, h, w) = (s.planes as usize, s.height as usize, s.width as usize);
        self.shift
            .apply(&self.batch.images, &mut self.augmented, c, h, w);
        let images = images_tensor(&self.augmented, batch as i64, s.planes, s.height, s.width);
        let states = self.states_tensor(&self.batch.states, batch);
        let target = Tensor::from_slice(&self.batch.actions).reshape([batch as i64, 4]);
        let pred = self.actor.forward(&images, &states, false, false).tanh();
        let loss = ((pred - target).square() * &self.weights)
            .sum_dim_intlist(1, false, Kind::Float)
            .mean(Kind::Float);
        self.opt.zero_grad();
        loss.backward();
        self.opt.step();
        loss.double_value(&[])
    }

    /// Deterministic actions for a batch of raw states and their image tensors.
    pub fn act_batch(&self, states: &[Vec<f64>], pixels: &[&[u8]]) -> Vec<[f64; 4]> {
        let n = states.len();
        if n == 0 {
            return Vec::new();
        }
        let flat: Vec<f32> = states.iter().flatten().map(|&v| v as f32).collect();
        let bytes: Vec<u8> = pixels.iter().flat_map(|p| p.iter().copied()).collect();
        let s = self.actor.image;
        let a = tch::no_grad(|| {
            let img = images_tensor(&bytes, n as i64, s.planes, s.height, s.width);
            let st = self.states_tensor(&flat, n);
            self.actor.action(&img, &st).to_kind(Kind::Double)
        });
        let v = Vec::<f64>::try_from(a.reshape([-1])).unwrap_or_default();
        v.chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect()
    }
}

/// What one collection phase saw.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RolloutStats {
    /// Env steps taken.
    pub steps: usize,
    /// Episodes that ended.
    pub episodes: usize,
    /// Of those, successes.
    pub successes: usize,
    /// Steps where the student's action was executed.
    pub student_steps: usize,
}

/// Collects `steps` env steps from `vec` (already reset): every visited state is stored with
/// the teacher's label; the executed action is the teacher's with probability `beta`, else the
/// student's.
pub fn collect(
    vec: &mut VecEnv,
    teacher: &mut dyn Teacher,
    student: &mut Student,
    data: &mut Dataset,
    beta: f64,
    steps: usize,
    update_norm: bool,
) -> RolloutStats {
    let mut stats = RolloutStats::default();
    let n = vec.len();
    let mut obs: Vec<Vec<f64>> = vec
        .envs()
        .iter()
        .map(|e| e.observation().to_vec())
        .collect();
    let mut pixels: Vec<Vec<u8>> = vec
        .envs()
        .iter()
        .map(|e| e.pixels().map(<[u8]>::to_vec).unwrap_or_default())
        .collect();
    while stats.steps < steps {
        let teacher_obs: Vec<Vec<f64>> = vec
            .envs()
            .iter()
            .map(|e| e.observation_for(teacher.obs_config()))
            .collect();
        let labels = teacher.label(&teacher_obs);
        let student_actions = if beta < 1.0 {
            let refs: Vec<&[u8]> = pixels.iter().map(Vec::as_slice).collect();
            student.act_batch(&obs, &refs)
        } else {
            Vec::new()
        };
        let mut exec = Vec::with_capacity(n);
        for i in 0..n {
            data.push(&pixels[i], &obs[i], &labels[i]);
            if update_norm {
                student.norm.stats.update(&obs[i]);
            }
            let teacher_acts = beta >= 1.0 || student.mix_rng.random::<f64>() < beta;
            if teacher_acts {
                exec.push(labels[i]);
            } else {
                exec.push(student_actions[i]);
                stats.student_steps += 1;
            }
        }
        let out = vec.step(&exec);
        for i in 0..n {
            if out.terminated[i] || out.truncated[i] {
                stats.episodes += 1;
                stats.successes += usize::from(out.infos[i].success);
            }
        }
        obs = out.obs;
        pixels = out
            .pixels
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        stats.steps += n;
    }
    stats
}
