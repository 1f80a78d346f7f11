//! Shared helpers for the integration tests.
#![allow(dead_code, reason = "each test module uses a different subset")]

use std::path::PathBuf;

use so101_lab::config::{SceneConfig, default_configs_dir};
use so101_lab::pick::PickConfig;
use so101_lab::scene::{BuiltScene, build};

/// The default scene from configs/scene.toml.
pub fn default_scene() -> BuiltScene {
    let cfg = SceneConfig::load(&default_configs_dir().join("scene.toml"))
        .expect("configs/scene.toml loads");
    build(&cfg).expect("default scene builds")
}

/// The default pick config from configs/pick.toml.
pub fn default_pick() -> PickConfig {
    PickConfig::load(&default_configs_dir().join("pick.toml")).expect("configs/pick.toml loads")
}

/// A fresh, empty temporary folder `<prefix>-<name>-<pid>`.
pub fn temp_dir(prefix: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The `so101-lab` binary of this build.
pub fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_so101-lab"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Fails the test with the command's stderr unless it exited 0.
pub fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The set-up's Python venv (MuJoCo's bindings, SB3, Ray); `SO101_SB3_PYTHON` overrides it.
pub fn venv_python() -> PathBuf {
    std::env::var_os("SO101_SB3_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("third_party/sb3-venv/bin/python")
        })
}

/// Records one scripted episode of the assisted task in `dir` (seed 3: it grasps and lifts);
/// returns the episode file.
pub fn record_scripted_lift(dir: &std::path::Path) -> PathBuf {
    let out = bin()
        .args([
            "record",
            "--task",
            "configs/task_assisted.toml",
            "--seed",
            "3",
        ])
        .arg("--out")
        .arg(dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("record runs");
    assert_ok(&out);
    dir.join("episode_000003.jsonl")
}

/// `configs/task_wrist64.toml` at 32x32, written into `dir` (tiny image tasks for CLI tests).
pub fn tiny_wrist_task(dir: &std::path::Path) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let task = std::fs::read_to_string(root.join("configs/task_wrist64.toml"))
        .expect("task")
        .replace("width = 64 ", "width = 32 ")
        .replace("height = 64", "height = 32");
    let path = dir.join("task.toml");
    std::fs::write(&path, task).expect("write");
    path
}
