//! `so101-lab bench sac`: gradient updates/s at batch 256 with the lift task's shapes, for 1 and
//! 2 intra-op threads.

use std::fmt;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::rl::replay::ReplayBuffer;
use crate::rl::{Sac, SacConfig};

/// Results of `bench sac`.
#[derive(Debug, Clone, Serialize)]
pub struct SacBench {
    /// Batch size.
    pub batch_size: usize,
    /// Hidden layers.
    pub net_arch: Vec<usize>,
    /// (threads, updates/s, ms/update).
    pub updates: Vec<(usize, f64, f64)>,
    /// Approximate FLOP of one update.
    pub gflop_per_update: f64,
    /// Full training loop (collect + update every step, UTD 1), env steps/s after learning
    /// starts: (torch threads, steps/s).
    pub train_loop: Vec<(usize, f64)>,
}

impl fmt::Display for SacBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "SAC update benchmark: batch {}, nets {:?}, ~{:.2} GFLOP/update",
            self.batch_size, self.net_arch, self.gflop_per_update
        )?;
        for (threads, ups, ms) in &self.updates {
            writeln!(
                f,
                "  {threads} thread(s): {ups:>7.1} updates/s  ({ms:.2} ms/update, {:.1} GFLOP/s)",
                ups * self.gflop_per_update
            )?;
        }
        for (threads, rate) in &self.train_loop {
            writeln!(
                f,
                "  full training loop (UTD 1, {threads} torch thread(s)): {rate:.1} env steps/s"
            )?;
        }
        Ok(())
    }
}

/// Env steps/s of the real training loop (reference config, UTD 1) over `steps` steps after a
/// 1000-step warm-up, in a temporary run folder.
pub fn train_loop_rate(
    scene: &crate::scene::BuiltScene,
    steps: usize,
    threads: usize,
) -> Option<f64> {
    let cfg = SacConfig {
        torch_threads: threads,
        total_timesteps: 1000 + steps,
        eval_freq: 0,
        checkpoint_freq: 0,
        ..SacConfig::default()
    };
    let task = crate::task::TaskConfig::default();
    let reward = crate::task::RewardConfig::default();
    let dir = std::env::temp_dir().join(format!("so101-bench-train-{}", std::process::id()));
    // Measured from the first progress report after learning starts (or from the start, if
    // the run is too short to report) to the end of the run.
    let started = Instant::now();
    let mut at_warm: Option<(usize, Instant)> = None;
    let result = crate::rl::train::train(&cfg, scene, &task, &reward, &dir, None, |p| {
        if at_warm.is_none() && p.step >= 1000 {
            at_warm = Some((p.step, Instant::now()));
        }
    });
    let ended = Instant::now();
    let _ = std::fs::remove_dir_all(&dir);
    result.ok()?;
    let (s0, t0) = at_warm.unwrap_or((0, started));
    let s1 = cfg.total_timesteps;
    (s1 > s0).then(|| (s1 - s0) as f64 / (ended - t0).as_secs_f64().max(1e-9))
}

/// FLOP of one SAC update: forward (2 x in x out per layer and sample) and backward (about 2x
/// forward) for critic update (2 critics, batch + target pass) and actor update.
fn flop_estimate(obs: usize, act: usize, hidden: &[usize], batch: usize) -> f64 {
    let mlp = |input: usize, output: usize| {
        let mut dims = vec![input];
        dims.extend_from_slice(hidden);
        dims.push(output);
        dims.windows(2)
            .map(|w| 2.0 * (w[0] * w[1]) as f64)
            .sum::<f64>()
            * batch as f64
    };
    let actor = mlp(obs, 2 * act);
    let critic = mlp(obs + act, 1);
    // critic step: target actor fwd + 2 target critics fwd + 2 critics fwd+bwd (3x)
    let critic_step = actor + 2.0 * critic + 2.0 * 3.0 * critic;
    // actor step: actor fwd+bwd (3x) + 2 critics fwd + input-gradient bwd (~2x)
    let actor_step = 3.0 * actor + 2.0 * critic * 2.0;
    (critic_step + actor_step) / 1e9
}

/// Times `updates` gradient steps for each thread count.
pub fn sac(updates: usize, threads: &[usize]) -> SacBench {
    let cfg = SacConfig::default();
    let (obs, act) = (21, 4);
    let mut buf = ReplayBuffer::new(10_000, obs, act);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for _ in 0..10_000 {
        let o: Vec<f64> = (0..obs).map(|_| rng.random_range(-1.0..1.0)).collect();
        let a: Vec<f64> = (0..act).map(|_| rng.random_range(-1.0..1.0)).collect();
        buf.push(&o, &a, rng.random_range(-1.0..1.0), &o, false);
    }
    let mut results = Vec::new();
    for &t in threads {
        tch::set_num_threads(t as i32);
        let mut sac = Sac::new(obs, act, &cfg);
        for _ in 0..10 {
            sac.update(&buf.sample(cfg.batch_size, &mut rng), 1.0);
        }
        let start = Instant::now();
        for _ in 0..updates {
            sac.update(&buf.sample(cfg.batch_size, &mut rng), 1.0);
        }
        let secs = start.elapsed().as_secs_f64();
        results.push((t, updates as f64 / secs, secs * 1e3 / updates as f64));
    }
    tch::set_num_threads(1);
    SacBench {
        batch_size: cfg.batch_size,
        gflop_per_update: flop_estimate(obs, act, &cfg.net_arch, cfg.batch_size),
        net_arch: cfg.net_arch,
        updates: results,
        train_loop: Vec::new(),
    }
}
