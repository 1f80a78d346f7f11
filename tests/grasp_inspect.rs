//! The grasp inspector: verdicts on hand-built contacts (clean pads, a jaw box, sliding,
//! clipping, one jaw, nothing) and on the scripted pick's real grasp.

mod common;

use so101_lab::config::default_configs_dir;
use so101_lab::scripted::CartesianPickPolicy;
use so101_lab::sim::{ContactInfo, GraspVerdict, inspect_grasp};
use so101_lab::task::{LiftEnv, RewardConfig, TaskConfig};

/// A cube contact with `geom`: normal force `fn_`, cone use `cone` (mu 1), penetration `pen`.
fn touch(cube: usize, geom: usize, name: &str, fn_: f64, cone: f64, pen: f64) -> ContactInfo {
    ContactInfo {
        geom1: geom,
        geom2: cube,
        name1: name.into(),
        name2: "cube".into(),
        pos: [0.0; 3],
        normal: [1.0, 0.0, 0.0],
        penetration: pen,
        dist: -pen,
        force_world: [fn_, 0.0, 0.0],
        normal_force: fn_,
        tangent_force: cone * fn_,
        mu: 1.0,
    }
}

#[test]
fn verdicts_on_hand_built_contacts() {
    let scene = common::default_scene();
    let h = &scene.handles;
    let body = scene.model.geom_bodyid();
    // A collision geom of the moving jaw that is not its pad: a jaw box.
    let jaw_box = (0..body.len())
        .find(|&g| {
            body[g] as usize == h.moving_jaw_body
                && g != h.moving_pad_geom
                && scene.model.geom_contype()[g] != 0
        })
        .expect("the moving jaw has collision boxes");
    let (cube, sp, mp) = (h.cube_geom, h.static_pad_geom, h.moving_pad_geom);
    let pads = |cone: f64, pen: f64| {
        vec![
            touch(cube, sp, "static_finger_pad", 2.0, cone, pen),
            touch(cube, mp, "moving_finger_pad", 2.0, 0.3, 0.0001),
        ]
    };
    let v = |c: &[ContactInfo]| inspect_grasp(c, h, body).verdict;
    assert_eq!(v(&[]), GraspVerdict::NoContact);
    assert_eq!(v(&pads(0.3, 0.0001)), GraspVerdict::CleanPadGrasp);
    assert_eq!(v(&pads(0.97, 0.0001)), GraspVerdict::Sliding);
    assert_eq!(v(&pads(0.3, 0.0008)), GraspVerdict::Clipping);
    assert_eq!(v(&pads(0.3, 0.0001)[..1]), GraspVerdict::OneJaw);
    let mut with_box = pads(0.3, 0.0001);
    with_box.push(touch(cube, jaw_box, "jaw_box", 1.0, 0.9, 0.0002));
    let inspection = inspect_grasp(&with_box, h, body);
    assert_eq!(inspection.verdict, GraspVerdict::JawBoxInvolved);
    assert!(inspection.moving_jaw.pad);
    assert_eq!(
        inspection.moving_jaw.other_geoms,
        vec!["jaw_box".to_owned()]
    );
    assert!((inspection.moving_jaw.normal_force - 3.0).abs() < 1e-12);
    assert!((inspection.moving_jaw.max_cone_use - 0.9).abs() < 1e-12);
    assert!(inspection.static_jaw.pad && inspection.static_jaw.other_geoms.is_empty());
    // Contacts that do not involve the cube are ignored.
    let floor = touch(usize::MAX, sp, "static_finger_pad", 5.0, 1.0, 0.01);
    let mut other = floor.clone();
    other.geom2 = h.moving_pad_geom;
    assert_eq!(v(&[other]), GraspVerdict::NoContact);
}

#[test]
fn the_inspector_reads_the_scripted_picks_real_grasp() {
    let cfg = default_configs_dir();
    let task = TaskConfig::load(&cfg.join("task_assisted.toml")).expect("task");
    let reward = RewardConfig::load(&cfg.join("rewards/v11.toml")).expect("reward");
    let mut env = LiftEnv::new(common::default_scene(), task, reward);
    env.reset(3);
    let mut policy = CartesianPickPolicy::new();
    let mut held = Vec::new();
    for _ in 0..300 {
        let action = policy.act(&env);
        let out = env.step(&action);
        if out.info.grasping {
            let sim = env.sim();
            let inspection =
                inspect_grasp(&sim.contacts(), sim.handles(), sim.model().geom_bodyid());
            // The snapshot the app and replay show carries the same reading.
            assert_eq!(sim.snapshot().inspection, inspection);
            held.push(inspection);
        }
        if out.terminated || out.truncated {
            break;
        }
    }
    assert!(held.len() > 100, "held for {} steps", held.len());
    let mut counts = std::collections::BTreeMap::new();
    for h in &held {
        // The env's grasp predicate (both pads) and the inspector agree.
        assert!(h.static_jaw.pad && h.moving_jaw.pad, "{h:?}");
        assert!(!matches!(
            h.verdict,
            GraspVerdict::NoContact | GraspVerdict::OneJaw
        ));
        // Clipping is exactly "some hand geom deeper than 0.5 mm".
        let deepest_hand = h
            .static_jaw
            .max_penetration
            .max(h.moving_jaw.max_penetration);
        assert_eq!(
            h.verdict == GraspVerdict::Clipping,
            deepest_hand > 0.0005,
            "{h:?}"
        );
        *counts.entry(h.verdict.label()).or_insert(0usize) += 1;
    }
    println!(
        "scripted grasp, seed 3, {} held steps: {counts:?}",
        held.len()
    );
}

#[test]
fn a_replay_lists_its_sliding_and_clipping_steps() {
    let dir = common::temp_dir("so101-faults", "replay");
    let episode = common::record_scripted_lift(&dir);
    let mut replay = so101_lab::episode::Replay::open(&episode).expect("replay");
    let faults = replay.grasp_faults().expect("faults");
    assert!(faults.len() >= 100, "{} fault steps", faults.len());
    assert!(faults.windows(2).all(|w| w[0].0 < w[1].0), "not in order");
    assert!(faults.iter().all(|(_, v)| v.is_fault()));
    // The snapshot shown at a fault's cursor says the same.
    for &(k, verdict) in faults.iter().step_by(25) {
        replay.seek(k).expect("seek");
        assert_eq!(replay.snapshot().inspection.verdict, verdict, "step {k}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
