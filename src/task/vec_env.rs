//! `VecEnv`: N lift environments stepped in parallel on a fixed thread pool, each with its own
//! deterministic seed stream, auto-resetting with the final observation kept for bootstrapping.
//! With image observations each env renders its cameras inside the parallel step, so the batch
//! of frames is drawn across the pool (the software renderer is per-core; frames never depend on
//! which thread drew them).

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::config::TaskConfig;
use super::env::{StepInfo, TaskEnv};
use super::reward::RewardConfig;
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
    /// Stacked image observation per env (tasks with `[obs.image]`; after an auto-reset: the
    /// new episode's first).
    pub pixels: Vec<Option<Vec<u8>>>,
    /// For envs whose episode ended this step: the last image observation of that episode.
    pub final_pixels: Vec<Option<Vec<u8>>>,
}

/// N environments behind one batched API.
#[derive(Debug)]
pub struct VecEnv {
    envs: Vec<TaskEnv>,
    seeds: Vec<ChaCha8Rng>,
    pool: Option<rayon::ThreadPool>,
    /// With a GPU renderer, every env's cameras are drawn as one batch after the physics.
    gpu: Option<crate::render::Renderer>,
}

impl VecEnv {
    /// `n` environments stepped on `threads` threads (1 = in the caller's thread).
    ///
    /// # Panics
    /// As [`TaskEnv::new`]; use [`VecEnv::try_new`] for user configs.
    pub fn new(
        scene: &BuiltScene,
        task: &TaskConfig,
        reward: &RewardConfig,
        n: usize,
        threads: usize,
    ) -> Self {
        match Self::try_new(scene, task, reward, n, threads) {
            Ok(v) => v,
            Err(e) => panic!("VecEnv::new: {e} (use VecEnv::try_new for user configs)"),
        }
    }

    /// `n` environments, or why their image observations cannot be rendered.
    pub fn try_new(
        scene: &BuiltScene,
        task: &TaskConfig,
        reward: &RewardConfig,
        n: usize,
        threads: usize,
    ) -> Result<Self, crate::render::RenderError> {
        let mut envs = (0..n)
            .map(|_| TaskEnv::try_new(scene.clone(), task.clone(), reward.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let gpu = envs
            .first()
            .and_then(|e| e.images())
            .map(|p| p.renderer().clone())
            .filter(crate::render::Renderer::is_gpu);
        if gpu.is_some() {
            for e in &mut envs {
                e.set_defer_images(true);
            }
        }
        let pool = (threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .ok()
            })
            .flatten();
        Ok(Self {
            envs,
            seeds: Vec::new(),
            pool,
            gpu,
        })
    }

    /// Current stacked image observation of every env (tasks with `[obs.image]`).
    pub fn pixels(&self) -> Vec<Option<Vec<u8>>> {
        self.envs
            .iter()
            .map(|e| e.pixels().map(<[u8]>::to_vec))
            .collect()
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
    pub fn envs(&self) -> &[TaskEnv] {
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
        let work = |(env, s): (&mut TaskEnv, &u64)| env.reset(*s);
        let obs = match &self.pool {
            Some(pool) => pool.install(|| {
                self.envs
                    .par_iter_mut()
                    .zip(seeds.par_iter())
                    .map(work)
                    .collect()
            }),
            None => self.envs.iter_mut().zip(seeds.iter()).map(work).collect(),
        };
        let all: Vec<usize> = (0..self.envs.len()).collect();
        self.render_batch(&all, true);
        obs
    }

    /// Draws the cameras of envs `which` in one GPU batch and hands each env its frames (GPU
    /// renderer only; the software path renders inside each env's parallel step).
    fn render_batch(&mut self, which: &[usize], fresh: bool) {
        let Some(renderer) = &self.gpu else {
            return;
        };
        if which.is_empty() {
            return;
        }
        let cameras: Vec<usize> = self
            .envs
            .first()
            .and_then(|e| e.images())
            .map(|p| p.camera_ids().to_vec())
            .unwrap_or_default();
        let mut per_env: Vec<Vec<crate::render::Frame>> = vec![Vec::new(); which.len()];
        for &camera in &cameras {
            let sims: Vec<&crate::sim::Sim> = which.iter().map(|&i| self.envs[i].sim()).collect();
            let looks: Vec<crate::render::Appearance> = which
                .iter()
                .map(|&i| self.envs[i].images().map(|p| *p.look()).unwrap_or_default())
                .collect();
            let mut frames = vec![crate::render::Frame::default(); which.len()];
            // The renderer and every env share one compiled scene, so a batch cannot fail on
            // the model; a GPU error leaves the previous images in place.
            if renderer
                .render_batch(&sims, camera, &looks, &mut frames)
                .is_err()
            {
                return;
            }
            for (k, f) in frames.into_iter().enumerate() {
                per_env[k].push(f);
            }
        }
        for (k, &i) in which.iter().enumerate() {
            if let Some(p) = self.envs[i].image_pipeline_mut() {
                p.ingest(&per_env[k], fresh);
            }
        }
    }

    fn step_gpu(&mut self, actions: &[[f64; 4]]) -> VecStep {
        let next_seeds: Vec<u64> = self.seeds.iter_mut().map(|r| r.next_u64()).collect();
        let step_one = |(env, a): (&mut TaskEnv, &[f64; 4])| env.step(a);
        let mut outs: Vec<crate::task::StepOutcome> = match &self.pool {
            Some(pool) => pool.install(|| {
                self.envs
                    .par_iter_mut()
                    .zip(actions.par_iter())
                    .map(step_one)
                    .collect()
            }),
            None => self
                .envs
                .iter_mut()
                .zip(actions.iter())
                .map(step_one)
                .collect(),
        };
        let all: Vec<usize> = (0..self.envs.len()).collect();
        self.render_batch(&all, false);
        for (out, env) in outs.iter_mut().zip(&self.envs) {
            out.pixels = env.pixels().map(<[u8]>::to_vec);
        }
        let ended: Vec<usize> = (0..outs.len())
            .filter(|&i| outs[i].terminated || outs[i].truncated)
            .collect();
        let mut first_obs: Vec<Option<Vec<f64>>> = vec![None; outs.len()];
        for &i in &ended {
            first_obs[i] = Some(self.envs[i].reset(next_seeds[i]));
        }
        self.render_batch(&ended, true);
        let results = outs
            .into_iter()
            .enumerate()
            .map(|(i, out)| {
                let reset = first_obs[i]
                    .take()
                    .map(|first| (first, self.envs[i].pixels().map(<[u8]>::to_vec)));
                (out, reset)
            })
            .collect();
        assemble(results)
    }

    /// Steps every env with its action; ended episodes reset automatically.
    pub fn step(&mut self, actions: &[[f64; 4]]) -> VecStep {
        if self.gpu.is_some() {
            return self.step_gpu(actions);
        }
        let next_seeds: Vec<u64> = self.seeds.iter_mut().map(|r| r.next_u64()).collect();
        let work = |((env, a), s): ((&mut TaskEnv, &[f64; 4]), &u64)| {
            let out = env.step(a);
            if out.terminated || out.truncated {
                let first = env.reset(*s);
                let pixels = env.pixels().map(<[u8]>::to_vec);
                (out, Some((first, pixels)))
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
        assemble(results)
    }
}

/// One step's outcome per env, with the new episode's first observation and image where it
/// ended.
type EnvResult = (
    crate::task::StepOutcome,
    Option<(Vec<f64>, Option<Vec<u8>>)>,
);

/// The batched step from per-env results: after an auto-reset, `obs` and `pixels` are the new
/// episode's and the ended episode's last ones go to `final_obs` and `final_pixels`.
fn assemble(results: Vec<EnvResult>) -> VecStep {
    let n = results.len();
    let mut step = VecStep {
        obs: Vec::with_capacity(n),
        rewards: Vec::with_capacity(n),
        terminated: Vec::with_capacity(n),
        truncated: Vec::with_capacity(n),
        infos: Vec::with_capacity(n),
        final_obs: Vec::with_capacity(n),
        pixels: Vec::with_capacity(n),
        final_pixels: Vec::with_capacity(n),
    };
    for (out, reset) in results {
        step.rewards.push(out.reward);
        step.terminated.push(out.terminated);
        step.truncated.push(out.truncated);
        step.infos.push(out.info);
        match reset {
            Some((first, first_pixels)) => {
                step.final_obs.push(Some(out.obs));
                step.obs.push(first);
                step.final_pixels.push(out.pixels);
                step.pixels.push(first_pixels);
            }
            None => {
                step.final_obs.push(None);
                step.obs.push(out.obs);
                step.final_pixels.push(None);
                step.pixels.push(out.pixels);
            }
        }
    }
    step
}
