//! Deterministic evaluation: success rate with a Wilson 95% interval, mean return and length,
//! and failures by kind.

use serde::Serialize;

use crate::episode::{EpisodeRecorder, PolicyOutputs, header_for, step_record};
use crate::task::LiftEnv;

/// How an unsuccessful episode failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalFailure {
    /// No pad ever touched the cube.
    NeverTouched,
    /// Pads touched, but never both at once with the gripper closed.
    OnePadContact,
    /// Grasped at some point, not at the end.
    Dropped,
    /// Grasped at the end but not lifted long enough.
    Timeout,
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
}

/// Wilson score interval for `k` successes out of `n` at 95%.
pub fn wilson95(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (n, p, z) = (n as f64, k as f64 / n as f64, 1.959_963_984_540_054);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// Runs `episodes` episodes with seeds `first_seed..`, acting with `act` (state observation and,
/// for tasks with `[obs.image]`, the image tensor -> action and optional outputs); records each
/// to `record_dir` when given.
pub fn evaluate<F>(
    env: &mut LiftEnv,
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
        let (mut touched, mut ever_grasped, mut ret) = (false, false, 0.0);
        loop {
            let (action, outputs) = act(&obs, env.pixels());
            let out = env.step(&action);
            ret += out.reward;
            touched |= out.info.static_pad_contact || out.info.moving_pad_contact;
            ever_grasped |= out.info.grasping;
            if let Some(rec) = &mut rec {
                rec.record(&step_record(env, &action, &out, outputs))?;
            }
            obs = out.obs;
            if out.terminated || out.truncated {
                r.mean_return += ret / episodes as f64;
                r.mean_length += out.info.step as f64 / episodes as f64;
                if out.info.success {
                    r.successes += 1;
                } else if !touched {
                    r.never_touched += 1;
                } else if !ever_grasped {
                    r.one_pad_contact += 1;
                } else if !out.info.grasping {
                    r.dropped += 1;
                } else {
                    r.timeout += 1;
                }
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
    Ok(r)
}
