//! The `so101-lab` binary's training commands end to end: train, resume in the run's folder,
//! eval, reproducibility from a seed, device selection.

use crate::common;

use common::{assert_ok, bin};

#[test]
fn train_resume_and_eval_end_to_end() {
    let dir = common::temp_dir("so101-cli-train", "t");
    let cfg = dir.join("tiny.toml");
    std::fs::write(
        &cfg,
        "learning_starts = 100\nbatch_size = 32\nnet_arch = [32, 32]\ntotal_timesteps = 400\n\
         eval_freq = 300\neval_episodes = 1\ncheckpoint_freq = 200\ndemos = 1\n\
         task = \"configs/task_assisted.toml\"\n",
    )
    .expect("write");
    let run = dir.join("run");
    let out = bin()
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&run)
        .output()
        .expect("runs");
    assert_ok(&out);
    for f in [
        "checkpoint.safetensors",
        "policy_final.safetensors",
        "policy_best.safetensors",
        "metrics.csv",
        "config.toml",
    ] {
        assert!(run.join(f).exists(), "missing {f}");
    }
    let csv = std::fs::read_to_string(run.join("metrics.csv")).expect("csv");
    assert!(
        csv.contains("losses/qf1_loss") && csv.contains("eval/success_rate"),
        "{csv}"
    );
    let tb = std::fs::read_dir(&run).expect("dir").flatten().any(|e| {
        e.file_name()
            .to_string_lossy()
            .starts_with("events.out.tfevents")
    });
    assert!(tb, "no TensorBoard event file");

    // The policy file says how it was trained.
    let info = bin()
        .args(["policy", "info", "--json"])
        .arg(run.join("policy_final.safetensors"))
        .output()
        .expect("runs");
    assert_ok(&info);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("JSON");
    let t = &info["training"];
    assert_eq!(
        (t["method"].as_str(), t["demos"].as_u64()),
        (Some("sac"), Some(1))
    );
    assert_eq!(t["env_steps"], 400);
    let toml_text = t["config_toml"].as_str().unwrap_or_default();
    assert!(toml_text.contains("total_timesteps = 400"), "{toml_text}");
    assert_eq!(info["privileged"].as_array().map(|p| p.len()), Some(21));
    assert!(info["config"]["hash"].is_string());

    // A finished run is never trained over.
    let out = bin()
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&run)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already holds a run"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Resume continues from the checkpoint's step counter, in the run's own folder; a torn
    // metrics row left by a kill is dropped, and the rows past the checkpoint are cut.
    let csv_path = run.join("metrics.csv");
    let mut csv = std::fs::read_to_string(&csv_path).expect("csv");
    csv.push_str("7998,37.284,");
    std::fs::write(&csv_path, &csv).expect("torn row");
    let out = bin()
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--resume")
        .arg(&run)
        .args(["--total-timesteps", "600"])
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert_ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("resumed from"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("runs").exists(), "the resumed run went elsewhere");
    let csv = std::fs::read_to_string(&csv_path).expect("csv");
    let steps: Vec<usize> = csv
        .lines()
        .skip(1)
        .map(|l| {
            assert_eq!(l.split(',').count(), 4, "torn row {l:?}");
            l.split(',')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("step")
        })
        .collect();
    assert_eq!(steps.iter().max(), Some(&600), "{csv}");
    assert!(!csv.contains("7998"), "{csv}");
    let out = bin()
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--resume")
        .arg(dir.join("nowhere"))
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no checkpoint.safetensors"));

    let out = bin()
        .args(["eval"])
        .arg(run.join("policy_final.safetensors"))
        .args([
            "--episodes",
            "2",
            "--json",
            "--task",
            "configs/task_assisted.toml",
            "--record",
        ])
        .arg(dir.join("eval_eps"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["episodes"], 2);
    assert!(v["success_ci95"][1].as_f64().unwrap_or(0.0) > 0.0);
    assert_eq!(
        std::fs::read_dir(dir.join("eval_eps"))
            .expect("recorded")
            .count(),
        2
    );

    // A policy evaluated on an env with a different observation layout is refused.
    let rot = dir.join("rot6d_task.toml");
    let task = std::fs::read_to_string(format!("{}/configs/task.toml", env!("CARGO_MANIFEST_DIR")))
        .expect("task");
    std::fs::write(&rot, task.replace("rot6d = false", "rot6d = true")).expect("write");
    let out = bin()
        .args(["eval"])
        .arg(run.join("policy_final.safetensors"))
        .args(["--episodes", "1", "--task"])
        .arg(&rot)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expects observations"));
}

/// Trains `cfg` twice, into `dir/a` and `dir/b`: the final policies are the same bytes.
fn assert_trains_reproducibly(cfg: &std::path::Path, dir: &std::path::Path) {
    let mut policies = Vec::new();
    for run in ["a", "b"] {
        let out = bin()
            .args(["train", "--config"])
            .arg(cfg)
            .arg("--out")
            .arg(dir.join(run))
            .output()
            .expect("runs");
        assert_ok(&out);
        policies
            .push(std::fs::read(dir.join(run).join("policy_final.safetensors")).expect("policy"));
    }
    assert_eq!(policies[0], policies[1], "same seed, same bytes");
}

#[test]
fn a_seeded_cpu_run_is_reproducible() {
    let dir = common::temp_dir("so101-cli-repro", "t");
    let cfg = dir.join("tiny.toml");
    std::fs::write(
        &cfg,
        "learning_starts = 50\nbatch_size = 16\nnet_arch = [16, 16]\ntotal_timesteps = 150\n\
         eval_freq = 0\ncheckpoint_freq = 0\nseed = 7\n",
    )
    .expect("write");
    assert_trains_reproducibly(&cfg, &dir);
}

/// The n-step and asymmetric-critic options train reproducibly, through the fused update with
/// layer-normalised critics; the policy keeps the env's observation layout (the critic's
/// extras stay out of it) and evaluates; the run says where its time went.
#[test]
fn n_step_asymmetric_runs_reproduce_and_export_the_actor_layout() {
    let dir = common::temp_dir("so101-cli-nstep", "t");
    let cfg = dir.join("tiny.toml");
    std::fs::write(
        &cfg,
        "learning_starts = 50\nbatch_size = 16\nnet_arch = [16, 16]\ntotal_timesteps = 400\n\
         eval_freq = 0\ncheckpoint_freq = 0\nseed = 5\nn_step = 3\nasymmetric_critic = true\n\
         demos = 1\ngripper_explore_prob = 0.05\nnormalize_reward_until = 200\n\
         fused_update = true\ncritic_layer_norm = true\n\
         task = \"configs/task_assisted.toml\"\n",
    )
    .expect("write");
    assert_trains_reproducibly(&cfg, &dir);
    let info = bin()
        .args(["policy", "info", "--json"])
        .arg(dir.join("a/policy_final.safetensors"))
        .output()
        .expect("runs");
    assert_ok(&info);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("JSON");
    let names = info["inputs"].as_array().expect("observation names");
    assert_eq!(names.len(), 21, "{info}");
    assert!(
        names
            .iter()
            .all(|n| !n.as_str().unwrap_or("").starts_with("critic/"))
    );
    let out = bin()
        .arg("eval")
        .arg(dir.join("a/policy_final.safetensors"))
        .args(["--episodes", "1", "--json"])
        .output()
        .expect("runs");
    assert_ok(&out);
    let timing: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("a/timing.json")).expect("timing.json"),
    )
    .expect("JSON");
    for phase in ["env", "sampling", "forward", "backward", "optimiser"] {
        assert!(
            timing[phase].as_f64().unwrap_or(0.0) > 0.0,
            "{phase}: {timing}"
        );
    }
    let parts: f64 = [
        "env",
        "act",
        "sampling",
        "forward",
        "backward",
        "optimiser",
        "eval",
        "io",
    ]
    .iter()
    .map(|p| timing[p].as_f64().unwrap_or(0.0))
    .sum();
    assert!(
        parts <= timing["total"].as_f64().unwrap_or(0.0) + 1e-6,
        "{timing}"
    );
}

#[test]
fn device_selection_cpu_auto_and_a_clear_error_without_cuda() {
    let dir = common::temp_dir("so101-cli-device", "t");
    let cfg = dir.join("tiny.toml");
    std::fs::write(
        &cfg,
        "learning_starts = 50\nbatch_size = 16\nnet_arch = [16, 16]\ntotal_timesteps = 80\neval_freq = 0\ncheckpoint_freq = 0\n",
    )
    .expect("write");
    // `auto` trains wherever libtorch can (here: the CPU).
    let out = bin()
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(dir.join("auto"))
        .args(["--device", "auto"])
        .output()
        .expect("runs");
    assert_ok(&out);
    // An unknown device is a config error naming the field.
    let out = bin()
        .args(["train", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(dir.join("x"))
        .args(["--device", "tpu"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`device`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `cuda` without a CUDA libtorch says so instead of crashing.
    if !tch::Cuda::is_available() {
        let out = bin()
            .args(["train", "--config"])
            .arg(&cfg)
            .arg("--out")
            .arg(dir.join("c"))
            .args(["--device", "cuda"])
            .output()
            .expect("runs");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no CUDA device") && !err.contains("panicked"),
            "{err}"
        );
    }
}
