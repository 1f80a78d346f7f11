//! LeRobot datasets: `episode export --format lerobot` writes a dataset that LeRobot's own
//! dataset class (the set-up's venv) loads with the right episodes, frames, feature names and
//! values; `episode import-lerobot` drives the sim along one of its episodes and tracks it.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::bin;

fn ok(out: Output) -> Output {
    common::assert_ok(&out);
    out
}

fn record(dir: &Path, seed: u64) -> PathBuf {
    ok(bin()
        .args(["record", "--task", "configs/task_assisted.toml", "--seed"])
        .arg(seed.to_string())
        .arg("--out")
        .arg(dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("record runs"));
    dir.join(format!("episode_{seed:06}.jsonl"))
}

fn lines(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .expect("episode")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// Loads the dataset with `LeRobotDataset` and prints what the test checks, through the
/// class's own `__getitem__`.
const PROBE: &str = r#"
import json, os, sys
os.environ["HF_HUB_OFFLINE"] = "1"
from ledataset.datasets.lerobot_dataset import LeRobotDataset
ds = LeRobotDataset("so101-lab/probe", root=sys.argv[1])
f = ds[1]
print(json.dumps({
    "episodes": ds.meta.total_episodes,
    "frames": len(ds),
    "fps": ds.meta.fps,
    "robot_type": ds.meta.robot_type,
    "features": sorted(ds.meta.features),
    "state_names": ds.meta.features["observation.state"]["names"],
    "action_names": ds.meta.features["action"]["names"],
    "frame1_state": f["observation.state"].tolist(),
    "frame1_episode": int(f["episode_index"]),
    "task": f["task"],
}))
"#;

#[test]
fn a_lerobot_export_loads_in_lerobots_class_and_imports_back_into_the_sim() {
    let dir = common::temp_dir("so101-lerobot", "t");
    let eps = dir.join("eps");
    let first = record(&eps, 3);
    let second = record(&eps, 5);
    let (a, b) = (lines(&first), lines(&second));
    let steps = a.len() - 1 + b.len() - 1;

    let ds = dir.join("dataset");
    ok(bin()
        .args(["episode", "export"])
        .arg(&eps)
        .args(["--format", "lerobot", "--out"])
        .arg(&ds)
        .output()
        .expect("export"));
    assert!(ds.join("meta/info.json").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let out = ok(Command::new(common::venv_python())
        .args(["-c", PROBE])
        .arg(&ds)
        .output()
        .expect("python runs (tools/setup.sh installs lerobot-dataset into the venv)"));
    let probe: serde_json::Value = serde_json::from_slice(&out.stdout).expect("probe json");
    assert_eq!(probe["episodes"], 2, "{probe}");
    assert_eq!(probe["frames"], steps as u64, "{probe}");
    assert_eq!(probe["fps"], 50);
    assert_eq!(probe["robot_type"], "so101_follower");
    let motors = [
        "shoulder_pan.pos",
        "shoulder_lift.pos",
        "elbow_flex.pos",
        "wrist_flex.pos",
        "wrist_roll.pos",
        "gripper.pos",
    ];
    assert_eq!(probe["state_names"], serde_json::json!(motors));
    assert_eq!(probe["action_names"], serde_json::json!(motors));
    for f in [
        "observation.state",
        "action",
        "observation.environment_state",
        "next.reward",
        "next.success",
    ] {
        assert!(
            probe["features"]
                .as_array()
                .expect("features")
                .contains(&f.into()),
            "{f}: {probe}"
        );
    }
    assert_eq!(probe["task"], "Pick up the cube and lift it.");
    // Frame 1's state is the joints after the first recorded step, in degrees.
    assert_eq!(probe["frame1_episode"], 0);
    let header = &a[0];
    let names = header["qpos_names"].as_array().expect("qpos names");
    let pan = names
        .iter()
        .position(|n| n == "shoulder_pan")
        .expect("shoulder_pan in qpos");
    let recorded = a[1]["qpos"][pan].as_f64().expect("qpos").to_degrees();
    let exported = probe["frame1_state"][0].as_f64().expect("state");
    assert!(
        (exported - recorded).abs() <= 1e-5 * recorded.abs().max(1.0),
        "{exported} vs {recorded}"
    );

    // Never overwritten.
    let again = bin()
        .args(["episode", "export"])
        .arg(&eps)
        .args(["--format", "lerobot", "--out"])
        .arg(&ds)
        .output()
        .expect("export");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));

    // Import episode 1 (seed 5): the sim follows the recorded joints.
    let csv = dir.join("track.csv");
    let assisted = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/task_assisted.toml");
    let out = ok(bin()
        .args(["episode", "import-lerobot"])
        .arg(&ds)
        .args(["--episode", "1", "--json", "--task"])
        .arg(&assisted)
        .arg("--out")
        .arg(&csv)
        .output()
        .expect("import"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["frames"], (b.len() - 1) as u64, "{report}");
    assert_eq!(report["dataset_episodes"], 2);
    let control_steps = report["control_steps"].as_u64().expect("steps");
    assert_eq!(
        control_steps + 1,
        (b.len() - 1) as u64,
        "a start pose, then one step per frame"
    );
    for m in &motors[..5] {
        let rms = report["error"][m]["rms"].as_f64().expect("rms");
        assert!(rms < 2.0, "{m}: rms {rms} degrees: {report}");
    }
    let rows = std::fs::read_to_string(&csv).expect("csv");
    assert_eq!(rows.lines().count() as u64, control_steps + 1);
    assert!(rows.starts_with("time,target/shoulder_pan.pos,"));
    let again = bin()
        .args(["episode", "import-lerobot"])
        .arg(&ds)
        .arg("--out")
        .arg(&csv)
        .output()
        .expect("import");
    assert!(
        !again.status.success(),
        "an existing CSV is never overwritten"
    );
    assert_eq!(std::fs::read_to_string(&csv).expect("csv"), rows);

    let missing = bin()
        .args(["episode", "import-lerobot"])
        .arg(&ds)
        .args(["--episode", "7"])
        .output()
        .expect("import");
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("has 2 episodes"), "{err}");

    let not_a_dataset = bin()
        .args(["episode", "import-lerobot"])
        .arg(&eps)
        .output()
        .expect("import");
    assert!(!not_a_dataset.status.success());
    let err = String::from_utf8_lossy(&not_a_dataset.stderr);
    assert!(err.contains("not a LeRobot dataset"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The app's live session follows recorded joints through the servos (no Python: a smooth
/// synthetic trajectory), keeps one tracking error per recorded step, then holds the last pose.
#[test]
fn a_live_session_follows_recorded_joints_and_keeps_the_tracking_error() {
    use so101_lab::session::{Driver, Follow, LiveSession};
    use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let task = TaskConfig::load(&root.join("configs/task_assisted.toml")).expect("task");
    let env = TaskEnv::new(common::default_scene(), task, RewardConfig::default());
    let mut session = LiveSession::new(env, 0);
    let start = session.env().sim().joint_positions();
    // Pan 0.4 rad and lift the elbow 0.2 rad over 2 s (100 steps), gripper still.
    let targets: Vec<[f64; 6]> = (1..=100)
        .map(|k| {
            let s = k as f64 / 100.0;
            let mut q = start;
            q[0] += 0.4 * s;
            q[2] -= 0.2 * s;
            q
        })
        .collect();
    session.follow(Follow::new(start, targets.clone(), "synthetic".into()));
    for _ in 0..120 {
        session.step();
    }
    let Driver::Follow(f) = &session.driver else {
        panic!("the driver changed");
    };
    assert_eq!(f.errors.len(), 100);
    assert!(f.finished());
    let rms = f.rms();
    assert!(rms[0] < 0.02 && rms[2] < 0.02, "{rms:?} rad");
    let q = session.env().sim().joint_positions();
    assert!((q[0] - targets[99][0]).abs() < 0.01, "{q:?}");
    assert_eq!(session.driver.name(), "recorded joints");
}
