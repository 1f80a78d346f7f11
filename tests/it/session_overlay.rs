//! The live session the app shows and the overlay primitives it draws, tested headless: the
//! policy acts exactly as in `eval`, the scripted pick grasps, overlays sit on the sites and
//! scale forces as asked.

use crate::common;

use so101_lab::config::default_configs_dir;
use so101_lab::overlay::{self, Primitive};
use so101_lab::rl::policy::Policy;
use so101_lab::scripted::CartesianPlacePolicy;
use so101_lab::session::{Driver, LiveSession, LoadedPolicy};
use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};

fn bundled() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/policies/lift_sac.safetensors")
}

fn env_for(policy: &Policy) -> TaskEnv {
    let rec = &policy.meta.config;
    let task: TaskConfig = toml::from_str(&rec.task_toml).expect("recorded task");
    let reward: RewardConfig = toml::from_str(&rec.reward_toml).expect("recorded reward");
    TaskEnv::new(common::default_scene(), task, reward)
}

#[test]
fn live_policy_acts_exactly_like_eval() {
    let seed = 1_000_003;
    let mut eval_policy = Policy::load(&bundled()).expect("bundled policy");
    let mut env = env_for(&eval_policy);
    let mut obs = env.reset(seed);
    let mut expected = Vec::new();
    for _ in 0..120 {
        let out = eval_policy.act(&obs);
        let a: [f64; 4] = std::array::from_fn(|i| out.action[i]);
        expected.push(a);
        let step = env.step(&a);
        obs = step.obs;
        if step.terminated || step.truncated {
            break;
        }
    }
    let live_policy = LoadedPolicy::load(&bundled(), 0).expect("loads");
    let mut session = LiveSession::new(env_for(&eval_policy), seed);
    session.auto_reset = false;
    session.driver = Driver::policy(live_policy, false);
    for (k, want) in expected.iter().enumerate() {
        let got = session.step().expect("an env step").action;
        assert_eq!(&got, want, "step {k}: live action differs from eval");
    }
}

#[test]
fn scripted_driver_grasps_and_overlays_follow_the_state() {
    let cfg = default_configs_dir();
    // The Cartesian scripted pick needs the assisted task's top-down IK (as in tests/it/episodes.rs).
    let task = TaskConfig::load(&cfg.join("task_assisted.toml")).expect("task");
    let reward = RewardConfig::load(&cfg.join("rewards/v11.toml")).expect("reward");
    let mut session = LiveSession::new(TaskEnv::new(common::default_scene(), task, reward), 7);
    session.driver = Driver::Scripted(CartesianPlacePolicy::new());
    let handles = session.env().sim().handles().clone();
    let mut grasped = None;
    for _ in 0..250 {
        session.step();
        let snap = session.snapshot();
        assert!(
            snap.annotations.pick_phase.is_some(),
            "scripted phase missing"
        );
        if snap.grasp.grasping {
            grasped = Some(snap);
            break;
        }
    }
    let snap = grasped.expect("the scripted pick grasps within 250 steps");
    // Markers sit exactly on the sites.
    let markers = overlay::site_markers(&snap, &handles);
    let spheres: Vec<[f32; 3]> = markers
        .iter()
        .filter_map(|p| match p {
            Primitive::Sphere { center, .. } => Some(*center),
            _ => None,
        })
        .collect();
    let tcp = snap.site_pos[handles.gripperframe_site].map(|v| v as f32);
    let grasp = snap.site_pos[handles.graspframe_site].map(|v| v as f32);
    assert_eq!(spheres, vec![tcp, grasp]);
    // Pad-cube contacts are highlighted and their force arrows scale with the slider.
    let scale = 0.02;
    let prims = overlay::contacts(&snap, &handles, scale, None);
    let pad_points = prims
        .iter()
        .filter(|p| matches!(p, Primitive::Sphere { color, .. } if *color == overlay::PAD_CONTACT_COLOR))
        .count();
    let pad_contacts = snap
        .contacts
        .iter()
        .filter(|c| overlay::is_pad_cube(c, &handles))
        .count();
    assert!(pad_contacts >= 2, "grasp without pad contacts");
    assert_eq!(pad_points, pad_contacts);
    let force_arrows: Vec<f32> = prims
        .iter()
        .filter_map(|p| match p {
            Primitive::Arrow { from, to, color } if *color == overlay::FORCE_COLOR => Some(
                ((to[0] - from[0]).powi(2) + (to[1] - from[1]).powi(2) + (to[2] - from[2]).powi(2))
                    .sqrt(),
            ),
            _ => None,
        })
        .collect();
    let expected: Vec<f32> = snap
        .contacts
        .iter()
        .map(|c| (c.force_world.iter().map(|f| f * f).sum::<f64>().sqrt() as f32) * scale)
        .filter(|l| *l > 1e-6 * scale)
        .collect();
    assert_eq!(force_arrows.len(), expected.len());
    for (a, e) in force_arrows.iter().zip(&expected) {
        assert!((a - e).abs() < 1e-5, "arrow {a} m for {e} m expected");
    }
}

#[test]
fn mouse_spring_lifts_the_cube_and_letting_go_drops_it() {
    use so101_lab::session::Perturb;
    let cfg = default_configs_dir();
    let mut task = TaskConfig::load(&cfg.join("task.toml")).expect("task");
    // Arm at home, away from the cube, so nothing but the spring touches it.
    task.reset_mode = so101_lab::task::ResetMode::Home;
    let reward = RewardConfig::load(&cfg.join("rewards/v11.toml")).expect("reward");
    let mut session = LiveSession::new(TaskEnv::new(common::default_scene(), task, reward), 5);
    session.auto_reset = false;
    let start = session.env().sim().cube_pose().pos;
    // Grab the top face's centre and pull it up and sideways, clear of the gripper above it.
    let target = [start.x, start.y + 0.1, start.z + 0.08];
    session.set_perturb(Some(Perturb {
        local_point: [0.0, 0.0, 0.015],
        target,
    }));
    for _ in 0..60 {
        session.step();
    }
    let held = session.env().sim().cube_pose().pos;
    let point = session.perturb_point().expect("active");
    let err = (0..3)
        .map(|i| (point[i] - target[i]).powi(2))
        .sum::<f64>()
        .sqrt();
    println!(
        "spring: grabbed point {:.1} mm from the mouse target",
        err * 1e3
    );
    assert!(held.z > start.z + 0.05, "cube only at z {:.3}", held.z);
    assert!(
        err < 0.03,
        "grabbed point {:.1} mm from the target",
        err * 1e3
    );
    let snap = session.snapshot();
    assert!(
        snap.annotations.perturb.is_some(),
        "the spring is not in the snapshot"
    );
    session.set_perturb(None);
    for _ in 0..60 {
        session.step();
    }
    let dropped = session.env().sim().cube_pose().pos;
    assert!(
        dropped.z < start.z + 0.005,
        "cube still at z {:.3} after letting go",
        dropped.z
    );
}

#[test]
fn reset_with_a_chosen_cube_position() {
    let cfg = default_configs_dir();
    let task = TaskConfig::load(&cfg.join("task.toml")).expect("task");
    let reward = RewardConfig::load(&cfg.join("rewards/v11.toml")).expect("reward");
    let mut session = LiveSession::new(TaskEnv::new(common::default_scene(), task, reward), 5);
    session.reset_at(9, Some([0.22, 0.05, 0.3]));
    let p = session.env().sim().cube_pose();
    assert!(
        (p.pos.x - 0.22).abs() < 2e-3 && (p.pos.y - 0.05).abs() < 2e-3,
        "cube at {:?}",
        p.pos
    );
    // The arm was placed above that cube (full reset), and the seed is kept.
    let tcp = session.env().sim().tcp_pose().pos;
    assert!(
        (tcp.x - 0.22).abs() < 0.02 && (tcp.y - 0.05).abs() < 0.02,
        "TCP at {tcp:?}"
    );
    assert_eq!(session.seed(), 9);
}

#[test]
fn teleop_ghost_shows_the_ik_solution_and_flags_unreachable_goals() {
    let cfg = default_configs_dir();
    let task = TaskConfig::load(&cfg.join("task_assisted.toml")).expect("task");
    let reward = RewardConfig::load(&cfg.join("rewards/v11.toml")).expect("reward");
    let mut session = LiveSession::new(TaskEnv::new(common::default_scene(), task, reward), 2);
    let tcp = session.env().sim().tcp_pose().pos;
    let goal = [tcp.x + 0.03, tcp.y, tcp.z + 0.03];
    session.driver = Driver::Teleop {
        target: goal,
        gripper: 1.0,
    };
    session.step();
    let snap = session.snapshot();
    let ghost = snap
        .annotations
        .ghost
        .as_ref()
        .expect("ghost while teleoperating");
    assert!(
        ghost.converged,
        "a nearby goal is reachable (error {:.4} m)",
        ghost.pos_err
    );
    let g = session.env().sim().handles().static_pad_geom;
    let moved = (0..3)
        .map(|i| (ghost.geom_pos[g][i] - snap.geom_pos[g][i]).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        moved > 0.02,
        "the ghost hand is where the hand is ({moved:.3} m)"
    );
    // Follow the goal: the real pad ends where the ghost pad was.
    let ghost_pad = ghost.geom_pos[g];
    for _ in 0..150 {
        session.step();
    }
    let pad = session.env().sim().data().geom_xpos()[g];
    let gap = (0..3)
        .map(|i| (pad[i] - ghost_pad[i]).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        gap < 0.01,
        "the arm settled {:.1} mm from its ghost",
        gap * 1e3
    );
    // A goal a metre away is out of reach, and says so.
    session.driver = Driver::Teleop {
        target: [1.0, 0.0, 0.5],
        gripper: 1.0,
    };
    session.step();
    let snap = session.snapshot();
    let ghost = snap.annotations.ghost.as_ref().expect("ghost");
    assert!(
        !ghost.converged && ghost.pos_err > 0.3,
        "error {:.3} m",
        ghost.pos_err
    );
}

#[test]
fn a_hand_driven_episode_is_counted_once_however_long_it_runs_on() {
    let cfg = default_configs_dir();
    let mut task = TaskConfig::load(&cfg.join("task_assisted.toml")).expect("task");
    task.max_episode_steps = 20;
    let reward = RewardConfig::load(&cfg.join("rewards/v11.toml")).expect("reward");
    let mut session = LiveSession::new(TaskEnv::new(common::default_scene(), task, reward), 3);
    let tcp = session.env().sim().tcp_pose().pos;
    session.driver = Driver::Teleop {
        target: [tcp.x, tcp.y, tcp.z],
        gripper: 1.0,
    };
    // A person drives: the episode ends at step 20 and is not reset; the arm keeps moving.
    for _ in 0..75 {
        session.step();
    }
    assert_eq!(session.stats.episodes, 1);
    // A reset starts the next episode, which is counted when it ends.
    session.reset(4);
    for _ in 0..30 {
        session.step();
    }
    assert_eq!(session.stats.episodes, 2);
    // The policy driver auto-resets: one episode per 20 steps.
    session.driver = Driver::Hold;
    session.reset(5);
    for _ in 0..60 {
        session.step();
    }
    assert_eq!(session.stats.episodes, 5);
}

#[test]
fn the_place_target_is_drawn_and_turns_green_when_the_cube_is_set_on_it() {
    let cfg = default_configs_dir();
    let task = TaskConfig::load(&cfg.join("tasks/place.toml")).expect("place task");
    let env = TaskEnv::new(common::default_scene(), task, RewardConfig::place_v1());
    let mut session = LiveSession::new(env, 5);
    session.driver = Driver::Scripted(CartesianPlacePolicy::new());
    let goal = session.env().goal().expect("a target");
    let ring = |snap: &so101_lab::sim::SimSnapshot| {
        let m = snap.annotations.place_target.expect("target annotated");
        let prims = overlay::targets(snap);
        let lines: Vec<([f32; 3], overlay::Rgba)> = prims
            .iter()
            .filter_map(|p| match p {
                Primitive::Line { from, color, .. } => Some((*from, *color)),
                _ => None,
            })
            .collect();
        (m, lines)
    };
    let (m, lines) = ring(&session.snapshot());
    assert_eq!(m.pos[..2], goal[..]);
    assert!(!m.cube_inside);
    // The circle: every segment start 2 cm from the target centre, on the table.
    let circle: Vec<_> = lines
        .iter()
        .filter(|(p, _)| {
            let r = (p[0] - goal[0] as f32).hypot(p[1] - goal[1] as f32);
            (r - 0.02).abs() < 1e-5 && p[2] < 0.002
        })
        .collect();
    assert!(circle.len() >= 32, "{} circle segments", circle.len());
    assert!(circle.iter().all(|(_, c)| *c != overlay::PAD_CONTACT_COLOR));
    let mut phases = Vec::new();
    for _ in 0..260 {
        session.step();
        let snap = session.snapshot();
        let phase = snap.annotations.pick_phase.clone().unwrap_or_default();
        if phases.last() != Some(&phase) {
            phases.push(phase.clone());
        }
        if snap.annotations.place_target.is_some_and(|m| m.cube_inside) && phase == "retreat" {
            let (_, lines) = ring(&snap);
            assert!(lines.iter().all(|(_, c)| *c == overlay::PAD_CONTACT_COLOR));
            for want in ["carry", "lower", "open", "retreat"] {
                assert!(phases.iter().any(|p| p == want), "{want} in {phases:?}");
            }
            return;
        }
    }
    panic!("never set on the target: phases {phases:?}");
}
