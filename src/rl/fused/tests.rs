//! The fused update against the autograd one.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

use crate::rl::replay::Batch;
use crate::rl::{EntCoef, Sac, SacConfig};

fn random(rng: &mut ChaCha8Rng, shape: [i64; 2], lo: f32, hi: f32) -> Tensor {
    let n = (shape[0] * shape[1]) as usize;
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
    Tensor::from_slice(&v).reshape(shape)
}

fn batch(rows: i64, width: i64, act: i64, discounts: bool, demo_rows: i64) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let dones: Vec<f32> = (0..rows).map(|i| f32::from(u8::from(i % 5 == 0))).collect();
    Batch {
        obs: random(&mut rng, [rows, width], -2.0, 2.0),
        actions: random(&mut rng, [rows, act], -0.99, 0.99),
        rewards: random(&mut rng, [rows, 1], -1.0, 3.0),
        next_obs: random(&mut rng, [rows, width], -2.0, 2.0),
        dones: Tensor::from_slice(&dones).reshape([rows, 1]),
        discounts: discounts.then(|| random(&mut rng, [rows, 1], 0.9, 0.99)),
        demo_rows,
    }
}

fn max_diff(a: &[&Tensor], b: &[&Tensor]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x - *y).abs().max().double_value(&[]))
        .fold(0.0, f64::max)
}

/// Three updates of the fused path and of the autograd path from the same seed on the same
/// batch end at the same parameters, moments and statistics, to float rounding.
fn agrees_with_autograd(cfg: SacConfig, extra: usize, act: usize, discounts: bool, demo_rows: i64) {
    let (obs, rows) = (5, 32);
    let mut reference = Sac::asymmetric(obs, extra, act, &cfg);
    let fused_cfg = SacConfig {
        fused_update: true,
        ..cfg
    };
    let mut fused = Sac::asymmetric(obs, extra, act, &fused_cfg);
    assert!(fused.fused && !reference.fused);
    let batch = batch(rows, (obs + extra) as i64, act as i64, discounts, demo_rows);
    for _ in 0..3 {
        let (r, f) = (reference.update(&batch, 0.7), fused.update(&batch, 0.7));
        let pairs = [
            (r.qf1_loss, f.qf1_loss),
            (r.qf2_loss, f.qf2_loss),
            (r.qf1_value, f.qf1_value),
            (r.actor_loss, f.actor_loss),
            (r.alpha, f.alpha),
            (r.alpha_loss, f.alpha_loss),
            (r.entropy, f.entropy),
            (r.bc_loss, f.bc_loss),
        ];
        for (k, (x, y)) in pairs.into_iter().enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + x.abs()),
                "stat {k}: {x} vs {y}"
            );
        }
    }
    let nets = |s: &Sac| -> Vec<Tensor> {
        let mut all: Vec<Tensor> = s
            .actor
            .parameters()
            .into_iter()
            .map(Tensor::shallow_clone)
            .collect();
        all.extend(s.critic.parameters().into_iter().map(Tensor::shallow_clone));
        all.extend(
            s.critic_target
                .parameters()
                .into_iter()
                .map(Tensor::shallow_clone),
        );
        all.extend(s.critic_opt.m().iter().map(Tensor::shallow_clone));
        all.extend(s.actor_opt.v().iter().map(Tensor::shallow_clone));
        all.push(s.log_alpha.shallow_clone());
        all
    };
    let (a, b) = (nets(&reference), nets(&fused));
    let diff = max_diff(&a.iter().collect::<Vec<_>>(), &b.iter().collect::<Vec<_>>());
    assert!(diff < 2e-5, "parameters differ by {diff}");
    // And the step moved them: the comparison is not between two untouched networks.
    let fresh = Sac::asymmetric(obs, extra, act, &fused_cfg);
    let moved = max_diff(&fresh.actor.parameters(), &fused.actor.parameters());
    assert!(moved > 1e-4, "the actor moved by {moved}");
}

#[test]
fn the_fused_update_matches_autograd_for_plain_sac() {
    agrees_with_autograd(SacConfig::default(), 0, 2, false, 0);
}

#[test]
fn the_fused_update_matches_autograd_with_every_option() {
    let cfg = SacConfig {
        critic_layer_norm: true,
        bc_weight: 1.0,
        ent_coef: EntCoef::Fixed(0.05),
        ..SacConfig::default()
    };
    agrees_with_autograd(cfg, 3, 2, true, 6);
    let auto = SacConfig {
        critic_layer_norm: true,
        bc_weight: 2.5,
        ..SacConfig::default()
    };
    agrees_with_autograd(auto, 2, 2, true, 4);
}

/// Other depths and widths, one action, every row a demonstration, n-step discounts without
/// layer normalisation.
#[test]
fn the_fused_update_matches_autograd_for_other_shapes() {
    for (net_arch, layer_norm) in [
        (vec![24], false),
        (vec![24, 16, 8], true),
        (vec![12, 20, 16], false),
    ] {
        let cfg = SacConfig {
            net_arch,
            critic_layer_norm: layer_norm,
            bc_weight: 0.5,
            ..SacConfig::default()
        };
        agrees_with_autograd(cfg, 1, 1, true, 32);
    }
}
