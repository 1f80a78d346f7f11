//! SAC unit tests: the maths checked numerically, and a small task learned in seconds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::nets::{Adam, EnsembleMlp, polyak};
use super::replay::ReplayBuffer;
use super::rng::TorchInit;
use super::sac::squashed_log_prob;
use super::{EntCoef, Sac, SacConfig};

fn scalar(t: &Tensor) -> f64 {
    t.double_value(&[])
}

/// The squashed Gaussian's density integrates to 1 over y in (-1, 1) (trapezoid rule).
#[test]
fn squashed_gaussian_log_prob_integrates_to_one() {
    let n = 400_000i64;
    let ys: Vec<f64> = (1..n).map(|k| -1.0 + 2.0 * k as f64 / n as f64).collect();
    let y = Tensor::from_slice(&ys).reshape([-1, 1]);
    let x = y.atanh();
    for (mean, log_std) in [(0.0, 0.0), (0.7, -0.5), (-1.5, 0.3), (2.0, -1.0)] {
        let eps = (&x - mean) / f64::exp(log_std);
        let log_std_t = Tensor::full([n - 1, 1], log_std, (Kind::Double, tch::Device::Cpu));
        let p = squashed_log_prob(&eps, &log_std_t, &x).exp().reshape([-1]);
        let total = scalar(&Tensor::trapezoid_x(&p, &y.reshape([-1]), 0));
        assert!(
            (total - 1.0).abs() < 2e-3,
            "mean {mean} log_std {log_std}: integral {total}"
        );
    }
}

#[test]
fn log_prob_matches_the_textbook_formula() {
    let (mean, log_std, eps) = (0.3f64, -0.4f64, 1.1f64);
    let x = mean + log_std.exp() * eps;
    let expected = -0.5 * eps * eps
        - log_std
        - 0.5 * (2.0 * std::f64::consts::PI).ln()
        - (1.0 - x.tanh().powi(2)).ln();
    let t = |v: f64| Tensor::from_slice(&[v]).reshape([1, 1]);
    let got = scalar(
        &squashed_log_prob(&t(eps), &t(log_std), &t(x))
            .reshape([-1])
            .get(0),
    );
    assert!((got - expected).abs() < 1e-7, "{got} vs {expected}");
}

#[test]
fn polyak_moves_targets_by_tau() {
    let mut init = TorchInit::new(0);
    let online = EnsembleMlp::new(2, 3, &[4], 1, &mut init);
    let target = online.copy_untracked();
    tch::no_grad(|| {
        for (w, b) in &target.layers {
            let _ = w.shallow_clone().zero_();
            let _ = b.shallow_clone().zero_();
        }
    });
    for _ in 0..10 {
        polyak(&target, &online, 0.1);
    }
    let factor = 1.0 - 0.9f64.powi(10);
    for ((tw, _), (ow, _)) in target.layers.iter().zip(&online.layers) {
        let diff = (tw - ow * factor).abs().max();
        assert!(scalar(&diff) < 1e-6);
    }
}

#[test]
fn entropy_coefficient_moves_toward_the_target_entropy() {
    // SB3's loss: -(log_alpha * (log_pi + target_entropy)).mean()
    let step = |log_pi: f64| {
        let log_alpha = Tensor::from_slice(&[0.0f32]).set_requires_grad(true);
        let mut opt = Adam::new(&[&log_alpha], 0.1);
        let loss = -(&log_alpha * (Tensor::from_slice(&[log_pi as f32]) + -4.0)).mean(Kind::Float);
        opt.zero_grad();
        loss.backward();
        opt.step();
        scalar(&log_alpha.get(0))
    };
    // Entropy -log_pi = -10 below the target -4: too little exploration, alpha must grow.
    assert!(step(10.0) > 0.0);
    // Entropy 10 above the target: alpha must shrink.
    assert!(step(-10.0) < 0.0);
}

#[test]
fn update_changes_only_what_it_should() {
    let cfg = SacConfig {
        net_arch: vec![16, 16],
        batch_size: 8,
        ..SacConfig::default()
    };
    let mut sac = Sac::new(3, 2, &cfg);
    let mut buf = ReplayBuffer::new(100, 3, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..50 {
        let o: Vec<f64> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
        buf.push(&o, &[0.1, -0.2], 1.0, &o, false);
    }
    let before = sac.critic_target.layers[0].0.copy();
    let stats = sac.update(&buf.sample(8, &mut rng), 1.0);
    assert!(stats.qf1_loss.is_finite() && stats.actor_loss.is_finite());
    assert!(stats.alpha < 1.0 + 1e-9, "alpha starts at 1 and moves");
    let after = &sac.critic_target.layers[0].0;
    assert!(
        scalar(&(after - &before).abs().max()) > 0.0,
        "targets moved"
    );
    assert!(!after.requires_grad(), "targets are not trained");
}

/// A one-step continuous task: reward -|a - target(obs)|^2; SAC must learn a ~= target.
#[test]
fn learns_a_small_continuous_task_in_seconds() {
    let started = std::time::Instant::now();
    let cfg = SacConfig {
        net_arch: vec![64, 64],
        batch_size: 64,
        learning_rate: 3e-3,
        ent_coef: EntCoef::Auto { init: 0.1 },
        seed: 3,
        ..SacConfig::default()
    };
    let mut sac = Sac::new(2, 2, &cfg);
    let mut buf = ReplayBuffer::new(10_000, 2, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let target = |o: &[f64]| [0.8 * o[0], -0.5 * o[1]];
    for step in 0..1500 {
        let o = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        let obs32 = [o[0] as f32, o[1] as f32];
        let a: Vec<f64> = if step < 200 {
            vec![rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)]
        } else {
            sac.act(&obs32, false).action
        };
        let t = target(&o);
        let r = -((a[0] - t[0]).powi(2) + (a[1] - t[1]).powi(2));
        buf.push(&o, &a, r, &o, true);
        if step >= 200 {
            sac.update(&buf.sample(64, &mut rng), 1.0);
        }
    }
    let mut err = 0.0;
    for k in 0..50 {
        let o = [-1.0 + 0.04 * k as f64, 0.9 - 0.036 * k as f64];
        let a = sac.act(&[o[0] as f32, o[1] as f32], true).action;
        let t = target(&o);
        err += ((a[0] - t[0]).powi(2) + (a[1] - t[1]).powi(2)).sqrt() / 50.0;
    }
    println!(
        "learned in {:.1} s: mean action error {err:.3}",
        started.elapsed().as_secs_f64()
    );
    assert!(err < 0.1, "mean action error {err}");
}

/// The asymmetric critic's input is [obs, extras, action]; the actor reads only obs.
#[test]
fn asymmetric_critic_input_layout() {
    let cfg = SacConfig {
        net_arch: vec![8],
        batch_size: 4,
        ..SacConfig::default()
    };
    let (obs, extra, act) = (3usize, 2usize, 2usize);
    let mut sac = Sac::asymmetric(obs, extra, act, &cfg);
    // Critic weights [members, obs + extra + act, hidden]; actor weights [obs, hidden].
    assert_eq!(sac.critic.layers[0].0.size(), vec![2, 7, 8]);
    assert_eq!(sac.actor.layers[0].0.size()[0], 3);
    let rows = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 40.0, 50.0]).reshape([1, 5]);
    let view = sac.actor_view(&rows);
    assert_eq!(
        Vec::<f32>::try_from(view.reshape([-1])).expect("f32"),
        vec![1.0, 2.0, 3.0]
    );
    // Changing an extra moves the critic, not the actor.
    let other = Tensor::from_slice(&[1.0f32, 2.0, 3.0, -7.0, 9.0]).reshape([1, 5]);
    let a = Tensor::from_slice(&[0.1f32, -0.3]).reshape([1, 2]);
    let (m1, _) = sac.distribution(&sac.actor_view(&rows));
    let (m2, _) = sac.distribution(&sac.actor_view(&other));
    assert_eq!(scalar(&(&m1 - &m2).abs().max()), 0.0);
    let dq = (sac.q_values(&rows, &a) - sac.q_values(&other, &a))
        .abs()
        .max();
    assert!(scalar(&dq) > 0.0, "the critic reads the extras");
    // An update on 5-column rows runs and learns finite values.
    let mut buf = ReplayBuffer::new(50, obs + extra, act);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..20 {
        let o: Vec<f64> = (0..5).map(|_| rng.random_range(-1.0..1.0)).collect();
        buf.push(&o, &[0.2, -0.4], 1.0, &o, false);
    }
    let stats = sac.update(&buf.sample(4, &mut rng), 1.0);
    assert!(stats.qf1_loss.is_finite() && stats.actor_loss.is_finite());
    assert!(sac.times.forward > 0.0 && sac.times.backward > 0.0 && sac.times.optimiser > 0.0);
}

/// The critic extras' layout: named, in order, from a step's info.
#[test]
fn critic_extras_from_a_step_info() {
    use super::critic_obs::{DIM, NAMES, from_info};
    let info = crate::task::StepInfo {
        static_pad_contact: true,
        moving_pad_contact: false,
        grasping: false,
        hold_count: 30,
        cube_pos: [0.25, 0.03, 0.05],
        tcp_pos: [0.22, -0.01, 0.06],
        cube_quat: [1.0, 0.0, 0.0, 0.0],
        ..Default::default()
    };
    let x = from_info(&info, 150);
    assert_eq!(NAMES.len(), DIM);
    assert_eq!(&x[..4], &[1.0, 0.0, 0.0, 0.2]);
    assert_eq!(&x[4..8], &[1.0, 0.0, 0.0, 0.0]);
    assert!((x[8] - 0.05).abs() < 1e-12, "xy offset 3-4-5: {}", x[8]);
    assert!((x[9] + 0.01).abs() < 1e-12);
}

/// n-step transitions carry their discount into the critic target: a discount equal to gamma
/// gives the one-step target exactly, and with zero rewards a discount of gamma/2 halves it.
#[test]
fn n_step_discounts_reach_the_target() {
    use super::nstep::Folded;
    let cfg = SacConfig {
        net_arch: vec![8],
        gamma: 0.5,
        ..SacConfig::default()
    };
    let mut sac = Sac::new(2, 1, &cfg);
    let folded = |discount: f64| Folded {
        obs: vec![0.1, 0.2],
        action: vec![0.3],
        reward: 0.0,
        next_obs: vec![0.4, 0.5],
        terminal: false,
        discount,
    };
    let batch_of = |discount: Option<f64>| {
        let mut buf = ReplayBuffer::new(1, 2, 1);
        match discount {
            Some(d) => {
                buf = buf.with_discounts();
                buf.push_folded(&folded(d));
            }
            None => buf.push_folded(&folded(0.0)),
        }
        buf.sample(1, &mut ChaCha8Rng::seed_from_u64(1))
    };
    assert!(
        batch_of(None).discounts.is_none(),
        "one-step buffers carry none"
    );
    let noise = sac.noise.clone();
    let mut target = |d: Option<f64>| {
        sac.noise = noise.clone();
        scalar(&sac.td_target(&batch_of(d), 1.0, 0.1).reshape([]))
    };
    let (one_step, same, half) = (target(None), target(Some(0.5)), target(Some(0.25)));
    assert!(one_step != 0.0);
    assert_eq!(one_step, same);
    assert!((half - 0.5 * one_step).abs() < 1e-6, "{half} vs {one_step}");
}

/// Adam on flat moment buffers matches the textbook per-tensor update (to f32 rounding), over several
/// steps and two parameters of different shapes.
#[test]
fn flat_adam_matches_the_per_tensor_update() {
    let (lr, b1, b2, eps) = (0.01, 0.9f64, 0.999f64, 1e-8);
    let w = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.25, 3.0, -0.75])
        .reshape([2, 3])
        .set_requires_grad(true);
    let b = Tensor::from_slice(&[0.1f32, -0.2]).set_requires_grad(true);
    let mut opt = Adam::new(&[&w, &b], lr);
    // Reference state, plain f32 arithmetic in the same order as the kernels.
    let mut p_ref: Vec<Vec<f32>> = vec![
        Vec::<f32>::try_from(w.reshape([-1])).expect("w"),
        Vec::<f32>::try_from(&b).expect("b"),
    ];
    let mut m_ref = [vec![0f32; 6], vec![0f32; 2]];
    let mut v_ref = [vec![0f32; 6], vec![0f32; 2]];
    let x = Tensor::from_slice(&[1.0f32, -2.0, 0.5]);
    for t in 1..=4 {
        opt.zero_grad();
        let y = w.mv(&x) + &b;
        let loss = (&y * &y).sum(Kind::Float) + (&b * 3.0).sum(Kind::Float);
        loss.backward();
        let grads = [
            Vec::<f32>::try_from(w.grad().reshape([-1])).expect("gw"),
            Vec::<f32>::try_from(b.grad()).expect("gb"),
        ];
        opt.step();
        let bc1 = 1.0 - b1.powi(t);
        let bc2 = 1.0 - b2.powi(t);
        let step = (lr / bc1) as f32;
        for k in 0..2 {
            for i in 0..grads[k].len() {
                let g = grads[k][i];
                m_ref[k][i] += (g - m_ref[k][i]) * (1.0 - b1) as f32;
                v_ref[k][i] = v_ref[k][i] * b2 as f32 + g * (1.0 - b2) as f32 * g;
                let denom = (v_ref[k][i] / bc2 as f32).sqrt() + eps as f32;
                p_ref[k][i] += (m_ref[k][i] * -step) / denom;
            }
        }
        let got_w = Vec::<f32>::try_from(w.reshape([-1])).expect("w");
        let got_b = Vec::<f32>::try_from(&b).expect("b");
        for (got, want) in got_w.iter().chain(&got_b).zip(p_ref.concat()) {
            assert!(
                (got - want).abs() <= 2.0 * f32::EPSILON * want.abs().max(1.0),
                "step {t}: {got} vs {want}"
            );
        }
    }
    // The moments the checkpoint saves are views into the flat buffers, per parameter.
    assert_eq!(opt.m()[0].size(), [2, 3]);
    let m_b = Vec::<f32>::try_from(&opt.m()[1]).expect("m b");
    for (a, e) in m_b.iter().zip(&m_ref[1]) {
        assert!((a - e).abs() <= 1e-6 * e.abs().max(1.0), "{a} vs {e}");
    }
}

/// A parameter the loss does not reach keeps its value (the per-parameter path), while the others
/// still step.
#[test]
fn adam_leaves_a_parameter_without_gradient_alone() {
    let used = Tensor::from_slice(&[1.0f32, 2.0]).set_requires_grad(true);
    let idle = Tensor::from_slice(&[7.0f32]).set_requires_grad(true);
    let mut opt = Adam::new(&[&used, &idle], 0.1);
    for _ in 0..3 {
        opt.zero_grad();
        (&used * &used).sum(Kind::Float).backward();
        opt.step();
    }
    assert_eq!(scalar(&idle.get(0)), 7.0);
    assert!(scalar(&used.get(0)) < 1.0, "the used parameter moved");
}

/// The behaviour-cloning term reads only the demonstration rows (the last `demo_rows`): its
/// error is the mean squared difference of tanh(actor mean) and their actions, and the online
/// rows' actions do not change it.
#[test]
fn bc_term_reads_only_the_demonstration_rows() {
    let cfg = SacConfig {
        net_arch: vec![16, 16],
        bc_weight: 0.5,
        demos: 1,
        ..SacConfig::default()
    };
    let batch_with = |online_action: f64| {
        let mut online = ReplayBuffer::new(10, 3, 2);
        let mut demo = ReplayBuffer::new(10, 3, 2);
        for k in 0..4 {
            let o = [0.1 * k as f64, -0.2, 0.3];
            online.push(&o, &[online_action, online_action], 0.5, &o, false);
            demo.push(&o, &[0.2 * k as f64, -0.5], 1.0, &o, false);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (a, d) = (online.sample(4, &mut rng), demo.sample(3, &mut rng));
        super::replay::concat(a, d)
    };
    let batch = batch_with(0.9);
    assert_eq!(batch.demo_rows, 3);
    let demo_obs = batch.obs.narrow(0, 4, 3);
    let demo_act = batch.actions.narrow(0, 4, 3);
    let expected = {
        let sac = Sac::new(3, 2, &cfg);
        let (mean, _) = tch::no_grad(|| sac.distribution(&demo_obs));
        scalar(&(mean.tanh() - demo_act).square().mean(Kind::Float))
    };
    for online_action in [0.9, -0.7] {
        let mut sac = Sac::new(3, 2, &cfg);
        let got = sac.update(&batch_with(online_action), 1.0).bc_loss;
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }
    // Without the weight, or without demonstration rows, there is no term. The same learner
    // without it has an actor loss lower by exactly the weighted term: bc_weight x max(mean|Q|,
    // 1) x error, where the fresh critics' |Q| is under 1, so the weight is 0.5.
    let mut with = Sac::new(3, 2, &cfg);
    let bc = with.update(&batch_with(0.9), 1.0);
    let plain_cfg = SacConfig {
        bc_weight: 0.0,
        ..cfg.clone()
    };
    let without = Sac::new(3, 2, &plain_cfg).update(&batch_with(0.9), 1.0);
    assert_eq!(without.bc_loss, 0.0);
    assert!(bc.qf1_value.abs() < 1.0, "fresh critics: {}", bc.qf1_value);
    let added = bc.actor_loss - without.actor_loss;
    assert!(
        (added - 0.5 * bc.bc_loss).abs() < 1e-5,
        "{added} vs {}",
        0.5 * bc.bc_loss
    );
    let mut sac = Sac::new(3, 2, &cfg);
    let mut online = ReplayBuffer::new(10, 3, 2);
    online.push(&[0.0; 3], &[0.1, 0.1], 0.0, &[0.0; 3], false);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    assert_eq!(sac.update(&online.sample(4, &mut rng), 1.0).bc_loss, 0.0);
}

/// With a strong behaviour-cloning weight, updates on demonstration-only batches (pretraining)
/// pull the actor's mean action onto the demonstrated one.
#[test]
fn bc_pretraining_fits_the_demonstrated_actions() {
    let cfg = SacConfig {
        net_arch: vec![32, 32],
        bc_weight: 10.0,
        demos: 1,
        learning_rate: 1e-3,
        seed: 2,
        ..SacConfig::default()
    };
    let mut sac = Sac::new(2, 2, &cfg);
    let mut demo = ReplayBuffer::new(100, 2, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..64 {
        let o = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        demo.push(&o, &[0.6 * o[0], -0.4 * o[1] + 0.2], 1.0, &o, false);
    }
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..400 {
        let mut batch = demo.sample(32, &mut rng);
        batch.demo_rows = 32;
        last = sac.update(&batch, 1.0).bc_loss;
        first.get_or_insert(last);
    }
    let first = first.unwrap_or_default();
    assert!(
        last < 0.1 * first && last < 0.005,
        "error {first:.4} -> {last:.4}"
    );
}

#[test]
fn bc_options_need_demonstrations() {
    for cfg in [
        SacConfig {
            bc_weight: 1.0,
            ..SacConfig::default()
        },
        SacConfig {
            pretrain_updates: 10,
            ..SacConfig::default()
        },
    ] {
        let err = cfg.validate().expect_err("no demos");
        assert!(err.to_string().contains("demos"), "{err}");
    }
    let ok = SacConfig {
        bc_weight: 1.0,
        pretrain_updates: 10,
        demos: 2,
        normalize_reward: false,
        ..SacConfig::default()
    };
    assert!(ok.validate().is_ok());
    // Options that would silently do nothing, or pretrain against a reward scale that moves.
    let no_rows = SacConfig {
        pretrain_updates: 0,
        demo_ratio: 0.0,
        ..ok.clone()
    };
    let err = no_rows.validate().expect_err("no demo rows").to_string();
    assert!(err.contains("demo_ratio"), "{err}");
    let scaled = SacConfig {
        normalize_reward: true,
        ..ok
    };
    let err = scaled.validate().expect_err("moving scale").to_string();
    assert!(err.contains("normalize_reward"), "{err}");
}
