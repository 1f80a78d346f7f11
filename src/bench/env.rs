//! `so101-lab bench env`: env steps/s and where the time goes (physics, IK, observation and
//! reward, recording), batched throughput, and raw mj_step/s for comparison.

use std::fmt;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::episode::{EpisodeRecorder, header_for, step_record};
use crate::scene::BuiltScene;
use crate::task::{RewardConfig, TaskConfig, TaskEnv, VecEnv};

/// Results of `bench env`.
#[derive(Debug, Clone, Serialize)]
pub struct EnvBench {
    /// Env steps per measurement.
    pub steps: usize,
    /// Physics steps per env step.
    pub substeps: usize,
    /// Raw mj_step/s of the same scene (arm moving, no env).
    pub raw_mj_steps_per_sec: f64,
    /// Single-thread env steps/s, random actions, no recording.
    pub env_steps_per_sec: f64,
    /// Share of env step time in the physics substeps.
    pub physics_share: f64,
    /// Share in action mapping and the IK step.
    pub ik_share: f64,
    /// Share in grasp predicate, reward and observation.
    pub obs_reward_share: f64,
    /// Share in rendering the image observation (0 without `[obs.image]`).
    pub render_share: f64,
    /// Env time over the physics it runs, minus one (goal: <= 0.05).
    pub env_overhead: f64,
    /// Microseconds to record one step to an episode file.
    pub record_us_per_step: f64,
    /// Env steps/s with recording on.
    pub env_steps_per_sec_recording: f64,
    /// Batched throughput (total env steps/s) for N = 1, 2, 4 envs.
    pub batched: Vec<(usize, f64)>,
}

impl fmt::Display for EnvBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "env benchmark ({} env steps, {} substeps each, random actions)",
            self.steps, self.substeps
        )?;
        writeln!(
            f,
            "  raw mj_step/s                 {:>10.0}  (= {:.0} env-steps/s of physics)",
            self.raw_mj_steps_per_sec,
            self.raw_mj_steps_per_sec / self.substeps as f64
        )?;
        writeln!(
            f,
            "  env steps/s, 1 thread         {:>10.0}",
            self.env_steps_per_sec
        )?;
        writeln!(
            f,
            "    split: physics {:.1}%, IK {:.1}%, obs+reward {:.1}%, rendering {:.1}%  -> env overhead {:+.1}% over its physics",
            100.0 * self.physics_share,
            100.0 * self.ik_share,
            100.0 * self.obs_reward_share,
            100.0 * self.render_share,
            100.0 * self.env_overhead
        )?;
        writeln!(
            f,
            "  recording                     {:>10.1} us/step ({:.0} env steps/s while recording)",
            self.record_us_per_step, self.env_steps_per_sec_recording
        )?;
        for (n, rate) in &self.batched {
            writeln!(
                f,
                "  VecEnv N={n}                   {rate:>10.0} env steps/s"
            )?;
        }
        Ok(())
    }
}

fn random_actions(rng: &mut ChaCha8Rng) -> [f64; 4] {
    std::array::from_fn(|_| rng.random_range(-1.0..=1.0))
}

/// Runs every measurement.
pub fn env(scene: &BuiltScene, task: &TaskConfig, reward: &RewardConfig, steps: usize) -> EnvBench {
    let steps = steps.max(1);
    let raw = super::free_arm_rate(
        scene,
        steps as f64 * task.substeps as f64 * scene.model.opt().timestep,
    );

    let mut env = TaskEnv::new(scene.clone(), task.clone(), reward.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    env.reset(0);
    env.take_timings();
    let start = Instant::now();
    let mut seed = 1;
    for _ in 0..steps {
        let out = env.step(&random_actions(&mut rng));
        if out.terminated || out.truncated {
            env.reset(seed);
            seed += 1;
        }
    }
    let wall = start.elapsed();
    let t = env.take_timings();
    let in_steps = (t.physics + t.ik + t.obs_reward + t.render)
        .as_secs_f64()
        .max(1e-12);

    // Recording: same loop, every step written to a temporary episode file.
    let dir = std::env::temp_dir().join(format!("so101-bench-env-{}", std::process::id()));
    let mut record_time = Duration::ZERO;
    let mut env_time = Duration::ZERO;
    let mut recorded = 0usize;
    let mut episode = 0u64;
    while recorded < steps {
        let obs = env.reset(1000 + episode);
        let path = dir.join(format!("bench_{episode}.jsonl"));
        let Ok(mut rec) =
            EpisodeRecorder::create(&path, &header_for(&env, 1000 + episode, "random", &obs))
        else {
            break;
        };
        loop {
            let a = random_actions(&mut rng);
            let t0 = Instant::now();
            let out = env.step(&a);
            let t1 = Instant::now();
            let _ = rec.record(&step_record(&env, &a, &out, None));
            record_time += t1.elapsed();
            env_time += t1 - t0;
            recorded += 1;
            if out.terminated || out.truncated || recorded >= steps {
                break;
            }
        }
        let _ = rec.finish();
        episode += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);

    let batched = [1usize, 2, 4]
        .iter()
        .map(|&n| {
            let mut v = VecEnv::new(
                scene,
                task,
                reward,
                n,
                n.min(std::thread::available_parallelism().map_or(1, |p| p.get())),
            );
            v.reset(7);
            let per_env = (steps / n).max(1);
            let actions: Vec<[f64; 4]> = (0..n).map(|_| random_actions(&mut rng)).collect();
            let start = Instant::now();
            for _ in 0..per_env {
                v.step(&actions);
            }
            (n, (per_env * n) as f64 / start.elapsed().as_secs_f64())
        })
        .collect();

    let physics_secs = t.physics.as_secs_f64();
    EnvBench {
        steps,
        substeps: task.substeps,
        raw_mj_steps_per_sec: raw,
        env_steps_per_sec: steps as f64 / wall.as_secs_f64(),
        physics_share: physics_secs / in_steps,
        ik_share: t.ik.as_secs_f64() / in_steps,
        obs_reward_share: t.obs_reward.as_secs_f64() / in_steps,
        render_share: t.render.as_secs_f64() / in_steps,
        env_overhead: in_steps / physics_secs.max(1e-12) - 1.0,
        record_us_per_step: record_time.as_secs_f64() * 1e6 / recorded.max(1) as f64,
        env_steps_per_sec_recording: recorded as f64
            / (env_time + record_time).as_secs_f64().max(1e-12),
        batched,
    }
}
