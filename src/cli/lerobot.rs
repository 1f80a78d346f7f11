//! `so101-lab episode import-lerobot`: the sim following a LeRobot SO-101 episode.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::SceneArgs;
use crate::episode::lerobot::{self, ArmUnits, LeRobotUnits};
use crate::task::{RewardConfig, TaskConfig, TaskEnv};

/// `so101-lab episode import-lerobot`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The dataset folder (LeRobot format v3, e.g. written by `episode export`).
    pub dataset: PathBuf,
    /// Which episode.
    #[arg(long, default_value_t = 0)]
    pub episode: usize,
    /// How the dataset gives the arm joints: `degrees` (the follower's `use_degrees=True`, and
    /// our exports) or `range100` (its default: -100..100 over each joint's range).
    #[arg(long, value_enum, default_value = "degrees")]
    pub units: ArmUnits,
    /// Write the tracked trajectory as CSV (a new file): time, then target, reached and error
    /// per joint (LeRobot units), one row per control step.
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
    if let Some(out) = args.out.as_ref().filter(|o| o.exists()) {
        anyhow::bail!("{} exists; choose a new --out", out.display());
    }
    let task_path = args
        .task
        .clone()
        .unwrap_or_else(|| crate::config::default_configs_dir().join("task.toml"));
    let task = TaskConfig::load(&task_path)?;
    let mut env = TaskEnv::new(args.scene.build()?, task, RewardConfig::default());
    let python = args.python.clone().unwrap_or_else(lerobot::default_python);
    let units = LeRobotUnits::of(env.sim(), args.units);
    let dt = env.control_dt();
    let ep = lerobot::episode_targets(&args.dataset, args.episode, &python, &units, dt)?;
    let tracking = lerobot::track(&mut env, &ep.start, &ep.targets);
    let recorded = ep.recorded;
    let errors = tracking.errors();
    let k = units.per_radian();
    let scaled = |v: [f64; 6]| -> [f64; 6] { std::array::from_fn(|i| v[i] * k[i]) };
    let (rms, max) = (
        scaled(lerobot::rms(&errors)),
        scaled(lerobot::max_abs(&errors)),
    );
    if let Some(out) = &args.out {
        write_csv(out, &tracking, &units)?;
    }
    let names = lerobot::motor_features();
    if args.json {
        let per_joint: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.clone(),
                    serde_json::json!({"rms": rms[i], "max_abs": max[i]}),
                )
            })
            .collect();
        let report = serde_json::json!({
            "dataset": args.dataset,
            "episode": args.episode,
            "dataset_episodes": recorded.total_episodes,
            "frames": recorded.state.len(),
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
            recorded.state.len(),
            recorded.fps,
            tracking.target.len(),
            dt
        );
        let unit = match args.units {
            ArmUnits::Degrees => "degrees",
            ArmUnits::Range100 => "-100..100 of the joint range",
        };
        println!("tracking error, target - sim ({unit}; gripper in 0-100):");
        for (i, n) in names.iter().enumerate() {
            println!("  {n:<18} rms {:>8.3}  max {:>8.3}", rms[i], max[i]);
        }
    }
    Ok(())
}

fn write_csv(
    out: &std::path::Path,
    tracking: &lerobot::Tracking,
    units: &LeRobotUnits,
) -> anyhow::Result<()> {
    let names = lerobot::motor_features();
    let cols: Vec<String> = ["target", "reached", "error"]
        .iter()
        .flat_map(|k| names.iter().map(move |n| format!("{k}/{n}")))
        .collect();
    let mut w = Vec::new();
    writeln!(w, "time,{}", cols.join(","))?;
    for (k, (t, r)) in tracking.target.iter().zip(&tracking.reached).enumerate() {
        let (t, r) = (units.to_lerobot(t), units.to_lerobot(r));
        let row: Vec<String> = t
            .iter()
            .chain(&r)
            .map(|v| v.to_string())
            .chain((0..6).map(|i| (t[i] - r[i]).to_string()))
            .collect();
        writeln!(w, "{},{}", (k + 1) as f64 * tracking.dt, row.join(","))?;
    }
    crate::fsutil::write_atomic(out, &w).with_context(|| format!("writing {}", out.display()))
}
