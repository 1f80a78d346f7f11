//! `so101-lab sweep`: runs a sweep's trials as `so101-lab train` processes, `parallel` at a
//! time, evaluates each final policy on held-out seeds and writes `results.json` and
//! `results.csv`. `--resume` skips finished trials and continues a killed one from its
//! checkpoint.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::rl::sweep::{SweepConfig, Trial, TrialResult, first_eval_reaching, results_csv};

/// `so101-lab sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Sweep config (configs/sweeps/*.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// Sweep folder (default runs/sweeps/<config name>); never overwritten.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the sweep in its folder: finished trials are skipped, killed ones resume.
    #[arg(long)]
    pub resume: bool,
    /// Print the trials as JSON and exit (what tools/ray_sweep.py distributes).
    #[arg(long, conflicts_with_all = ["resume", "only"])]
    pub plan: bool,
    /// Run only this trial (repeatable; in the sweep folder, finished ones skipped); the table
    /// is left to a final `--resume`.
    #[arg(long, value_name = "TRIAL")]
    pub only: Vec<String>,
}

/// Runs the sweep.
pub fn run(args: &SweepArgs) -> anyhow::Result<()> {
    let sweep = SweepConfig::load(&args.config)?;
    if args.plan {
        return print_plan(&sweep);
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| super::default_run_dir(&args.config, "runs/sweeps", ""));
    if out.join("sweep.toml").exists() && !args.resume && args.only.is_empty() {
        bail!(
            "{} already holds a sweep; continue it with --resume or choose another --out",
            out.display()
        );
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    crate::fsutil::write_atomic(&out.join("sweep.toml"), toml::to_string(&sweep)?.as_bytes())?;
    let mut trials = sweep.trials();
    if !args.only.is_empty() {
        if let Some(unknown) = args
            .only
            .iter()
            .find(|n| !trials.iter().any(|t| &&t.name == n))
        {
            bail!(
                "--only {unknown}: no such trial in {}",
                args.config.display()
            );
        }
        trials.retain(|t| args.only.contains(&t.name));
    }
    // Each trial's derived config is checked before any process starts.
    for t in &trials {
        t.config(&sweep)
            .with_context(|| format!("trial {}", t.name))?;
    }
    let exe = std::env::current_exe().context("locating so101-lab")?;
    let bar = ProgressBar::new(trials.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} trials  {elapsed}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let queue = Mutex::new(trials.iter());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..sweep.parallel.min(trials.len()) {
            s.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.next()).ok().flatten();
                    let Some(trial) = next else { break };
                    let dir = out.join(&trial.name);
                    if !dir.join("result.json").is_file() {
                        bar.set_message(format!("running {}", trial.name));
                        if let Err(e) = run_trial(&exe, &sweep, trial, &dir)
                            && let Ok(mut f) = failures.lock()
                        {
                            f.push(format!("{}: {e:#}", trial.name));
                        }
                    }
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish();
    let failures = failures.into_inner().unwrap_or_default();
    if !args.only.is_empty() {
        return report_failures(&failures, trials.len());
    }
    let rows: Vec<TrialResult> = trials
        .iter()
        .filter_map(|t| {
            let text = std::fs::read_to_string(out.join(&t.name).join("result.json")).ok()?;
            serde_json::from_str(&text).ok()
        })
        .collect();
    crate::fsutil::write_atomic(
        &out.join("results.json"),
        serde_json::to_string_pretty(&rows)?.as_bytes(),
    )?;
    let csv = results_csv(&rows);
    crate::fsutil::write_atomic(&out.join("results.csv"), csv.as_bytes())?;
    print!("{csv}");
    report_failures(&failures, trials.len())
}

fn print_plan(sweep: &SweepConfig) -> anyhow::Result<()> {
    let plan: Vec<serde_json::Value> = sweep
        .trials()
        .iter()
        .map(|t| {
            serde_json::json!({
                "name": t.name,
                "train": t.train,
                "reward": t.reward,
                "seed": t.seed,
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&plan)?);
    Ok(())
}

fn report_failures(failures: &[String], total: usize) -> anyhow::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    bail!(
        "{} of {} trials failed (rerun with --resume):\n{}",
        failures.len(),
        total,
        failures.join("\n")
    )
}

/// `so101-lab eval POLICY --json` on the held-out seeds (eval's default 1,000,000..).
fn held_out_eval(
    exe: &Path,
    sweep: &SweepConfig,
    policy: &Path,
) -> anyhow::Result<serde_json::Value> {
    let eval = Command::new(exe)
        .arg("eval")
        .arg(policy)
        .args(["--episodes", &sweep.eval_episodes.to_string(), "--json"])
        .env("OMP_NUM_THREADS", sweep.torch_threads.to_string())
        .output()
        .context("starting so101-lab eval")?;
    if !eval.status.success() {
        bail!(
            "evaluation of {} failed: {}",
            policy.display(),
            String::from_utf8_lossy(&eval.stderr)
        );
    }
    serde_json::from_slice(&eval.stdout).context("reading the evaluation's JSON")
}

/// Trains (or resumes) one trial, evaluates its final and best policies, writes `result.json`.
fn run_trial(exe: &Path, sweep: &SweepConfig, trial: &Trial, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let cfg = trial.config(sweep)?;
    let cfg_path = dir.join("config.toml");
    crate::fsutil::write_atomic(&cfg_path, toml::to_string(&cfg)?.as_bytes())?;
    let run = dir.join("run");
    let resume = run.join("checkpoint.safetensors").is_file();
    let log = std::fs::File::create(dir.join("train.log"))?;
    let started = Instant::now();
    let status = Command::new(exe)
        .args(["train", "--config"])
        .arg(&cfg_path)
        .arg(if resume { "--resume" } else { "--out" })
        .arg(&run)
        .env("OMP_NUM_THREADS", sweep.torch_threads.to_string())
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .context("starting so101-lab train")?;
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!(
            "training failed ({status}); see {}",
            dir.join("train.log").display()
        );
    }
    let heldout = |policy: &str| held_out_eval(exe, sweep, &run.join(policy));
    let final_report = heldout("policy_final.safetensors")?;
    // A run whose evaluations never improved on its first has no best policy file.
    let best = run.join("policy_best.safetensors");
    let best_report = if best.is_file() {
        Some(heldout("policy_best.safetensors")?)
    } else {
        None
    };
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap_or_default();
    let first95 = first_eval_reaching(&metrics, 0.95);
    let result = TrialResult {
        trial: trial.name.clone(),
        train: trial.train.display().to_string(),
        reward: cfg.reward.display().to_string(),
        seed: trial.seed,
        steps: cfg.total_timesteps,
        steps_to_95: first95.map(|(step, _)| step),
        secs_to_95: first95.map(|(_, secs)| secs),
        heldout_success: final_report["success_rate"].as_f64().unwrap_or(0.0),
        heldout_best_success: best_report
            .as_ref()
            .and_then(|r| r["success_rate"].as_f64()),
        heldout_episodes: final_report["episodes"].as_u64().unwrap_or(0) as usize,
        train_wall_secs: wall,
    };
    crate::fsutil::write_atomic(
        &dir.join("result.json"),
        serde_json::to_string_pretty(&result)?.as_bytes(),
    )?;
    Ok(())
}
