//! Bakes the native library locations into the binaries (rpath) and the robot asset directory
//! into the crate, so nothing needs exporting after `tools/setup.sh`, and rebuilds the crate when
//! the bundled configs or assets it embeds change.
use std::path::PathBuf;

fn canonical_env_dir(var: &str) -> Option<PathBuf> {
    println!("cargo::rerun-if-env-changed={var}");
    let raw = std::env::var_os(var)?;
    // Canonicalise through the third_party symlinks so every clone shares one rpath.
    Some(std::fs::canonicalize(&raw).unwrap_or_else(|_| PathBuf::from(raw)))
}

fn main() {
    // src/paths.rs embeds these folders; include_dir! does not tell cargo to watch them.
    println!("cargo::rerun-if-changed=configs");
    println!("cargo::rerun-if-changed=assets");
    if let Some(dir) = canonical_env_dir("MUJOCO_DYNAMIC_LINK_DIR") {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    if let Some(dir) = canonical_env_dir("LIBTORCH") {
        println!(
            "cargo::rustc-link-arg=-Wl,-rpath,{}",
            dir.join("lib").display()
        );
    }
    let robot_dir = canonical_env_dir("SO101_ROBOT_DIR").unwrap_or_default();
    println!(
        "cargo::rustc-env=SO101_DEFAULT_ROBOT_DIR={}",
        robot_dir.display()
    );
}
