//! A training run killed with SIGKILL at 20 points (some of them inside a checkpoint write)
//! resumes every time, loses at most one checkpoint interval, and leaves no corrupt file: the
//! checkpoint always parses, every metrics row is whole, no temp file outlives a resume.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use so101_lab::rl::tensors::TensorFile;

use crate::common;

const TOTAL: usize = 6000;
const INTERVAL: usize = 200;

fn spawn(cfg: &Path, run: &Path, resume: bool) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_so101-lab"));
    c.args(["train", "--config"]).arg(cfg);
    c.arg(if resume { "--resume" } else { "--out" }).arg(run);
    c.env("OMP_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("train starts")
}

/// The step a checkpoint holds; panics if the file does not parse (a corrupt checkpoint).
fn checkpoint_step(run: &Path) -> Option<usize> {
    let bytes = std::fs::read(run.join("checkpoint.safetensors")).ok()?;
    let file = TensorFile::parse(&bytes).expect("the checkpoint parses");
    let meta: serde_json::Value = serde_json::from_str(&file.meta_json).expect("state json");
    Some(meta["step"].as_u64().expect("step") as usize)
}

/// The largest step in metrics.csv; panics on a row that is not whole.
fn metrics_max_step(run: &Path) -> usize {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap_or_default();
    assert!(text.is_empty() || text.ends_with('\n'), "torn last row");
    text.lines()
        .skip(1)
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), 4, "torn row {l:?}");
            fields[0].parse::<usize>().expect("step")
        })
        .max()
        .unwrap_or(0)
}

fn temp_files(run: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(run)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().contains(".tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until a checkpoint temp file appears (the process is inside the write), up to `limit`.
fn wait_for_checkpoint_write(child: &mut Child, run: &Path, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if temp_files(run)
            .iter()
            .any(|p| p.to_string_lossy().contains("checkpoint"))
        {
            return true;
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    false
}

#[test]
fn a_run_killed_at_twenty_points_resumes_and_loses_at_most_one_checkpoint_interval() {
    let dir = common::temp_dir("so101-kill", "t");
    let cfg = dir.join("tiny.toml");
    std::fs::write(
        &cfg,
        format!(
            "learning_starts = 100\nbatch_size = 32\nnet_arch = [256, 256]\n\
             total_timesteps = {TOTAL}\neval_freq = 0\ncheckpoint_freq = {INTERVAL}\n\
             demos = 0\ntorch_threads = 1\ntask = \"configs/task_assisted.toml\"\n"
        ),
    )
    .expect("config");
    let run = dir.join("run");
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let (mut inside_writes, mut kills) = (0, 0);
    for k in 0..20 {
        let before = checkpoint_step(&run);
        let mut child = spawn(&cfg, &run, before.is_some());
        let in_write =
            k % 2 == 1 && wait_for_checkpoint_write(&mut child, &run, Duration::from_secs(30));
        if !in_write {
            std::thread::sleep(Duration::from_millis(rng.random_range(300..2500)));
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            break; // finished before this kill
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        kills += 1;
        inside_writes += usize::from(in_write);
        // Nothing is corrupt: the checkpoint parses, the rows are whole.
        let after = checkpoint_step(&run);
        let logged = metrics_max_step(&run);
        if let (Some(b), Some(a)) = (before, after) {
            assert!(a >= b, "the checkpoint went back from {b} to {a}");
        }
        // What a resume will redo: at most one interval past the checkpoint (plus the step
        // that was in flight).
        let kept = after.unwrap_or(0);
        assert!(
            logged <= kept + INTERVAL + 1,
            "kill {k}: logged to {logged}, checkpoint at {kept}"
        );
    }
    eprintln!("{kills} kills, {inside_writes} of them inside a checkpoint write");
    assert!(kills >= 20, "only {kills} kills before the run finished");
    assert!(
        inside_writes >= 3,
        "only {inside_writes} kills inside a checkpoint write"
    );
    let mut child = spawn(&cfg, &run, checkpoint_step(&run).is_some());
    let status = child.wait().expect("runs");
    assert!(status.success());
    assert_eq!(checkpoint_step(&run), Some(TOTAL));
    // Losses are logged every 100 updates and episodes end where they end: the last row is
    // within an interval of the end.
    let last = metrics_max_step(&run);
    assert!(last + INTERVAL >= TOTAL, "metrics end at {last}");
    assert!(run.join("policy_final.safetensors").exists());
    assert!(temp_files(&run).is_empty(), "{:?}", temp_files(&run));
    let _ = std::fs::remove_dir_all(&dir);
}
