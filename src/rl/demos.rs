//! Scripted-pick demonstrations for the learner: collected once per run into their own replay
//! buffer, sampled beside the online buffer (RLPD-style), and optionally the data of an offline
//! warm start (`SacConfig::pretrain_updates`) and a behaviour-cloning term
//! (`SacConfig::bc_weight`).

use super::config::SacConfig;
use super::critic_obs::{self, extras_after};
use super::normalize::RunningStats;
use super::nstep::NStepFolder;
use super::replay::{self, ReplayBuffer, store};
use crate::scene::BuiltScene;
use crate::scripted::CartesianPlacePolicy;
use crate::task::{RewardConfig, TaskConfig, TaskEnv};

/// First reset seed of the demonstrations (after the run's seed), apart from training's,
/// in-training evaluation's (2,000,000..) and `eval`'s (1,000,000..) seeds.
pub const DEMO_SEED_OFFSET: u64 = 500_000;

/// `cfg.demos` scripted-pick episodes in the env's action space, as n-step transitions with the
/// asymmetric critic's extras when the learner has them; `None` without demos. Each stored row
/// also updates `stats` when given (the observation statistics of a run that pretrains).
pub fn collect(
    cfg: &SacConfig,
    scene: &BuiltScene,
    task: &TaskConfig,
    reward: &RewardConfig,
    row_dim: usize,
    mut stats: Option<&mut RunningStats>,
) -> anyhow::Result<Option<ReplayBuffer>> {
    if cfg.demos == 0 {
        return Ok(None);
    }
    let mut env = TaskEnv::new(scene.clone(), task.clone(), reward.clone());
    let mut buf = replay::for_learner(cfg, cfg.demos * task.max_episode_steps, row_dim);
    let hold = cfg.asymmetric_critic.then_some(task.success_hold_steps);
    let mut folder = NStepFolder::new(cfg.n_step, cfg.gamma, 1);
    let mut ok = 0;
    for k in 0..cfg.demos as u64 {
        let obs = env.reset(cfg.seed.wrapping_add(DEMO_SEED_OFFSET + k));
        let extras = match hold {
            Some(_) => critic_obs::at_reset(&env).to_vec(),
            None => Vec::new(),
        };
        let mut row = critic_obs::joined(&obs, &extras);
        if let Some(s) = stats.as_deref_mut() {
            s.update(&row);
        }
        let mut policy = CartesianPlacePolicy::new();
        loop {
            let a = policy.act(&env);
            let out = env.step(&a);
            let next_row = critic_obs::joined(&out.obs, &extras_after(hold, &out.info));
            let ends = (out.terminated, out.truncated);
            store(
                &mut buf,
                &mut folder,
                0,
                &row,
                &a,
                out.reward,
                &next_row,
                ends,
            );
            if let Some(s) = stats.as_deref_mut() {
                s.update(&next_row);
            }
            row = next_row;
            if out.terminated || out.truncated {
                ok += usize::from(out.info.success);
                break;
            }
        }
    }
    eprintln!(
        "demonstrations: {} transitions from {} scripted episodes ({ok} successful)",
        buf.len(),
        cfg.demos
    );
    Ok(Some(buf))
}
