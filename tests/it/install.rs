//! An installed `so101-lab` works from any folder: the binary is copied out of the build tree (as
//! `cargo install` does) and run from a temporary folder, with a fresh home, on the data
//! embedded in it or the folder `$SO101_LAB_DATA` names (`src/paths.rs` gives the order).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;

/// A copy of this build's binary in `<dir>/bin`, as `cargo install --root <dir>` lays it out.
fn installed(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin folder");
    let exe = bin.join("so101-lab");
    // A hard link where it can be (no copy of a large binary), else a copy. A copy that another
    // test's fork still holds open for writing cannot be run yet (ETXTBSY), which `run` retries.
    if std::fs::hard_link(env!("CARGO_BIN_EXE_so101-lab"), &exe).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_so101-lab"), &exe).expect("copy the binary");
    }
    exe
}

/// The installed binary run in `cwd`, with `home` as its home and none of the variables that
/// `cargo test` or the checkout's `.cargo/config.toml` set.
fn run(exe: &Path, cwd: &Path, home: &Path, data: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(exe);
    c.args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("SO101_ROBOT_DIR")
        .env_remove("SO101_CACHE")
        .env_remove("SO101_LAB_DATA")
        .env_remove("CARGO_MANIFEST_DIR");
    if let Some(d) = data {
        c.env("SO101_LAB_DATA", d);
    }
    for _ in 0..50 {
        match c.output() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => return other.expect("the installed binary runs"),
        }
    }
    panic!("{} stayed busy", exe.display());
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_installed_binary_runs_from_another_folder_on_its_embedded_data() {
    let dir = common::temp_dir("so101-install", "embedded");
    let exe = installed(&dir);
    let cwd = dir.join("elsewhere");
    let home = dir.join("home");
    std::fs::create_dir_all(&cwd).expect("cwd");
    std::fs::create_dir_all(&home).expect("home");

    // The help names the bundled policy by its place in the data, not by the build folder.
    let help = run(&exe, &cwd, &home, Some("embedded"), &["eval", "--help"]);
    common::assert_ok(&help);
    let checkout = env!("CARGO_MANIFEST_DIR");
    assert!(!text(&help).contains(checkout), "{}", text(&help));
    assert!(text(&help).contains("assets/policies/lift_sac.safetensors"));

    // The bundled policy, task and scene, all from the data the binary carries.
    let out = run(
        &exe,
        &cwd,
        &home,
        Some("embedded"),
        &["eval", "--episodes", "1", "--json"],
    );
    common::assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("eval json");
    assert_eq!(v["episodes"], 1, "{v}");

    // It was unpacked into the home's data folder, once.
    let data = home.join(".local/share/so101-lab");
    let unpacked: Vec<_> = std::fs::read_dir(&data)
        .expect("data folder made")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(unpacked.len(), 1, "{unpacked:?}");
    assert!(unpacked[0].join("configs/scene.toml").is_file());
    assert!(
        unpacked[0]
            .join("assets/policies/lift_sac.safetensors")
            .is_file()
    );

    // A relative config path missing from the working folder is read from the data.
    let out = run(
        &exe,
        &cwd,
        &home,
        Some("embedded"),
        &[
            "pick",
            "--task",
            "configs/tasks/lift_far.toml",
            "--seeds",
            "1",
            "--json",
        ],
    );
    common::assert_ok(&out);
    // Nothing was written into the working folder.
    assert_eq!(std::fs::read_dir(&cwd).expect("cwd").count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_installed_binary_ignores_its_checkout_and_reports_a_bad_data_variable() {
    let dir = common::temp_dir("so101-install", "checkout");
    let exe = installed(&dir);
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("home");

    // No variable: its embedded data, not the checkout it was built from (which is still there,
    // and may have moved on to other commits).
    let out = run(&exe, &dir, &home, None, &["paths"]);
    common::assert_ok(&out);
    let data_line = text(&out).lines().next().unwrap_or_default().to_owned();
    assert!(data_line.contains("embedded"), "{data_line}");
    assert!(
        !data_line.contains(env!("CARGO_MANIFEST_DIR")),
        "{data_line}"
    );
    assert!(home.join(".local/share/so101-lab").is_dir());

    // A variable naming a folder without the data is reported, and the bundled data used.
    let bad = dir.join("not-data");
    std::fs::create_dir_all(&bad).expect("bad");
    let out = run(
        &exe,
        &dir,
        &home,
        Some(bad.to_str().expect("utf-8")),
        &["paths"],
    );
    common::assert_ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SO101_LAB_DATA"), "{err}");

    // A variable naming a data folder is used, and `paths` says so.
    let mine = dir.join("my-data");
    for sub in ["configs", "assets"] {
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join(sub),
            &mine.join(sub),
        );
    }
    let out = run(
        &exe,
        &dir,
        &home,
        Some(mine.to_str().expect("utf-8")),
        &["paths"],
    );
    common::assert_ok(&out);
    let shown = text(&out);
    assert!(shown.contains(mine.to_str().expect("utf-8")), "{shown}");
    assert!(shown.contains("SO101_LAB_DATA"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}
