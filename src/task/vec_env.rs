//! `VecEnv`: N lift environments stepped in parallel on a fixed thread pool, each with its own
//! deterministic seed stream, auto-resetting with the final observation kept for bootstrapping.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::config::{RewardConfig, TaskConfig};
use super::env::{LiftEnv, StepInfo};
use crate::scene::BuiltScene;

/// One batched step.
#[derive(Debug, Clone, PartialEq)]
pub struct VecStep {
    /// Observation per env (after an auto-reset: the new episode's first observation).
    pub obs: Vec<Vec<f64>>,
    /// Reward per env.
    pub rewards: Vec<f64>,
    /// Terminal per env.
    pub terminated: Vec<bool>,
    /// Truncated per env.
    pub truncated: Vec<bool>,
    /// Info per env.
    pub infos: Vec<StepInfo>,
    /// For envs whose episode ended this step: the last observation of that episode.
    pub final_obs: Vec<Option<Vec<f64>>>,
}

/// N environments behind one batched API.
#[derive(Debug)]
pub struct VecEnv {
    envs: Vec<LiftEnv>,
    seeds: Vec<ChaCha8Rng>,
    pool: Option<rayon::ThreadPool>,
}

impl VecEnv {
    /// `n` environments stepped on `threads` threads (1 = in the caller's thread).
    pub fn new(
        scene: &BuiltScene,
        task: &TaskConfig,
        reward: &RewardConfig,
        n: usize,
        threads: usize,
    ) -> Self {
        let envs = (0..n)
            .map(|_| LiftEnv::new(scene.clone(), task.clone(), reward.clone()))
            .collect();
        let pool = (threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .ok()
            })
            .flatten();
        Self {
            envs,
            seeds: Vec::new(),
            pool,
        }
    }

    /// Number of environments.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// True when there are no environments.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// The environments (for recording and inspection).
    pub fn envs(&self) -> &[LiftEnv] {
        &self.envs
    }

    /// Resets every env. Env i draws its episode seeds from ChaCha8 stream i of `seed`, so the
    /// batch is reproducible whatever the thread timing.
    pub fn reset(&mut self, seed: u64) -> Vec<Vec<f64>> {
        self.seeds = (0..self.envs.len())
            .map(|i| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(i as u64);
                rng
            })
            .collect();
        let seeds: Vec<u64> = self.seeds.iter_mut().map(|r| r.next_u64()).collect();
        let work = |(env, s): (&mut LiftEnv, &u64)| env.reset(*s);
        match &self.pool {
            Some(pool) => pool.install(|| {
                self.envs
                    .par_iter_mut()
                    .zip(seeds.par_iter())
                    .map(work)
                    .collect()
            }),
            None => self.envs.iter_mut().zip(seeds.iter()).map(work).collect(),
        }
    }

    /// Steps every env with its action; ended episodes reset automatically.
    pub fn step(&mut self, actions: &[[f64; 4]]) -> VecStep {
        let next_seeds: Vec<u64> = self.seeds.iter_mut().map(|r| r.next_u64()).collect();
        let work = |((env, a), s): ((&mut LiftEnv, &[f64; 4]), &u64)| {
            let out = env.step(a);
            if out.terminated || out.truncated {
                let first = env.reset(*s);
                (out, Some(first))
            } else {
                (out, None)
            }
        };
        let results: Vec<_> = match &self.pool {
            Some(pool) => pool.install(|| {
                self.envs
                    .par_iter_mut()
                    .zip(actions.par_iter())
                    .zip(next_seeds.par_iter())
                    .map(work)
                    .collect()
            }),
            None => self
                .envs
                .iter_mut()
                .zip(actions.iter())
                .zip(next_seeds.iter())
                .map(work)
                .collect(),
        };
        let mut step = VecStep {
            obs: Vec::with_capacity(results.len()),
            rewards: Vec::with_capacity(results.len()),
            terminated: Vec::with_capacity(results.len()),
            truncated: Vec::with_capacity(results.len()),
            infos: Vec::with_capacity(results.len()),
            final_obs: Vec::with_capacity(results.len()),
        };
        for (out, reset_obs) in results {
            step.rewards.push(out.reward);
            step.terminated.push(out.terminated);
            step.truncated.push(out.truncated);
            step.infos.push(out.info);
            match reset_obs {
                Some(first) => {
                    step.final_obs.push(Some(out.obs));
                    step.obs.push(first);
                }
                None => {
                    step.final_obs.push(None);
                    step.obs.push(out.obs);
                }
            }
        }
        step
    }
}
