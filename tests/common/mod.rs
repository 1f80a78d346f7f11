//! Shared helpers for the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

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
