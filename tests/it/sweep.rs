//! `so101-lab sweep` on a tiny grid: two trials run as parallel processes, each evaluated on
//! held-out seeds, gathered in one table; `--resume` skips finished trials; a finished sweep is
//! never overwritten; a bad sweep config names the file and the field.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use common::bin;

fn sweep(cfg: &Path, out: &Path, resume: bool) -> std::process::Output {
    let mut c = bin();
    c.args(["sweep", "--config"]).arg(cfg).arg("--out").arg(out);
    if resume {
        c.arg("--resume");
    }
    c.output().expect("sweep runs")
}

fn modified(p: &Path) -> SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .expect("mtime")
}

#[test]
fn a_tiny_sweep_runs_resumes_and_reports_one_table() {
    let dir = common::temp_dir("so101-sweep", "t");
    let train = dir.join("tiny.toml");
    std::fs::write(
        &train,
        "learning_starts = 50\nbatch_size = 16\nnet_arch = [16, 16]\ntotal_timesteps = 150\n\
         eval_freq = 100\neval_episodes = 1\ncheckpoint_freq = 0\ndemos = 0\n\
         task = \"configs/task_assisted.toml\"\n",
    )
    .expect("train config");
    let cfg = dir.join("sweep.toml");
    std::fs::write(
        &cfg,
        format!(
            "train = [{:?}]\nrewards = [\"configs/rewards/v11.toml\", \
             \"configs/rewards/v11_fixed.toml\"]\nseeds = [4]\nparallel = 2\n\
             torch_threads = 1\neval_episodes = 2\n",
            train.display().to_string()
        ),
    )
    .expect("sweep config");
    let out = dir.join("out");
    let first = sweep(&cfg, &out, false);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).expect("results.csv");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[0].starts_with(
        "trial,train,reward,seed,steps,steps_to_95,secs_to_95,heldout_success,heldout_best_success"
    ));
    assert!(rows[1].starts_with("tiny__v11__seed4,"), "{csv}");
    assert!(rows[2].starts_with("tiny__v11_fixed__seed4,"), "{csv}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).expect("json"))
            .expect("parses");
    for row in json.as_array().expect("rows") {
        assert_eq!(row["seed"], 4);
        assert_eq!(row["steps"], 150);
        assert_eq!(row["heldout_episodes"], 2);
        // Best-policy success is absent only when the run wrote no best policy.
        let best_written = out
            .join(row["trial"].as_str().expect("trial"))
            .join("run/policy_best.safetensors")
            .is_file();
        assert_eq!(
            row["heldout_best_success"].is_number(),
            best_written,
            "{row}"
        );
        assert!(row["train_wall_secs"].as_f64().unwrap_or(0.0) > 0.0);
    }
    // Each trial trained with the sweep's reward and seed.
    let trial_cfg =
        std::fs::read_to_string(out.join("tiny__v11_fixed__seed4/config.toml")).expect("config");
    assert!(trial_cfg.contains("v11_fixed.toml") && trial_cfg.contains("seed = 4"));

    // Resume: finished trials are not run again.
    let result = out.join("tiny__v11__seed4/result.json");
    let stamp = modified(&result);
    let again = sweep(&cfg, &out, true);
    assert!(again.status.success());
    assert_eq!(modified(&result), stamp, "a finished trial ran again");
    assert_eq!(
        std::fs::read_to_string(out.join("results.csv")).expect("csv"),
        csv
    );
    // Without --resume a finished sweep is refused.
    let refused = sweep(&cfg, &out, false);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already holds a sweep"));

    // A reward file that does not exist: the file and the field are named.
    let bad = dir.join("bad_sweep.toml");
    std::fs::write(
        &bad,
        format!(
            "train = [{:?}]\nrewards = [\"configs/rewards/v99.toml\"]\nseeds = [0]\n",
            train.display().to_string()
        ),
    )
    .expect("bad config");
    let err = sweep(&bad, &dir.join("bad_out"), false);
    assert!(!err.status.success());
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(
        msg.contains("bad_sweep.toml") && msg.contains("rewards"),
        "{msg}"
    );
    assert!(
        !dir.join("bad_out").exists(),
        "a refused sweep left a folder"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sweep_runs_as_ray_tasks_on_a_local_loopback_ray_instance() {
    let dir = common::temp_dir("so101-ray-sweep", "t");
    let train = dir.join("tiny.toml");
    std::fs::write(
        &train,
        "learning_starts = 50\nbatch_size = 16\nnet_arch = [16, 16]\ntotal_timesteps = 120\n\
         eval_freq = 0\ncheckpoint_freq = 0\ndemos = 0\ntask = \"configs/task_assisted.toml\"\n",
    )
    .expect("train config");
    let cfg = dir.join("sweep.toml");
    std::fs::write(
        &cfg,
        format!(
            "train = [{:?}]\nseeds = [1, 2]\ntorch_threads = 1\neval_episodes = 1\n",
            train.display().to_string()
        ),
    )
    .expect("sweep config");
    let out = dir.join("out");
    let run = Command::new(common::venv_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/ray_sweep.py"))
        .arg("--config")
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .args([
            "--address",
            "local",
            "--so101",
            env!("CARGO_BIN_EXE_so101-lab"),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python runs (tools/setup.sh installs Ray into third_party/sb3-venv)");
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).expect("results.csv");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[1].starts_with("tiny__seed1,") && rows[2].starts_with("tiny__seed2,"));
    for trial in ["tiny__seed1", "tiny__seed2"] {
        assert!(
            out.join(trial)
                .join("run/policy_final.safetensors")
                .exists()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
