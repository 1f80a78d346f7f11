//! Exact exchange with MuJoCo's own Python bindings (the set-up's venv): an episode with a grasp
//! and a lift, re-simulated in Python from the exported `.mjb` and from the exported `.xml`,
//! matches the recording bit for bit at every step; `episode export --format npz` holds the
//! recorded numbers exactly.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::bin;

fn ok(out: Output) -> Output {
    common::assert_ok(&out);
    out
}

fn resim(model: &Path, episode: &Path) -> serde_json::Value {
    let out = ok(Command::new(common::venv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/resim_episode.py"))
        .arg(model)
        .arg(episode)
        .output()
        .expect("python runs (tools/setup.sh installs third_party/sb3-venv with mujoco)"));
    serde_json::from_slice(&out.stdout).expect("json report")
}

/// A scripted episode that grasps and lifts (checked from the file).
fn grasp_and_lift(dir: &Path) -> PathBuf {
    let episode = common::record_scripted_lift(&dir.join("eps"));
    let text = std::fs::read_to_string(&episode).expect("episode");
    let steps: Vec<serde_json::Value> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).expect("step"))
        .collect();
    assert!(
        steps.iter().any(|s| s["info"]["grasping"] == true),
        "no grasp"
    );
    assert_eq!(steps.last().expect("steps")["info"]["success"], true);
    episode
}

#[test]
fn the_exported_mjb_and_xml_re_simulate_a_grasp_and_lift_bit_for_bit_in_mujocos_python() {
    let dir = common::temp_dir("so101-exchange", "t");
    ok(bin()
        .args(["scene", "export"])
        .arg(dir.join("scene.xml"))
        .output()
        .expect("export"));
    let episode = grasp_and_lift(&dir);

    let exact = resim(&dir.join("scene.mjb"), &episode);
    assert!(exact["steps"].as_u64().unwrap_or(0) > 100, "{exact}");
    assert_eq!(exact["identical_steps"], exact["steps"], "{exact}");
    assert_eq!(exact["max_abs_diff"], 0.0, "{exact}");

    // The MJCF is written at full round-trip precision, so MuJoCo's XML round trip compiles
    // the same model and re-simulates the recording bit for bit as well.
    let xml = resim(&dir.join("scene.xml"), &episode);
    assert_eq!(xml["steps"], exact["steps"]);
    assert_eq!(xml["identical_steps"], exact["steps"], "{xml}");
    assert_eq!(xml["max_abs_diff"], 0.0, "{xml}");

    // Compiled from the MJCF, the model equals the `.mjb` array by array, except where MuJoCo
    // recompiles mesh geom frames (about 1e-15) and what it derives from them.
    let compare = r#"
import json, sys
import mujoco, numpy as np
a = mujoco.MjModel.from_binary_path(sys.argv[1])
b = mujoco.MjModel.from_xml_path(sys.argv[2])
out = {"compared": 0, "differ": {}}
for name in dir(a):
    x = getattr(a, name, None)
    if name.startswith("_") or not isinstance(x, np.ndarray) or x.dtype.kind not in "fiu":
        continue
    y = getattr(b, name)
    out["compared"] += 1
    if x.shape != y.shape:
        out["differ"][name] = "shape"
    elif not np.array_equal(x.view(np.uint8), y.view(np.uint8)):
        out["differ"][name] = float(np.max(np.abs(x.astype(float) - y.astype(float))))
print(json.dumps(out))
"#;
    let out = ok(Command::new(common::venv_python())
        .args(["-c", compare])
        .arg(dir.join("scene.mjb"))
        .arg(dir.join("scene.xml"))
        .output()
        .expect("python runs"));
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(models["compared"].as_u64().unwrap_or(0) > 300, "{models}");
    for (name, diff) in models["differ"].as_object().expect("object") {
        let allowed = ["geom_pos", "geom_quat", "bvh_aabb", "dof_length"].contains(&name.as_str());
        let tiny = diff.as_f64().is_some_and(|d| d < 1e-12);
        assert!(allowed && tiny, "{name} differs by {diff}: {models}");
    }

    let refused = bin()
        .args(["scene", "export"])
        .arg(dir.join("scene.mjb"))
        .output()
        .expect("export");
    assert!(!refused.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_npz_export_holds_the_recorded_numbers_exactly() {
    let dir = common::temp_dir("so101-npz", "t");
    let episode = grasp_and_lift(&dir);
    let npz = dir.join("episode.npz");
    ok(bin()
        .args(["episode", "export"])
        .arg(&episode)
        .args(["--format", "npz", "--out"])
        .arg(&npz)
        .output()
        .expect("export"));
    let check = r#"
import json, sys
import numpy as np
z = np.load(sys.argv[1])
lines = open(sys.argv[2]).read().splitlines()
header, steps = json.loads(lines[0]), [json.loads(l) for l in lines[1:]]
def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))
col = lambda f: np.array([f(s) for s in steps], dtype=np.float64)
checks = {
    "qpos": same(z["qpos"], col(lambda s: s["qpos"])),
    "qvel": same(z["qvel"], col(lambda s: s["qvel"])),
    "ctrl": same(z["ctrl"], col(lambda s: s["ctrl"])),
    "actions": same(z["actions"], col(lambda s: s["action"])),
    "rewards": same(z["rewards"], col(lambda s: s["reward"])),
    "state": same(z["state"], col(lambda s: s["state"]["values"])),
    "initial_state": same(z["initial_state"], np.array(header["initial_state"]["values"])),
    "grasp_term": same(z["terms/grasp"], col(lambda s: s["info"]["reward_terms"]["grasp"])),
    "success": same(z["success"], np.array([s["info"]["success"] for s in steps])),
}
print(json.dumps(checks))
"#;
    let out = ok(Command::new(common::venv_python())
        .args(["-c", check])
        .arg(&npz)
        .arg(&episode)
        .output()
        .expect("python runs"));
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let map = checks.as_object().expect("object");
    assert_eq!(map.len(), 9);
    for (name, same) in map {
        assert_eq!(same, &serde_json::Value::Bool(true), "{name}: {checks}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
