//! The lift environment: determinism, layout, success through the action API, truncation,
//! instability handling, batched stepping.

use crate::common;

use so101_lab::task::{ResetMode, RewardConfig, TaskConfig, TaskEnv, VecEnv};

fn env(mode: ResetMode) -> TaskEnv {
    let task = TaskConfig {
        reset_mode: mode,
        ..TaskConfig::default()
    };
    TaskEnv::new(common::default_scene(), task, RewardConfig::default())
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
    let mut e = TaskEnv::new(common::default_scene(), task, RewardConfig::default());
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

fn place_env(require_carry: bool) -> TaskEnv {
    let dir = so101_lab::config::default_configs_dir();
    let mut task = TaskConfig::load(&dir.join("tasks/place.toml")).expect("place");
    task.target.as_mut().expect("target").require_carry = require_carry;
    TaskEnv::new(common::default_scene(), task, RewardConfig::place_v1())
}

#[test]
fn place_reset_draws_a_seeded_target_and_observes_it() {
    let mut env = place_env(true);
    let space = env.observation_space().clone();
    let n = space.dim();
    assert_eq!(n, 23);
    assert_eq!(space.names[n - 2], "target_pos/x");
    assert!(!space.is_privileged(n - 2) && !space.is_privileged(n - 1));
    for seed in 0..50 {
        let obs = env.reset(seed);
        let g = env.goal().expect("a target");
        let cube = env.sim().cube_pose().pos;
        assert!((g[0] - cube.x).hypot(g[1] - cube.y) >= 0.06, "seed {seed}");
        assert!((0.15..=0.35).contains(&g[0]) && (-0.15..=0.15).contains(&g[1]));
        assert_eq!(bits(&obs[n - 2..]), bits(&g));
    }
    env.reset(7);
    let (goal, cube) = (env.goal(), env.sim().cube_pose().pos);
    env.reset(8);
    env.reset(7);
    assert_eq!(env.goal(), goal, "same seed, same target");
    // The target is drawn after the cube: the lift task's cube placement is unchanged.
    let mut lift = env_with(TaskConfig::default());
    let obs = lift.reset(7);
    assert_eq!((obs.len(), lift.goal()), (21, None));
    assert_eq!(lift.sim().cube_pose().pos, cube);
}

fn env_with(task: TaskConfig) -> TaskEnv {
    TaskEnv::new(common::default_scene(), task, RewardConfig::default())
}

/// Puts the cube on the target, moves the hand up and away with the gripper open, and counts the
/// steps until success (None within 40 steps).
fn push_onto_target(env: &mut TaskEnv) -> Option<usize> {
    env.reset(3);
    let g = env.goal().expect("target");
    let z = env.cube_rest_z();
    env.sim_mut().set_cube_pose([g[0] + 0.005, g[1], z], 0.0);
    for k in 1..=40 {
        let out = env.step(&[0.0, 0.0, 0.5, 1.0]);
        let p = out.info.place.expect("place info");
        assert!(p.on_target && (p.target_distance_m - 0.005).abs() < 0.002);
        if k > 10 {
            assert!(p.resting && p.released, "step {k}: {p:?}");
        }
        if out.terminated {
            return Some(k);
        }
    }
    None
}

#[test]
fn a_cube_pushed_onto_the_target_is_not_placed_unless_carry_is_waived() {
    let mut env = place_env(true);
    assert_eq!(push_onto_target(&mut env), None, "never carried");
    let mut env = place_env(false);
    let k = push_onto_target(&mut env).expect("placed");
    // Released within the first few steps, then 25 placed steps in a row.
    assert!((25..=32).contains(&k), "success at step {k}");
}
