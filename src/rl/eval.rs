//! Deterministic evaluation: success rate with a Wilson 95% interval, mean return and length,
//! and failures by kind.

use serde::Serialize;

use crate::episode::{EpisodeRecorder, PolicyOutputs, header_for, step_record};
use crate::task::{EpisodeSummary, EpisodeTracker, TaskEnv};

/// How an unsuccessful episode failed (the task's classification).
pub use crate::task::FailureKind as EvalFailure;
pub use crate::task::wilson95;

/// Grasp quality over an evaluation's episodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct GraspQualitySummary {
    /// Episodes in which the cube was held at least one step.
    pub episodes_held: usize,
    /// Mean over those episodes of the fraction of held steps with only the pads touching.
    pub mean_pads_only_fraction: f64,
    /// Mean over those episodes of the fraction of held steps at the friction-cone limit.
    pub mean_sliding_fraction: f64,
    /// Mean over all episodes of the deepest non-pad hand penetration, metres.
    pub mean_max_box_penetration_m: f64,
    /// Deepest non-pad hand penetration of any episode, metres.
    pub max_box_penetration_m: f64,
}

impl GraspQualitySummary {
    /// Summarises the rows of an evaluation.
    pub fn of(rows: &[EpisodeSummary]) -> Self {
        let held: Vec<_> = rows.iter().filter(|r| r.quality.held_steps > 0).collect();
        let mean = |v: &mut dyn Iterator<Item = f64>, n: usize| {
            if n == 0 {
                0.0
            } else {
                v.sum::<f64>() / n as f64
            }
        };
        Self {
            episodes_held: held.len(),
            mean_pads_only_fraction: mean(
                &mut held.iter().map(|r| r.quality.pads_only_fraction),
                held.len(),
            ),
            mean_sliding_fraction: mean(
                &mut held.iter().map(|r| r.quality.sliding_fraction),
                held.len(),
            ),
            mean_max_box_penetration_m: mean(
                &mut rows.iter().map(|r| r.quality.max_box_penetration_m),
                rows.len(),
            ),
            max_box_penetration_m: rows
                .iter()
                .map(|r| r.quality.max_box_penetration_m)
                .fold(0.0, f64::max),
        }
    }
}

/// Evaluation results.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Episodes run.
    pub episodes: usize,
    /// Successful episodes.
    pub successes: usize,
    /// Success rate.
    pub success_rate: f64,
    /// Wilson 95% interval of the success rate.
    pub success_ci95: [f64; 2],
    /// Mean undiscounted return.
    pub mean_return: f64,
    /// Mean episode length.
    pub mean_length: f64,
    /// Failures by kind.
    pub never_touched: usize,
    /// Failures by kind.
    pub one_pad_contact: usize,
    /// Failures by kind.
    pub dropped: usize,
    /// Failures by kind.
    pub timeout: usize,
    /// Place failures by kind (0 for other tasks).
    pub never_grasped: usize,
    /// Place failures by kind.
    pub missed_target: usize,
    /// Place failures by kind.
    pub not_released: usize,
    /// Place failures by kind.
    pub knocked_over: usize,
    /// How the cube was held, summarised.
    pub grasp: GraspQualitySummary,
    /// One row per episode, in seed order.
    pub per_episode: Vec<EpisodeSummary>,
}

impl EvalReport {
    fn count(&mut self, failure: Option<EvalFailure>) {
        let slot = match failure {
            None => &mut self.successes,
            Some(EvalFailure::NeverTouched) => &mut self.never_touched,
            Some(EvalFailure::OnePadContact) => &mut self.one_pad_contact,
            Some(EvalFailure::Dropped) => &mut self.dropped,
            Some(EvalFailure::Timeout) => &mut self.timeout,
            Some(EvalFailure::NeverGrasped) => &mut self.never_grasped,
            Some(EvalFailure::MissedTarget) => &mut self.missed_target,
            Some(EvalFailure::NotReleased) => &mut self.not_released,
            Some(EvalFailure::KnockedOver) => &mut self.knocked_over,
        };
        *slot += 1;
    }

    /// Failure counts by kind, leaving out kinds with none (report order).
    pub fn failure_counts(&self) -> Vec<(EvalFailure, usize)> {
        EvalFailure::ALL
            .iter()
            .map(|&k| {
                let n = self
                    .per_episode
                    .iter()
                    .filter(|r| r.failure == Some(k))
                    .count();
                (k, n)
            })
            .filter(|&(_, n)| n > 0)
            .collect()
    }
}

/// Runs `episodes` episodes with seeds `first_seed..`, acting with `act` (state observation and,
/// for tasks with `[obs.image]`, the image tensor -> action and optional outputs); records each
/// to `record_dir` when given.
pub fn evaluate<F>(
    env: &mut TaskEnv,
    episodes: usize,
    first_seed: u64,
    record_dir: Option<&std::path::Path>,
    policy_name: &str,
    mut act: F,
) -> Result<EvalReport, crate::episode::EpisodeError>
where
    F: FnMut(&[f64], Option<&[u8]>) -> ([f64; 4], Option<PolicyOutputs>),
{
    let mut r = EvalReport {
        episodes,
        successes: 0,
        success_rate: 0.0,
        success_ci95: [0.0, 1.0],
        mean_return: 0.0,
        mean_length: 0.0,
        never_touched: 0,
        one_pad_contact: 0,
        dropped: 0,
        timeout: 0,
        never_grasped: 0,
        missed_target: 0,
        not_released: 0,
        knocked_over: 0,
        grasp: GraspQualitySummary::default(),
        per_episode: Vec::with_capacity(episodes),
    };
    for k in 0..episodes as u64 {
        let seed = first_seed + k;
        let mut obs = env.reset(seed);
        let mut rec = match record_dir {
            Some(dir) => Some(EpisodeRecorder::create(
                &dir.join(format!("eval_{seed:06}.jsonl")),
                &header_for(env, seed, policy_name, &obs),
            )?),
            None => None,
        };
        let mut tracker = EpisodeTracker::new(seed);
        loop {
            let (action, outputs) = act(&obs, env.pixels());
            let out = env.step(&action);
            tracker.push(&out.info, out.reward, &env.sim().inspect_grasp());
            if let Some(rec) = &mut rec {
                rec.record(&step_record(env, &action, &out, outputs))?;
            }
            obs = out.obs;
            if out.terminated || out.truncated {
                let row = tracker.finish();
                r.mean_return += row.ret / episodes as f64;
                r.mean_length += row.steps as f64 / episodes as f64;
                r.count(row.failure);
                r.per_episode.push(row);
                break;
            }
        }
        if let Some(rec) = rec {
            rec.finish()?;
        }
    }
    r.success_rate = if episodes == 0 {
        0.0
    } else {
        r.successes as f64 / episodes as f64
    };
    r.success_ci95 = wilson95(r.successes, episodes);
    r.grasp = GraspQualitySummary::of(&r.per_episode);
    Ok(r)
}
