//! The lift environment: determinism, layout, success through the action API, truncation,
//! instability handling, batched stepping.

mod common;

use so101_lab::task::{LiftEnv, ResetMode, RewardConfig, TaskConfig, VecEnv};

fn env(mode: ResetMode) -> LiftEnv {
    let task = TaskConfig {
        reset_mode: mode,
        ..TaskConfig::default()
    };
    LiftEnv::new(common::default_scene(), task, RewardConfig::default())
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A hand-written policy in action space: move the target down onto the cube centre, close,
/// lift to 0.12 m, hold. Works from the target alone, as an agent would.
fn oracle(target_z: f64, cube_z: f64, t: usize) -> [f64; 4] {
    let toward = |z: f64| ((z - target_z) / 0.02).clamp(-1.0, 1.0);
    if t < 25 {
        [0.0, 0.0, toward(cube_z), 0.0]
    } else if t < 45 {
        [0.0, 0.0, 0.0, -1.0]
    } else {
        [0.0, 0.0, toward(0.12) * 0.5, -1.0]
    }
}

#[test]
fn reset_and_step_are_bitwise_deterministic() {
    let mut a = env(ResetMode::Full);
    let mut b = env(ResetMode::Full);
    assert_eq!(bits(&a.reset(3)), bits(&b.reset(3)));
    let mut c = env(ResetMode::Full);
    assert_ne!(bits(&a.reset(3)), bits(&c.reset(4)));
    b.reset(3);
    for t in 0..50 {
        let act = [(t as f64 * 0.1).sin(), (t as f64 * 0.07).cos(), -0.3, 0.2];
        let (x, y) = (a.step(&act), b.step(&act));
        assert_eq!(bits(&x.obs), bits(&y.obs));
        assert_eq!(x.reward.to_bits(), y.reward.to_bits());
    }
}

#[test]
fn observation_is_the_reference_21_and_finite() {
    let mut e = env(ResetMode::Full);
    let obs = e.reset(0);
    assert_eq!(obs.len(), 21);
    assert_eq!(e.observation_space().dim(), 21);
    assert!(obs.iter().all(|v| v.is_finite()));
    // Full reset puts the TCP about 3.5 cm above the cube centre.
    let tcp_z = obs[14];
    let cube_z = obs[20];
    println!(
        "full reset: TCP {:.4} m above the cube centre",
        tcp_z - cube_z
    );
    assert!(
        (tcp_z - cube_z - 0.035).abs() < 0.01,
        "tcp {tcp_z} cube {cube_z}"
    );
}

#[test]
fn oracle_policy_succeeds_through_the_action_api() {
    let task = TaskConfig {
        gravity_feedforward: 1.0,
        top_down_ik: true,
        ..TaskConfig::default()
    };
    let mut e = LiftEnv::new(common::default_scene(), task, RewardConfig::default());
    let mut obs = e.reset(1);
    let mut total = 0.0;
    for t in 0..300 {
        let out = e.step(&oracle(e.target().z, obs[20], t));
        total += out.reward;
        obs = out.obs;
        if out.terminated {
            println!(
                "success at step {} (return {total:.1}); terms {:?}",
                out.info.step, out.info.reward_terms
            );
            assert!(out.info.success && out.info.grasping);
            assert_eq!(out.info.reward_terms.success, 10.0);
            assert!(!out.truncated);
            return;
        }
    }
    panic!("the oracle did not succeed; cube z {}", obs[20]);
}

#[test]
fn truncates_at_300_without_terminating() {
    let mut e = env(ResetMode::Full);
    e.reset(2);
    for t in 1..=300 {
        let out = e.step(&[0.0, 0.0, 0.0, 1.0]);
        assert!(!out.terminated);
        assert_eq!(out.truncated, t == 300, "step {t}");
    }
}

#[test]
fn cube_in_hand_and_home_resets_start_as_described() {
    let mut e = env(ResetMode::CubeInHand);
    e.reset(5);
    let g = e.sim().grasp_state();
    assert!(
        g.static_pad_contact && g.moving_pad_contact && g.grasping,
        "{g:?}"
    );
    let mut h = env(ResetMode::Home);
    let obs = h.reset(5);
    assert!(
        obs[..5]
            .iter()
            .zip([0.0, 0.0, 0.0, 0.0])
            .all(|(q, z)| (q - z).abs() < 1e-9)
    );
}

#[test]
fn unstable_physics_is_reported_never_nan() {
    let mut e = env(ResetMode::Full);
    let first = e.reset(0);
    e.step(&[0.0; 4]);
    // An absurd external force makes MuJoCo's accelerations blow up.
    let cube = e.sim().handles().cube_body;
    e.sim_mut()
        .set_body_wrench(cube, [1e30, 0.0, 1e30, 0.0, 0.0, 0.0]);
    let out = e.step(&[0.0; 4]);
    assert!(out.info.unstable, "instability not detected");
    assert!(out.truncated && !out.terminated);
    assert!(out.obs.iter().all(|v| v.is_finite()));
    assert_eq!(out.reward, 0.0);
    // The episode resets cleanly afterwards.
    e.sim_mut().set_body_wrench(cube, [0.0; 6]);
    assert_eq!(bits(&e.reset(0)), bits(&first));
    assert!(!e.step(&[0.0; 4]).info.unstable);
}

#[test]
fn vec_env_is_deterministic_across_thread_counts_and_auto_resets() {
    let scene = common::default_scene();
    let task = TaskConfig {
        max_episode_steps: 20,
        ..TaskConfig::default()
    };
    let reward = RewardConfig::default();
    let mut one = VecEnv::new(&scene, &task, &reward, 3, 1);
    let mut two = VecEnv::new(&scene, &task, &reward, 3, 2);
    let (a, b) = (one.reset(9), two.reset(9));
    assert_eq!(
        a.iter().map(|o| bits(o)).collect::<Vec<_>>(),
        b.iter().map(|o| bits(o)).collect::<Vec<_>>()
    );
    assert_ne!(bits(&a[0]), bits(&a[1]), "envs get different seeds");
    let actions = vec![[0.1, 0.0, -0.2, 0.5]; 3];
    for t in 1..=25 {
        let (x, y) = (one.step(&actions), two.step(&actions));
        for i in 0..3 {
            assert_eq!(bits(&x.obs[i]), bits(&y.obs[i]));
        }
        if t == 20 {
            assert!(x.truncated.iter().all(|&d| d));
            assert!(x.final_obs.iter().all(Option::is_some));
            // The new episode's first observation differs from the final one.
            assert_ne!(
                bits(x.final_obs[0].as_ref().expect("final")),
                bits(&x.obs[0])
            );
        } else {
            assert!(x.final_obs.iter().all(Option::is_none));
        }
    }
}
