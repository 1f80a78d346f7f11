//! Shared helpers for the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::PathBuf;

use so101_lab::config::{SceneConfig, default_configs_dir};
use so101_lab::scene::{BuiltScene, build};
use so101_lab::scripted::PickConfig;

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
    std::process::Command::new(env!("CARGO_BIN_EXE_so101-lab"))
}

/// Fails the test with the command's stderr unless it exited 0.
pub fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
