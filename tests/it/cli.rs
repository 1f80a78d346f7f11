//! The `so101-lab` binary end to end: pick, scene export/contact, bench, defaults, errors.

use crate::common;

use common::{assert_ok, bin};

#[test]
fn pick_json_reports_success_rate_and_failure_kinds() {
    let out = bin()
        .args(["pick", "--seeds", "3", "--first-seed", "10", "--json"])
        .output()
        .expect("runs");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["picks"], 3);
    assert!(v["success_rate"].as_f64().is_some());
    assert!(v["failures"].is_object());
    assert_eq!(v["outcomes"][0]["seed"], 10);
    assert!(v["mean_pick_secs"].as_f64().unwrap_or(0.0) > 0.0);
}

#[test]
fn pick_on_the_place_task_reports_the_task_success_and_failure_kinds() {
    let out = bin()
        .args([
            "pick",
            "--task",
            "configs/tasks/place.toml",
            "--seeds",
            "3",
            "--json",
        ])
        .output()
        .expect("runs");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["task"], "place");
    assert_eq!(
        (v["episodes"].as_u64(), v["successes"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(v["failures"].is_object());
    let row = &v["per_episode"][0];
    assert_eq!(row["success"], true);
    let out = bin()
        .args(["pick", "--task", "configs/tasks/place.toml", "--seeds", "2"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("scripted place: 2/2"), "{text}");
}

#[test]
fn pick_text_prints_summary() {
    let out = bin()
        .args(["pick", "--seeds", "2", "--yaw", "30"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("scripted pick: 2/2"), "{text}");
    assert!(text.contains("failures: none"), "{text}");
}

#[test]
fn scene_export_writes_mjcf_and_contact_prints_effective_parameters() {
    let path = std::env::temp_dir().join(format!("so101-cli-export-{}.xml", std::process::id()));
    let out = bin()
        .args(["scene", "export"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_ok(&out);
    let xml = std::fs::read_to_string(&path).expect("written");
    assert!(xml.contains("static_finger_pad") && xml.contains("graspframe"));
    let out = bin().args(["scene", "contact"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("static_finger_pad <-> cube") && text.contains("solref"),
        "{text}"
    );
}

#[test]
fn bench_physics_json_has_every_number() {
    let out = bin()
        .args(["bench", "physics", "--json", "--sim-secs", "0.5"])
        .output()
        .expect("runs");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for key in [
        "free_arm_steps_per_sec",
        "grasped_steps_per_sec",
        "pick_secs",
    ] {
        assert!(v[key].as_f64().unwrap_or(0.0) > 0.0, "{key}: {v}");
    }
}

#[test]
fn bad_scene_config_exits_with_a_clear_error() {
    let path = std::env::temp_dir().join(format!("so101-cli-bad-{}.toml", std::process::id()));
    std::fs::write(&path, "[cube]\nmass_kg = -1.0\n").expect("write");
    let out = bin()
        .args(["pick", "--seeds", "1", "--scene"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&path.display().to_string()) && err.contains("cube.mass_kg"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn defaults_print_valid_toml_equal_to_the_shipped_configs() {
    use so101_lab::config::{SceneConfig, default_configs_dir};
    use so101_lab::pick::PickConfig;
    let out = bin().args(["defaults", "scene"]).output().expect("runs");
    let printed: SceneConfig = toml::from_str(&String::from_utf8_lossy(&out.stdout)).expect("toml");
    let shipped = SceneConfig::load(&default_configs_dir().join("scene.toml")).expect("shipped");
    assert_eq!(
        printed, shipped,
        "configs/scene.toml differs from the built-in defaults"
    );
    let out = bin().args(["defaults", "pick"]).output().expect("runs");
    let printed: PickConfig = toml::from_str(&String::from_utf8_lossy(&out.stdout)).expect("toml");
    let shipped = PickConfig::load(&default_configs_dir().join("pick.toml")).expect("shipped");
    assert_eq!(
        printed, shipped,
        "configs/pick.toml differs from the built-in defaults"
    );
}

#[test]
fn record_export_and_check_episodes() {
    let dir = std::env::temp_dir().join(format!("so101-cli-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let assisted = format!("{}/configs/task_assisted.toml", env!("CARGO_MANIFEST_DIR"));
    let out = bin()
        .args([
            "record",
            "--reset",
            "full",
            "--policy",
            "scripted",
            "--episodes",
            "2",
            "--seed",
            "3",
            "--task",
        ])
        .arg(&assisted)
        .arg("--out")
        .arg(&dir)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_ok(&out);
    assert!(text.contains("2/2 episodes succeeded"), "{text}");
    let ep = dir.join("episode_000003.jsonl");
    assert!(ep.exists());
    // Recording again into the same folder refuses to overwrite.
    let again = bin()
        .args(["record", "--episodes", "1", "--seed", "3", "--out"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let csv = dir.join("ep.csv");
    let out = bin()
        .args(["episode", "export"])
        .arg(&ep)
        .args(["--format", "csv", "--out"])
        .arg(&csv)
        .output()
        .expect("runs");
    assert_ok(&out);
    let text = std::fs::read_to_string(&csv).expect("csv");
    let header = text.lines().next().expect("header");
    for col in [
        "time",
        "qpos/shoulder_pan",
        "qvel/cube/vz",
        "action/gripper",
        "obs/cube_pos/z",
        "reward/lift_progress",
        "grasping",
    ] {
        assert!(header.split(',').any(|c| c == col), "missing column {col}");
    }
    let rows = text.lines().count() - 1;
    assert!(rows > 10);
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.split(',').count() == header.split(',').count())
    );

    let json = dir.join("ep.json");
    let out = bin()
        .args(["episode", "export"])
        .arg(&ep)
        .args(["--format", "json", "--out"])
        .arg(&json)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("parses");
    assert_eq!(v["steps"].as_array().map(Vec::len), Some(rows));
    assert!(v["steps"][0]["terms"]["reach"].as_f64().is_some());

    let out = bin()
        .args(["episode", "check"])
        .arg(&ep)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("identical bit for bit"), "{stdout}");
    // It was recorded with the assisted task, so `check` warns that configs/task.toml differs.
    assert!(String::from_utf8_lossy(&out.stderr).contains("different task config"));

    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"format\":\"so101-lab-episode\",\"version\":7}\n").expect("write");
    let out = bin()
        .args(["episode", "check"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("format version 7") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn bench_env_json_reports_split_and_batches() {
    let out = bin()
        .args(["bench", "env", "--json", "--steps", "200"])
        .output()
        .expect("runs");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["env_steps_per_sec"].as_f64().unwrap_or(0.0) > 0.0);
    let shares: f64 = [
        "physics_share",
        "ik_share",
        "obs_reward_share",
        "render_share",
    ]
    .iter()
    .map(|k| v[k].as_f64().unwrap_or(0.0))
    .sum();
    assert!((shares - 1.0).abs() < 1e-6);
    assert_eq!(v["batched"].as_array().map(Vec::len), Some(3));
}

#[test]
fn bench_sac_json_reports_update_rates_and_the_training_loop() {
    let out = bin()
        .args([
            "bench",
            "sac",
            "--json",
            "--updates",
            "5",
            "--loop-steps",
            "100",
        ])
        .output()
        .expect("runs");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rates = v["updates"].as_array().expect("rates");
    assert_eq!(rates.len(), 2);
    assert!(rates.iter().all(|r| r[1].as_f64().unwrap_or(0.0) > 0.0));
    // The GEMM bound is measured in the same run, and the update cannot beat it by much.
    let bound = v["gemm_bound_ms"].as_f64().unwrap_or(0.0);
    let ratio = v["ratio_to_gemm_bound"].as_f64().unwrap_or(0.0);
    assert!(bound > 0.0 && ratio > 0.5, "{v}");
    let lp = v["train_loop"].as_array().expect("loop");
    assert_eq!(lp.len(), 2, "{v}");
    assert!(lp.iter().all(|r| r[1].as_f64().unwrap_or(0.0) > 0.0), "{v}");
}

#[test]
fn bundled_policy_exports_to_torchscript_and_evaluates() {
    let pt = std::env::temp_dir().join(format!("so101-cli-actor-{}.pt", std::process::id()));
    let policy = format!(
        "{}/assets/policies/lift_sac.safetensors",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = bin()
        .args(["policy", "export-torchscript", &policy])
        .arg(&pt)
        .output()
        .expect("runs");
    assert_ok(&out);
    let root = env!("CARGO_MANIFEST_DIR");
    let out = bin()
        .arg("eval")
        .arg(&pt)
        .args([
            "--episodes",
            "3",
            "--json",
            "--task",
            &format!("{root}/configs/task_assisted.toml"),
        ])
        .args([
            "--reward",
            &format!("{root}/configs/rewards/v11_fixed.toml"),
        ])
        .output()
        .expect("runs");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["successes"], 3, "{v}");
}

#[test]
fn bench_render_json_reports_every_size_and_the_batch() {
    let out = bin()
        .args(["bench", "render", "--json", "--secs", "0.05", "--envs", "4"])
        .args(["--mujoco-frames", "0"])
        .output()
        .expect("runs");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let cases = v["cases"].as_array().expect("cases");
    for (w, h) in [(84, 84), (128, 128), (640, 480)] {
        for name in ["one env", "batch"] {
            let c = cases
                .iter()
                .find(|c| c["name"] == name && c["width"] == w && c["height"] == h)
                .unwrap_or_else(|| panic!("no {name} case at {w}x{h}"));
            assert!(c["frames_per_sec"].as_f64().unwrap_or(0.0) > 0.0);
        }
    }
    let batch = cases.iter().find(|c| c["name"] == "batch").expect("batch");
    assert_eq!(batch["envs"], 4);
}

#[test]
fn policy_info_lists_inputs_and_marks_privileged_ones() {
    let out = bin()
        .args(["policy", "info"])
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/policies/lift_sac.safetensors"),
        )
        .output()
        .expect("runs");
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    assert!(
        text.contains("cube_pos/x") && text.contains("[privileged]"),
        "{text}"
    );
    assert!(text.contains("3 privileged"), "{text}");
    assert!(text.contains("image input: none"), "{text}");
}

#[test]
fn policy_info_shows_an_image_layout() {
    use so101_lab::rl::policy::Policy;
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/policies/lift_sac.safetensors");
    let mut policy = Policy::load(&bundled).expect("bundled policy");
    policy.meta.image = Some(so101_lab::task::ImageObsConfig::default().spec());
    let dir = std::env::temp_dir().join(format!("so101-cli-info-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("pixel.safetensors");
    let _ = std::fs::remove_file(&path);
    policy.save(&path).expect("save");
    let out = bin()
        .args(["policy", "info"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("image input: 9 plane(s) of 84x84"), "{text}");
    assert!(
        text.contains("wrist/r@t-2") && text.contains("wrist/b@t-0"),
        "{text}"
    );
}
