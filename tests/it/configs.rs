//! Shipped config files: the reference values, the reward versions, and user-added versions.

use crate::common;

use std::path::Path;

use so101_lab::config::default_configs_dir;
use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};

#[test]
fn shipped_task_and_v11_are_the_reference_defaults() {
    let dir = default_configs_dir();
    assert_eq!(
        TaskConfig::load(&dir.join("task.toml")).expect("task"),
        TaskConfig::default()
    );
    assert_eq!(
        RewardConfig::load(&dir.join("rewards/v11.toml")).expect("v11"),
        RewardConfig::default()
    );
    let assisted = TaskConfig::load(&dir.join("task_assisted.toml")).expect("assisted");
    assert_eq!(
        assisted,
        TaskConfig {
            gravity_feedforward: 1.0,
            top_down_ik: true,
            ..TaskConfig::default()
        }
    );
}

#[test]
fn v11_fixed_switches_exactly_the_four_flaws() {
    let fixed =
        RewardConfig::load(&default_configs_dir().join("rewards/v11_fixed.toml")).expect("fixed");
    let expected = RewardConfig {
        name: "v11_fixed".into(),
        cap_lift_progress: true,
        gate_height_bonuses_on_grasp: true,
        action_rate_excludes_gripper: true,
        drop_debounce_steps: 3,
        ..RewardConfig::default()
    };
    assert_eq!(fixed, expected);
}

#[test]
fn a_user_reward_version_needs_no_code() {
    let path = std::env::temp_dir().join(format!("so101-my-reward-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "name = \"mine\"\nreach_scale = 20.0\nsuccess_bonus = 50.0\n",
    )
    .expect("write");
    let mine = RewardConfig::load(&path).expect("loads");
    assert_eq!(mine.name, "mine");
    assert_eq!(mine.reach_scale, 20.0);
    assert_eq!(
        mine.grasp_bonus,
        RewardConfig::default().grasp_bonus,
        "unset fields keep V11 values"
    );
    let mut env = TaskEnv::new(common::default_scene(), TaskConfig::default(), mine);
    env.reset(0);
    let out = env.step(&[0.0; 4]);
    assert!(out.reward.is_finite());
}

#[test]
fn bad_task_and_reward_files_name_file_and_field() {
    let dir = std::env::temp_dir();
    let task = dir.join(format!("so101-bad-task-{}.toml", std::process::id()));
    std::fs::write(
        &task,
        "target_min = [0.5, -0.3, 0.01]\ntarget_max = [0.1, 0.3, 0.4]\n",
    )
    .expect("write");
    let err = TaskConfig::load(&task).expect_err("inverted bounds");
    assert!(
        err.to_string().contains("target_min[0]")
            && err.to_string().contains(&task.display().to_string()),
        "{err}"
    );
    let reward = dir.join(format!("so101-bad-reward-{}.toml", std::process::id()));
    std::fs::write(&reward, "drop_debounce_steps = 0\n").expect("write");
    let err = RewardConfig::load(&reward).expect_err("zero debounce");
    assert!(err.to_string().contains("drop_debounce_steps"), "{err}");
    std::fs::write(&reward, "reach_sclae = 3.0\n").expect("write");
    assert!(
        RewardConfig::load(&reward)
            .expect_err("typo")
            .to_string()
            .contains("reach_sclae")
    );
    assert!(TaskConfig::load(Path::new("/nonexistent/task.toml")).is_err());
}

#[test]
fn every_training_config_loads_and_points_at_existing_task_and_reward_files() {
    use so101_lab::rl::SacConfig;
    let dir = default_configs_dir().join("train");
    let mut n = 0;
    // configs/train/*.toml and one level of folders (configs/train/ablation/*.toml).
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("configs/train") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            let inner = std::fs::read_dir(&path).expect("folder");
            files.extend(inner.map(|e| e.expect("entry").path()));
        } else {
            files.push(path);
        }
    }
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("ablation/fast_nodemo.toml"))
    );
    for path in files {
        let is_pixel = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("pixel_"));
        if is_pixel {
            let cfg = so101_lab::rl::pixel::PixelTrainConfig::load(&path)
                .unwrap_or_else(|e| panic!("{e}"));
            let task = TaskConfig::load(&SacConfig::resolve(&cfg.task))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                task.obs.image.is_some(),
                "{}: pixel SAC needs images",
                path.display()
            );
            continue;
        }
        let cfg = SacConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        TaskConfig::load(&SacConfig::resolve(&cfg.task))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        RewardConfig::load(&SacConfig::resolve(&cfg.reward))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert!(n >= 2);
    let reference = SacConfig::load(&dir.join("reference.toml")).expect("reference");
    assert_eq!(
        reference,
        SacConfig::default(),
        "reference.toml is the SB3 reference run"
    );
}

#[test]
fn the_wrist_camera_task_and_the_dr_ranges_load() {
    let dir = default_configs_dir();
    let task = TaskConfig::load(&dir.join("task_wrist.toml")).expect("task_wrist.toml");
    let image = task.obs.image.clone().expect("[obs.image]");
    assert_eq!((image.width, image.height, image.frame_stack), (84, 84, 3));
    assert!(!image.privileged_state);
    let env = TaskEnv::try_new(common::default_scene(), task, RewardConfig::default())
        .expect("the wrist camera exists");
    assert!(env.observation_space().privileged_names().is_empty());
    let dr =
        so101_lab::task::DrConfig::load(&dir.join("dr/default.toml")).expect("dr/default.toml");
    assert!(dr.randomises_physics());
}

#[test]
fn every_distill_config_loads() {
    let dir = default_configs_dir().join("distill");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("configs/distill") {
        let path = entry.expect("entry").path();
        let cfg =
            so101_lab::rl::distill::DistillConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let task = TaskConfig::load(&so101_lab::rl::distill::DistillConfig::resolve(&cfg.task))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            task.obs.image.is_some(),
            "{}: the student needs images",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn tasks_are_configurations_of_one_env() {
    use so101_lab::task::{RewardFunction, SuccessPredicate};
    let dir = default_configs_dir();
    let lift = TaskConfig::load(&dir.join("tasks/lift.toml")).expect("lift");
    // The lift task file is the reference task, named, with its reward version beside it.
    assert_eq!(
        lift,
        TaskConfig {
            reward: Some("../rewards/v11.toml".into()),
            ..TaskConfig::default()
        }
    );
    let place = TaskConfig::load(&dir.join("tasks/place.toml")).expect("place");
    assert_eq!(
        (place.name.as_str(), place.success),
        ("place", SuccessPredicate::Place)
    );
    let target = place.target.expect("[target]");
    assert_eq!((target.x, target.y), ([0.15, 0.35], [-0.15, 0.15]));
    assert_eq!((target.min_cube_distance_m, target.radius_m), (0.06, 0.02));
    assert_eq!(place.success_hold_steps, 25);
    assert!(place.obs.target_pos);
    let reward_path = place
        .reward_path(&dir.join("tasks/place.toml"))
        .expect("reward");
    let reward = RewardConfig::load(&reward_path).expect("place_v1");
    assert_eq!(reward, RewardConfig::place_v1());
    assert_eq!(reward.function, RewardFunction::StagedPlace);
    place
        .check_reward(&reward)
        .expect("place reward on the place task");
    assert!(lift.check_reward(&reward).is_err(), "no target to place on");
    // The third task is a file only: lift, starting 8-12 cm from above the cube.
    let far = TaskConfig::load(&dir.join("tasks/lift_far.toml")).expect("lift_far");
    assert_eq!(far.reset_offset_m, Some([0.08, 0.12]));
    assert_eq!(far.success, SuccessPredicate::LiftHold);
    let mut env = TaskEnv::new(common::default_scene(), far, RewardConfig::default());
    for seed in 0..10 {
        env.reset(seed);
        let (tcp, cube) = (env.sim().tcp_pose().pos, env.sim().cube_pose().pos);
        let d = (tcp.x - cube.x).hypot(tcp.y - cube.y);
        // 8-12 cm from the jaw-clearance-shifted point above the cube, give or take the servos.
        assert!((0.07..=0.13).contains(&d), "seed {seed}: {d:.3} m");
    }
    // Every task file builds an env that steps.
    for name in ["lift", "place", "lift_far"] {
        let path = dir.join(format!("tasks/{name}.toml"));
        let task = TaskConfig::load(&path).expect("task");
        let reward = RewardConfig::load(&task.reward_path(&path).expect("reward")).expect("r");
        let mut env = TaskEnv::new(common::default_scene(), task, reward);
        let obs = env.reset(1);
        assert_eq!(obs.len(), env.observation_space().dim(), "{name}");
        let out = env.step(&[0.0, 0.0, 0.1, 0.0]);
        assert!(out.reward.is_finite() && out.obs.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn bad_task_goals_name_the_field() {
    let dir = default_configs_dir();
    let place = TaskConfig::load(&dir.join("tasks/place.toml")).expect("place");
    let mut t = place.clone();
    t.target.as_mut().expect("target").y = [-0.4, 0.15];
    let e = t.validate().expect_err("outside the workspace");
    assert_eq!(e.field, "target.y[0]");
    let mut t = place.clone();
    t.target = None;
    assert_eq!(t.validate().expect_err("no target").field, "success");
    let mut t = place;
    t.target.as_mut().expect("target").radius_m = 0.0;
    assert_eq!(
        t.validate().expect_err("zero radius").field,
        "target.radius_m"
    );
    let text = "name = \"x\"\nfunction = \"staged_stack\"\n";
    let path = std::env::temp_dir().join(format!("so101-unknown-fn-{}.toml", std::process::id()));
    std::fs::write(&path, text).expect("write");
    let e = RewardConfig::load(&path)
        .expect_err("unknown function")
        .to_string();
    std::fs::remove_file(&path).ok();
    assert!(e.contains("function") && e.contains("staged_stack"), "{e}");
}
