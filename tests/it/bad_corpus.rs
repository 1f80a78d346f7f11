//! The malformed-input corpus (`tests/fixtures/bad/cases.json`): every reader of user files
//! (scene, task, reward, DR, train, sweep, distill and pixel configs, episodes, policies,
//! checkpoints, TorchScript, MJCF) is handed a broken file through the CLI. Each must fail with
//! an error naming the file and the field or line, without a panic, and leave no output behind.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    args: Vec<String>,
    expect: Vec<String>,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for e in std::fs::read_dir(from).expect("read").flatten() {
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// Runs one case in a scratch folder; returns what is wrong with its outcome, if anything.
fn check(k: usize, case: &Case, scratch: &Path) -> Option<String> {
    let src = corpus().join(&case.file);
    let work = scratch.join(format!("case{k:02}"));
    // The fixture's own folder is copied, so commands that write beside it touch no fixture.
    copy_dir(src.parent().expect("parent"), &work);
    let file = work.join(src.file_name().expect("name"));
    let out = work.join("out");
    let before = listing(&work);
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            a.replace("{file}", &file.display().to_string())
                .replace("{dir}", &work.display().to_string())
                .replace("{out}", &out.display().to_string())
        })
        .collect();
    let result = Command::new(env!("CARGO_BIN_EXE_so101-lab"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("OMP_NUM_THREADS", "1")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&result.stderr);
    let name = src
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let mut problems = Vec::new();
    if result.status.code() != Some(1) {
        problems.push(format!("exit {:?}", result.status.code()));
    }
    if stderr.contains("panicked") {
        problems.push("panicked".into());
    }
    for want in std::iter::once(&name).chain(&case.expect) {
        if !stderr.contains(want.as_str()) {
            problems.push(format!("no {want:?} in the error"));
        }
    }
    if listing(&work) != before {
        problems.push(format!("left output behind: {:?}", listing(&work)));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({}): {}\n  stderr: {}",
            case.file,
            args.join(" "),
            problems.join("; "),
            stderr.trim()
        )
    })
}

#[test]
fn every_malformed_file_is_an_error_naming_it_without_a_panic_or_partial_output() {
    let text = std::fs::read_to_string(corpus().join("cases.json")).expect("cases.json");
    let cases: Vec<Case> = serde_json::from_str(&text).expect("cases parse");
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let scratch = std::env::temp_dir().join(format!("so101-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(k, c)| check(k, c, &scratch))
        .collect();
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
