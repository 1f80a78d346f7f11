//! `so101-lab episode import-lerobot`: the sim following a LeRobot SO-101 episode.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::SceneArgs;
use crate::episode::lerobot::{self, LeRobotUnits};
use crate::task::{RewardConfig, TaskConfig, TaskEnv};

/// `so101-lab episode import-lerobot`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The dataset folder (LeRobot format v3, e.g. written by `episode export`).
    pub dataset: PathBuf,
    /// Which episode.
    #[arg(long, default_value_t = 0)]
    pub episode: usize,
    /// Write the tracked trajectory as CSV: time, then target, reached and error per joint
    /// (LeRobot units), one row per control step.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Python with LeRobot's dataset package (default: $SO101_PYTHON, else the venv).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Task config: its control rate and servo drive (gravity feed-forward or not) are the
    /// drive's (default: configs/task.toml, without feed-forward; configs/task_assisted.toml has it).
    #[arg(long, value_name = "CONFIG")]
    pub task: Option<PathBuf>,
    #[command(flatten)]
    /// Scene.
    pub scene: SceneArgs,
}

/// Reads the episode, drives the sim along it, reports per-joint tracking error.
pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let task_path = args
        .task
        .clone()
        .unwrap_or_else(|| crate::config::default_configs_dir().join("task.toml"));
    let task = TaskConfig::load(&task_path)?;
    let mut env = TaskEnv::new(args.scene.build()?, task, RewardConfig::default());
    let python = args.python.clone().unwrap_or_else(lerobot::default_python);
    let recorded = lerobot::read_episode(&args.dataset, args.episode, &python)?;
    let units = LeRobotUnits::of(env.sim());
    let frames: Vec<[f64; 6]> = recorded
        .motor_positions(&args.dataset)?
        .iter()
        .map(|v| units.from_lerobot(v))
        .collect();
    let dt = env.control_dt();
    let targets = lerobot::resample(&frames, recorded.fps, dt);
    let tracking = lerobot::track(&mut env, &targets);
    let to_units = |q: &[f64; 6]| units.to_lerobot(q);
    let unit_rms = rms_in_units(&tracking, &units);
    let unit_max = max_in_units(&tracking, &units);
    if let Some(out) = &args.out {
        let mut w = Vec::new();
        let names = lerobot::motor_features();
        let cols: Vec<String> = ["target", "reached", "error"]
            .iter()
            .flat_map(|k| names.iter().map(move |n| format!("{k}/{n}")))
            .collect();
        writeln!(w, "time,{}", cols.join(","))?;
        for (k, (t, r)) in tracking.target.iter().zip(&tracking.reached).enumerate() {
            let (t, r) = (to_units(t), to_units(r));
            let row: Vec<String> = t
                .iter()
                .chain(&r)
                .map(|v| v.to_string())
                .chain((0..6).map(|i| (t[i] - r[i]).to_string()))
                .collect();
            writeln!(w, "{},{}", (k + 1) as f64 * dt, row.join(","))?;
        }
        crate::fsutil::write_atomic(out, &w)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    let names = lerobot::motor_features();
    if args.json {
        let per_joint: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.clone(),
                    serde_json::json!({"rms": unit_rms[i], "max_abs": unit_max[i]}),
                )
            })
            .collect();
        let report = serde_json::json!({
            "dataset": args.dataset,
            "episode": args.episode,
            "dataset_episodes": recorded.total_episodes,
            "frames": frames.len(),
            "fps": recorded.fps,
            "control_steps": tracking.target.len(),
            "control_dt": dt,
            "error": per_joint,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} episode {} of {}: {} frames at {} fps, driven as {} control steps of {} s",
            args.dataset.display(),
            args.episode,
            recorded.total_episodes,
            frames.len(),
            recorded.fps,
            tracking.target.len(),
            dt
        );
        println!("tracking error, target - sim (degrees; gripper in 0-100):");
        for (i, n) in names.iter().enumerate() {
            println!(
                "  {n:<18} rms {:>8.3}  max {:>8.3}",
                unit_rms[i], unit_max[i]
            );
        }
    }
    Ok(())
}

fn rms_in_units(t: &lerobot::Tracking, units: &LeRobotUnits) -> [f64; 6] {
    let (r, k) = (t.rms(), units.per_radian());
    std::array::from_fn(|i| r[i] * k[i])
}

fn max_in_units(t: &lerobot::Tracking, units: &LeRobotUnits) -> [f64; 6] {
    let (m, k) = (t.max_abs(), units.per_radian());
    std::array::from_fn(|i| m[i] * k[i])
}
