//! The grasp inspector: verdicts on hand-built contacts (clean pads, a jaw box, sliding,
//! clipping, one jaw, nothing) and on the scripted pick's real grasp; failure triage of recorded
//! eval episodes (counts like eval's, a thumbnail per failure); the debug video's frames and size.

use crate::common;

use so101_lab::config::default_configs_dir;
use so101_lab::scripted::CartesianPickPolicy;
use so101_lab::sim::{ContactInfo, GraspVerdict, inspect_grasp};
use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};

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
    let mut env = TaskEnv::new(common::default_scene(), task, reward);
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

/// configs/task.toml cut to 22 steps: the bundled policy then fails in every way (never
/// touched, one pad, dropped, timeout) within seconds.
fn short_task(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(default_configs_dir().join("task.toml")).unwrap();
    let cut = text.replace("max_episode_steps = 300", "max_episode_steps = 22");
    assert_ne!(cut, text, "configs/task.toml sets max_episode_steps = 300");
    let path = dir.join("task_22.toml");
    std::fs::write(&path, cut).unwrap();
    path
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    common::assert_ok(out);
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn triage_of_recorded_eval_episodes_counts_each_failure_kind_like_eval() {
    let dir = common::temp_dir("so101-triage", "counts");
    let task = short_task(&dir);
    let (episodes, report) = (dir.join("episodes"), dir.join("report.html"));
    let eval = json_of(
        &common::bin()
            .args(["eval", "--episodes", "30", "--json", "--task"])
            .arg(&task)
            .arg("--record")
            .arg(&episodes)
            .arg("--report")
            .arg(&report)
            .output()
            .unwrap(),
    );
    let triage = json_of(
        &common::bin()
            .args(["triage", "--json", "--sort", "seed"])
            .arg(&episodes)
            .output()
            .unwrap(),
    );
    let counts = &triage["counts"];
    let pairs = [
        ("never touched", "never_touched"),
        ("one-pad contact", "one_pad_contact"),
        ("dropped", "dropped"),
        ("timeout", "timeout"),
        ("success", "successes"),
    ];
    for (label, field) in pairs {
        assert_eq!(
            counts[label], eval[field],
            "{label}: triage {counts} vs eval"
        );
    }
    let kinds_seen = pairs[..4]
        .iter()
        .filter(|(l, _)| counts[*l].as_u64().unwrap() > 0)
        .count();
    assert!(
        kinds_seen >= 3,
        "the short task shows several kinds: {counts}"
    );
    let rows = triage["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 30);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["seed"], 1_000_000 + i as u64, "sorted by seed");
        let live = &eval["per_episode"][i];
        for field in [
            "seed",
            "failure",
            "failure_step",
            "ret",
            "steps",
            "peak_height_m",
        ] {
            assert_eq!(row[field], live[field], "{field} of episode {i}");
        }
        let at = row["failure_step"].as_u64().expect("every episode failed");
        assert!((1..=22).contains(&at), "moment of failure {at}");
        assert_eq!(row["steps"], 22);
    }
    // The page: one thumbnail per failure, all 30 rows.
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("data:image/png;base64,").count(), 30);
    assert_eq!(html.matches("<tr class=\"fail\">").count(), 30);
    // Filtering keeps one kind.
    let one_pad = json_of(
        &common::bin()
            .args(["triage", "--json", "--outcome", "one_pad_contact"])
            .arg(&episodes)
            .output()
            .unwrap(),
    );
    assert_eq!(
        one_pad["rows"].as_array().unwrap().len() as u64,
        counts["one-pad contact"].as_u64().unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn render_writes_one_frame_per_step_at_the_size_asked() {
    let dir = common::temp_dir("so101-render", "video");
    let task = short_task(&dir);
    let episodes = dir.join("episodes");
    common::assert_ok(
        &common::bin()
            .args(["eval", "--episodes", "1", "--task"])
            .arg(&task)
            .arg("--record")
            .arg(&episodes)
            .output()
            .unwrap(),
    );
    let episode = episodes.join("eval_1000000.jsonl");
    let video = dir.join("debug.mp4");
    let report = json_of(
        &common::bin()
            .arg("render")
            .arg(&episode)
            .arg("--out")
            .arg(&video)
            .args([
                "--size", "320x240", "--plots", "--camera", "front", "--json",
            ])
            .args(["--overlays", "sites,contacts,frames,hud"])
            .output()
            .unwrap(),
    );
    assert_eq!(report["frames"], 22);
    let probe = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=nb_read_frames,width,height,r_frame_rate",
        ])
        .args(["-of", "json"])
        .arg(&video)
        .output()
        .expect("ffprobe (installed by tools/setup.sh)");
    let p = json_of(&probe);
    let s = &p["streams"][0];
    assert_eq!(s["nb_read_frames"], "22", "one frame per step: {p}");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(320), Some(240))
    );
    let fps = report["fps"].as_f64().unwrap();
    assert_eq!(
        s["r_frame_rate"],
        format!("{}/1", fps.round()),
        "real time: {p}"
    );
    // Never overwritten; a bad size and an unknown camera are errors, not panics.
    let other = dir.join("other.mp4");
    for (out_file, extra) in [
        (&video, ["--size", "320x240"]),
        (&other, ["--size", "321x240"]),
        (&other, ["--camera", "nope"]),
    ] {
        let out = common::bin()
            .arg("render")
            .arg(&episode)
            .arg("--out")
            .arg(out_file)
            .args(extra)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{extra:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!other.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The grasp inspector on the held states of a recorded episode.
fn held_inspections(episode: &std::path::Path) -> Vec<so101_lab::sim::GraspInspection> {
    let replay = so101_lab::episode::Replay::open(episode).expect("replay");
    let all = replay.inspections().expect("inspections");
    replay
        .episode
        .steps
        .iter()
        .zip(all)
        .filter(|(s, _)| s.info.grasping)
        .map(|(_, g)| g)
        .collect()
}

#[test]
fn recorded_grasps_clean_with_proud_pads_and_clipping_with_the_jaw_box_pressed_in() {
    let dir = common::temp_dir("so101-verdicts", "recorded");
    // The shipped scene: the finger-tip box is pressed into the cube beside the pad.
    let shipped = held_inspections(&common::record_scripted_lift(&dir.join("shipped")));
    assert!(shipped.len() > 100);
    for g in &shipped {
        assert_eq!(g.verdict, GraspVerdict::Clipping, "{g:?}");
        assert!(
            g.max_box_penetration() > 0.0005,
            "a jaw box is the deep one: {g:?}"
        );
    }
    // Pads standing 1.8 mm proud of the jaws: the same scripted pick holds on the pads alone.
    let text = std::fs::read_to_string(default_configs_dir().join("scene.toml")).unwrap();
    let proud: String = text
        .lines()
        .map(|l| match l.starts_with("protrusion_m") {
            true => "protrusion_m = 0.0018".to_owned(),
            false => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let scene = dir.join("scene_proud_pads.toml");
    std::fs::write(&scene, proud).unwrap();
    let out = common::bin()
        .args([
            "record",
            "--task",
            "configs/task_assisted.toml",
            "--seed",
            "0",
        ])
        .arg("--scene")
        .arg(&scene)
        .arg("--out")
        .arg(dir.join("proud"))
        .output()
        .unwrap();
    common::assert_ok(&out);
    let clean = held_inspections(&dir.join("proud").join("episode_000000.jsonl"));
    assert!(clean.len() > 100);
    let n = clean
        .iter()
        .filter(|g| g.verdict == GraspVerdict::CleanPadGrasp)
        .count();
    assert!(
        n * 100 >= 95 * clean.len(),
        "{n} of {} held steps clean",
        clean.len()
    );
    assert!(clean.iter().all(|g| g.pads_only()));
    let _ = std::fs::remove_dir_all(&dir);
}
