//! `so101-lab bench sac`: gradient updates/s at batch 256 with the lift task's shapes, for 1 and
//! 2 intra-op threads, against the machine's GEMM bound: the time of the update's matrix
//! products alone (every forward and backward GEMM of one update, same shapes, one thread),
//! measured in the same run.

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
    /// Layer-normalised critics.
    pub critic_layer_norm: bool,
    /// Critic input width (observations, the asymmetric critic's extras, actions).
    pub critic_inputs: usize,
    /// The autograd update (`fused_update = false`): (threads, updates/s, ms/update).
    pub updates: Vec<(usize, f64, f64)>,
    /// The fused update (`fused_update = true`, `rl::fused`), timed in turn with the autograd
    /// one on the same batches: (threads, updates/s, ms/update).
    pub fused_updates: Vec<(usize, f64, f64)>,
    /// Approximate FLOP of one update.
    pub gflop_per_update: f64,
    /// Full training loop (collect + update every step, UTD 1), env steps/s after learning
    /// starts: (torch threads, steps/s).
    pub train_loop: Vec<(usize, f64)>,
    /// The GEMMs of one update alone, one thread, milliseconds (median of repeats).
    pub gemm_bound_ms: f64,
    /// One-thread autograd update time over the GEMM bound (1 = the update is nothing but its
    /// GEMMs).
    pub ratio_to_gemm_bound: f64,
    /// One-thread fused update time over the GEMM bound.
    pub fused_ratio_to_gemm_bound: f64,
    /// Drawing one batch from the replay buffer, milliseconds (not in the update time).
    pub sampling_ms: f64,
}

impl fmt::Display for SacBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "SAC update benchmark: batch {}, nets {:?}, critic inputs {}{}, ~{:.2} GFLOP/update",
            self.batch_size,
            self.net_arch,
            self.critic_inputs,
            if self.critic_layer_norm {
                ", LayerNorm critics"
            } else {
                ""
            },
            self.gflop_per_update
        )?;
        writeln!(
            f,
            "  GEMM bound (the update's matrix products alone, 1 thread): {:.2} ms; the 1-thread \
             update takes {:.2}x that (fused) and {:.2}x (autograd)",
            self.gemm_bound_ms, self.fused_ratio_to_gemm_bound, self.ratio_to_gemm_bound
        )?;
        writeln!(
            f,
            "  replay sampling (not in the update): {:.3} ms per batch",
            self.sampling_ms
        )?;
        for (name, rows) in [("fused", &self.fused_updates), ("autograd", &self.updates)] {
            for (threads, ups, ms) in rows {
                writeln!(
                    f,
                    "  {name:>8}, {threads} thread(s): {ups:>7.1} updates/s  ({ms:.2} ms/update, \
                     {:.1} GFLOP/s)",
                    ups * self.gflop_per_update
                )?;
            }
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
fn flop_estimate(obs: usize, critic_in: usize, act: usize, hidden: &[usize], batch: usize) -> f64 {
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
    let critic = mlp(critic_in, 1);
    // critic step: target actor fwd + 2 target critics fwd + 2 critics fwd+bwd (3x)
    let critic_step = actor + 2.0 * critic + 2.0 * 3.0 * critic;
    // actor step: actor fwd+bwd (3x) + 2 critics fwd + input-gradient bwd (~2x)
    let actor_step = 3.0 * actor + 2.0 * critic * 2.0;
    (critic_step + actor_step) / 1e9
}

/// The GEMMs (m x k times k x n) of one update, mirroring [`flop_estimate`]: a forward pass is
/// one GEMM per layer, a backward pass two more (input and weight gradients), and the critics'
/// input-gradient pass in the actor step one more.
fn update_gemms(
    obs: usize,
    critic_in: usize,
    act: usize,
    hidden: &[usize],
    batch: usize,
) -> Vec<(i64, i64, i64)> {
    let layers = |input: usize, output: usize| {
        let mut dims = vec![input];
        dims.extend_from_slice(hidden);
        dims.push(output);
        dims.windows(2)
            .map(|w| (w[0] as i64, w[1] as i64))
            .collect::<Vec<_>>()
    };
    let b = batch as i64;
    let pass = |input: usize, output: usize, weight_grad: bool, input_grad: bool| {
        let mut g = Vec::new();
        for (i, o) in layers(input, output) {
            g.push((b, i, o));
            if input_grad {
                g.push((b, o, i));
            }
            if weight_grad {
                g.push((i, b, o));
            }
        }
        g
    };
    let (actor, critic) = ((obs, 2 * act), (critic_in, 1));
    let mut all = pass(actor.0, actor.1, false, false);
    for _ in 0..2 {
        all.extend(pass(critic.0, critic.1, false, false));
        all.extend(pass(critic.0, critic.1, true, true));
        all.extend(pass(critic.0, critic.1, false, true));
    }
    all.extend(pass(actor.0, actor.1, true, true));
    all
}

/// Milliseconds of the GEMMs of one update on one thread (f32, the median of `reps` timings).
fn gemm_bound_ms(gemms: &[(i64, i64, i64)], reps: usize) -> f64 {
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let opts = (tch::Kind::Float, tch::Device::Cpu);
    let mats: Vec<(tch::Tensor, tch::Tensor)> = gemms
        .iter()
        .map(|&(m, k, n)| {
            (
                tch::Tensor::randn([m, k], opts),
                tch::Tensor::randn([k, n], opts),
            )
        })
        .collect();
    let run = || {
        for (a, b) in &mats {
            let _ = a.matmul(b);
        }
    };
    run();
    let mut times: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Times `updates` gradient steps for each thread count, with the lift task's shapes (21
/// observations, 4 actions) and `cfg`'s learner: batch size, hidden layers, layer-normalised
/// critics, the asymmetric critic's extra inputs. Both updates are timed, whatever
/// `cfg.fused_update` says.
pub fn sac(updates: usize, threads: &[usize], cfg: &SacConfig) -> SacBench {
    let cfg = cfg.clone();
    let (obs, act) = (21, 4);
    let extra = if cfg.asymmetric_critic {
        crate::rl::critic_obs::DIM
    } else {
        0
    };
    let mut buf = ReplayBuffer::new(10_000, obs + extra, act);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for _ in 0..10_000 {
        let o: Vec<f64> = (0..obs + extra)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let a: Vec<f64> = (0..act).map(|_| rng.random_range(-1.0..1.0)).collect();
        buf.push(&o, &a, rng.random_range(-1.0..1.0), &o, false);
    }
    let (mut results, mut fused_results) = (Vec::new(), Vec::new());
    let mut sampling_ms = f64::NAN;
    for &t in threads {
        tch::set_num_threads(t as i32);
        let mut autograd = Sac::asymmetric(obs, extra, act, &cfg);
        let fused_cfg = SacConfig {
            fused_update: true,
            ..cfg.clone()
        };
        let cfg = SacConfig {
            fused_update: false,
            ..cfg.clone()
        };
        let mut fused = Sac::asymmetric(obs, extra, act, &fused_cfg);
        for _ in 0..10 {
            let batch = buf.sample(cfg.batch_size, &mut rng);
            autograd.update(&batch, 1.0);
            fused.update(&batch, 1.0);
        }
        // Batches are drawn before the clock starts: replay sampling is its own phase of a
        // training step (`sampling_ms`), not part of the update.
        let start = Instant::now();
        let batches: Vec<_> = (0..updates)
            .map(|_| buf.sample(cfg.batch_size, &mut rng))
            .collect();
        sampling_ms = start.elapsed().as_secs_f64() * 1e3 / updates.max(1) as f64;
        // The two updates take turns in rounds, so a machine that slows down mid-run slows both.
        let (mut secs, mut fused_secs) = (0.0, 0.0);
        for round in batches.chunks(updates.div_ceil(5).max(1)) {
            let start = Instant::now();
            for batch in round {
                autograd.update(batch, 1.0);
            }
            secs += start.elapsed().as_secs_f64();
            let start = Instant::now();
            for batch in round {
                fused.update(batch, 1.0);
            }
            fused_secs += start.elapsed().as_secs_f64();
        }
        let rate = |s: f64| (t, updates as f64 / s, s * 1e3 / updates as f64);
        results.push(rate(secs));
        fused_results.push(rate(fused_secs));
    }
    let gemm = gemm_bound_ms(
        &update_gemms(obs, obs + extra + act, act, &cfg.net_arch, cfg.batch_size),
        updates.max(20),
    );
    tch::set_num_threads(1);
    let one_thread =
        |rows: &[(usize, f64, f64)]| rows.iter().find(|r| r.0 == 1).map_or(f64::NAN, |r| r.2);
    SacBench {
        gemm_bound_ms: gemm,
        ratio_to_gemm_bound: one_thread(&results) / gemm,
        fused_ratio_to_gemm_bound: one_thread(&fused_results) / gemm,
        sampling_ms,
        batch_size: cfg.batch_size,
        gflop_per_update: flop_estimate(obs, obs + extra + act, act, &cfg.net_arch, cfg.batch_size),
        critic_layer_norm: cfg.critic_layer_norm,
        critic_inputs: obs + extra + act,
        net_arch: cfg.net_arch,
        updates: results,
        fused_updates: fused_results,
        train_loop: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{flop_estimate, update_gemms};

    #[test]
    fn the_gemm_list_has_the_flops_of_the_estimate() {
        let gemms = update_gemms(21, 25, 4, &[256, 256], 256);
        let flop: f64 = gemms
            .iter()
            .map(|&(m, k, n)| 2.0 * (m * k * n) as f64)
            .sum();
        let estimate = flop_estimate(21, 25, 4, &[256, 256], 256) * 1e9;
        assert!((flop / estimate - 1.0).abs() < 1e-9, "{flop} vs {estimate}");
    }
}
