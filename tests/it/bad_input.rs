//! Bad input gives errors that name the file, the field and the problem; never a panic.

use crate::common;

use std::path::{Path, PathBuf};

use so101_lab::config::{ConfigError, SceneConfig, default_configs_dir};
use so101_lab::scene::{SceneError, SceneHandles, build};

fn temp_dir(name: &str) -> PathBuf {
    common::temp_dir("so101-lab-test", name)
}

fn default_text() -> String {
    std::fs::read_to_string(default_configs_dir().join("scene.toml")).expect("default config")
}

#[test]
fn wrong_type_names_file_and_field() {
    let text = default_text().replace("mass_kg = 0.03", "mass_kg = \"heavy\"");
    let err =
        SceneConfig::from_toml_str(&text, Path::new("configs/bad.toml")).expect_err("must fail");
    let msg = err.to_string();
    println!("{msg}");
    assert!(matches!(err, ConfigError::Parse { .. }));
    assert!(msg.contains("configs/bad.toml"), "{msg}");
    assert!(msg.contains("mass_kg"), "{msg}");
    assert!(msg.contains("string"), "{msg}");
}

#[test]
fn out_of_range_names_file_field_and_range() {
    let text = default_text().replace("impratio = 10.0", "impratio = 0.5");
    let err = SceneConfig::from_toml_str(&text, Path::new("my_scene.toml")).expect_err("must fail");
    let msg = err.to_string();
    println!("{msg}");
    match &err {
        ConfigError::OutOfRange {
            path,
            field,
            allowed,
            ..
        } => {
            assert_eq!(path, Path::new("my_scene.toml"));
            assert_eq!(field, "physics.impratio");
            assert!(allowed.contains("1 ..= 100"), "{allowed}");
        }
        other => panic!("wrong error: {other:?}"),
    }
}

#[test]
fn unknown_key_is_an_error() {
    let text = default_text().replace("[cube]", "[cube]\ncolour = \"red\"");
    let err = SceneConfig::from_toml_str(&text, Path::new("x.toml")).expect_err("must fail");
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn missing_config_file_names_it() {
    let err = SceneConfig::load(Path::new("/nonexistent/scene.toml")).expect_err("must fail");
    assert!(err.to_string().contains("/nonexistent/scene.toml"), "{err}");
}

#[test]
fn missing_mesh_directory_is_reported() {
    // A robot dir with the MJCF but without its meshes.
    let dir = temp_dir("nomesh");
    let real = SceneConfig::default().resolved_robot_dir();
    std::fs::copy(
        real.join("so101_new_calib.xml"),
        dir.join("so101_new_calib.xml"),
    )
    .expect("copy");
    let cfg = SceneConfig {
        robot_dir: dir.clone(),
        ..SceneConfig::default()
    };
    let err = build(&cfg).expect_err("must fail");
    let msg = err.to_string();
    println!("{msg}");
    assert!(matches!(err, SceneError::MissingMeshDir { .. }));
    assert!(
        msg.contains(&dir.join("assets").display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("robot_dir"), "{msg}");
}

#[test]
fn missing_single_mesh_is_reported() {
    let dir = temp_dir("onemesh");
    let real = SceneConfig::default().resolved_robot_dir();
    std::fs::copy(
        real.join("so101_new_calib.xml"),
        dir.join("so101_new_calib.xml"),
    )
    .expect("copy");
    std::fs::create_dir_all(dir.join("assets")).expect("mkdir");
    let err = build(&SceneConfig {
        robot_dir: dir,
        ..SceneConfig::default()
    })
    .expect_err("must fail");
    assert!(matches!(err, SceneError::MissingMesh { .. }), "{err}");
    assert!(err.to_string().contains(".stl"), "{err}");
}

#[test]
fn missing_robot_model_is_reported() {
    let dir = temp_dir("norobot");
    let err = build(&SceneConfig {
        robot_dir: dir.clone(),
        ..SceneConfig::default()
    })
    .expect_err("must fail");
    assert!(matches!(err, SceneError::MissingRobotModel { .. }), "{err}");
    assert!(err.to_string().contains("so101_new_calib.xml"), "{err}");
}

#[test]
fn malformed_robot_mjcf_is_a_parse_error() {
    let dir = temp_dir("badxml");
    std::fs::write(
        dir.join("so101_new_calib.xml"),
        "<mujoco><worldbody><body name='x'>",
    )
    .expect("write");
    std::fs::create_dir_all(dir.join("assets")).expect("mkdir");
    let err = build(&SceneConfig {
        robot_dir: dir,
        ..SceneConfig::default()
    })
    .expect_err("must fail");
    assert!(matches!(err, SceneError::Parse { .. }), "{err}");
}

#[test]
fn unknown_site_name_is_an_error_naming_it() {
    let scene = common::default_scene();
    let err = SceneHandles::site_by_name(&scene.model, "tcp_typo").expect_err("must fail");
    assert_eq!(err.to_string(), "the scene has no site named `tcp_typo`");
    assert!(SceneHandles::site_by_name(&scene.model, "gripperframe").is_ok());
}
