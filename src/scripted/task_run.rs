//! The scripted controller on a task config, through the env's action space: the pick-and-place
//! on tasks with a target, the pick and lift on others. Each episode is judged by the task's own
//! success predicate and classified by the same tracker `eval` uses.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::CartesianPlacePolicy;
use crate::scene::BuiltScene;
use crate::task::{EpisodeSummary, EpisodeTracker, RewardConfig, TaskConfig, TaskEnv};

/// The scripted controller's results on a task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskPickReport {
    /// Task name.
    pub task: String,
    /// Episodes run.
    pub episodes: usize,
    /// Episodes that met the task's success predicate.
    pub successes: usize,
    /// Success rate.
    pub success_rate: f64,
    /// Wilson 95% interval of the success rate.
    pub success_ci95: [f64; 2],
    /// Failures by kind (label -> count).
    pub failures: BTreeMap<String, usize>,
    /// Mean episode length of the successes, steps.
    pub mean_success_steps: f64,
    /// Wall-clock seconds per episode.
    pub mean_episode_secs: f64,
    /// One row per episode, in seed order.
    pub per_episode: Vec<EpisodeSummary>,
}

/// Runs the scripted controller for `episodes` seeds from `first_seed` on `task`.
pub fn run_task_picks(
    scene: &BuiltScene,
    task: &TaskConfig,
    reward: &RewardConfig,
    first_seed: u64,
    episodes: usize,
) -> TaskPickReport {
    let mut env = TaskEnv::new(scene.clone(), task.clone(), reward.clone());
    let start = Instant::now();
    let mut rows = Vec::with_capacity(episodes);
    for seed in first_seed..first_seed + episodes as u64 {
        env.reset(seed);
        let mut policy = CartesianPlacePolicy::new();
        let mut tracker = EpisodeTracker::new(seed);
        loop {
            let action = policy.act(&env);
            let out = env.step(&action);
            tracker.push(&out.info, out.reward, &env.sim().inspect_grasp());
            if out.terminated || out.truncated {
                break;
            }
        }
        rows.push(tracker.finish());
    }
    let successes = rows.iter().filter(|r| r.success).count();
    let mut failures = BTreeMap::new();
    for f in rows.iter().filter_map(|r| r.failure) {
        *failures.entry(f.label().to_owned()).or_insert(0) += 1;
    }
    let success_steps: usize = rows.iter().filter(|r| r.success).map(|r| r.steps).sum();
    TaskPickReport {
        task: task.name.clone(),
        episodes,
        successes,
        success_rate: successes as f64 / episodes.max(1) as f64,
        success_ci95: crate::task::wilson95(successes, episodes),
        failures,
        mean_success_steps: success_steps as f64 / successes.max(1) as f64,
        mean_episode_secs: start.elapsed().as_secs_f64() / episodes.max(1) as f64,
        per_episode: rows,
    }
}
