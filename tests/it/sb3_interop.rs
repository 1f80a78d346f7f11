//! Stable-Baselines3 interop: a tiny SB3 SAC (+ VecNormalize) exported by
//! tools/sb3_to_torchscript.py loads as a TorchScript actor and acts exactly as SB3 does.
//! Needs the Python venv that tools/setup.sh installs (third_party/sb3-venv).

use std::path::PathBuf;
use std::process::Command;

use so101_lab::rl::torchscript::TorchScriptActor;

fn python() -> PathBuf {
    std::env::var_os("SO101_SB3_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("third_party/sb3-venv/bin/python")
        })
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .expect("python runs (tools/setup.sh installs third_party/sb3-venv)");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sb3_sac_exports_to_a_torchscript_actor_with_identical_actions() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("so101-sb3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    run(Command::new(python())
        .arg(root.join("tests/fixtures/make_tiny_sb3.py"))
        .arg(&dir));
    let pt = dir.join("actor.pt");
    run(Command::new(python())
        .arg(root.join("tools/sb3_to_torchscript.py"))
        .arg(dir.join("model.zip"))
        .arg(&pt)
        .arg("--vecnormalize")
        .arg(dir.join("vecnormalize.pkl")));

    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).expect("expected"))
            .expect("json");
    let actor = TorchScriptActor::load(&pt, 21).expect("the exported actor loads");
    let obs = expected["obs"].as_array().expect("obs");
    let actions = expected["actions"].as_array().expect("actions");
    assert_eq!(obs.len(), 10);
    let mut worst = 0.0f64;
    for (o, a) in obs.iter().zip(actions) {
        let o: Vec<f64> = o
            .as_array()
            .expect("row")
            .iter()
            .filter_map(|v| v.as_f64())
            .collect();
        let want: Vec<f64> = a
            .as_array()
            .expect("row")
            .iter()
            .filter_map(|v| v.as_f64())
            .collect();
        let got = actor.act(&o).expect("acts");
        for (g, w) in got.iter().zip(&want) {
            worst = worst.max((g - w).abs());
        }
    }
    println!("SB3 deterministic actions reproduced; worst difference {worst:.2e}");
    assert!(worst < 1e-5, "worst difference {worst}");
    // A layout mismatch is caught at load time.
    assert!(TorchScriptActor::load(&pt, 24).is_err());
}
