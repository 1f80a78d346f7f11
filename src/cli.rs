//! Command-line interface: clap definitions and the headless subcommands.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{SceneConfig, default_configs_dir};
use crate::scripted::PickConfig;

/// so101-lab: simulate, train and debug RL on the SO-101 arm in MuJoCo.
#[derive(Debug, Parser)]
#[command(name = "so101-lab", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scripted top-down pick on seeded cube placements and report the success rate.
    Pick(PickArgs),
    /// Scene tools: export the compiled MJCF, print effective contact parameters.
    #[command(subcommand)]
    Scene(SceneCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print a config's built-in defaults as TOML (a starting point for your own file).
    Defaults {
        /// Which config.
        #[arg(value_enum)]
        which: ConfigKind,
    },
}

/// Config files with built-in defaults.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ConfigKind {
    /// configs/scene.toml
    Scene,
    /// configs/pick.toml
    Pick,
}

/// Scene config selection shared by subcommands.
#[derive(Debug, Clone, Args)]
pub struct SceneArgs {
    /// Scene config file (default: configs/scene.toml).
    #[arg(long, value_name = "CONFIG")]
    pub scene: Option<PathBuf>,
}

impl SceneArgs {
    /// Loads the chosen (or default) scene config.
    pub fn load(&self) -> anyhow::Result<SceneConfig> {
        let path = self
            .scene
            .clone()
            .unwrap_or_else(|| default_configs_dir().join("scene.toml"));
        Ok(SceneConfig::load(&path)?)
    }
}

/// `so101-lab pick`.
#[derive(Debug, Args)]
pub struct PickArgs {
    /// Number of seeded placements.
    #[arg(long, default_value_t = 20)]
    pub seeds: usize,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Cube yaw range, +/- degrees (uniform).
    #[arg(long, default_value_t = 0.0)]
    pub yaw: f64,
    /// Pick config file (default: configs/pick.toml).
    #[arg(long, value_name = "CONFIG")]
    pub pick_config: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    /// Scene config.
    pub scene: SceneArgs,
}

/// `so101-lab scene ...`.
#[derive(Debug, Subcommand)]
pub enum SceneCommand {
    /// Write the compiled scene as standalone MJCF (opens in MuJoCo's viewer or Python).
    Export {
        /// Output file.
        out: PathBuf,
        #[command(flatten)]
        /// Scene config.
        scene: SceneArgs,
    },
    /// Print the effective contact parameters of the pad-cube pairs (after MuJoCo's mixing).
    Contact {
        #[command(flatten)]
        /// Scene config.
        scene: SceneArgs,
    },
}

/// `so101-lab bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// mj_step/s with the arm moving freely and with the cube grasped; time of one pick.
    Physics {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Seconds of simulated time per measurement.
        #[arg(long, default_value_t = 20.0)]
        sim_secs: f64,
        #[command(flatten)]
        /// Scene config.
        scene: SceneArgs,
    },
}

/// Loads the pick config (default `configs/pick.toml`).
pub fn load_pick_config(path: Option<&PathBuf>) -> anyhow::Result<PickConfig> {
    let path = path
        .cloned()
        .unwrap_or_else(|| default_configs_dir().join("pick.toml"));
    Ok(PickConfig::load(&path)?)
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pick(args) => pick(&args),
        Command::Defaults { which } => {
            let text = match which {
                ConfigKind::Scene => toml::to_string_pretty(&SceneConfig::default())?,
                ConfigKind::Pick => toml::to_string_pretty(&PickConfig::default())?,
            };
            print!("{text}");
            Ok(())
        }
        Command::Scene(SceneCommand::Export { out, scene }) => {
            let cfg = scene.load()?;
            crate::scene::export_xml(&cfg, &out)?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        Command::Scene(SceneCommand::Contact { scene }) => {
            let built = crate::scene::build(&scene.load()?)?;
            for c in crate::scene::effective_pad_cube_contact(&built) {
                println!("{c}");
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Physics {
            json,
            sim_secs,
            scene,
        }) => {
            let built = crate::scene::build(&scene.load()?)?;
            let pick = load_pick_config(None)?;
            let report = crate::bench::physics(&built, &pick, sim_secs);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{report}");
            }
            Ok(())
        }
    }
}

fn pick(args: &PickArgs) -> anyhow::Result<()> {
    let scene_cfg = args.scene.load()?;
    let pick_cfg = load_pick_config(args.pick_config.as_ref())?;
    let scene = crate::scene::build(&scene_cfg).context("building the scene")?;
    let report = crate::scripted::run_picks(
        &scene,
        &pick_cfg,
        args.first_seed,
        args.seeds,
        args.yaw.to_radians(),
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for o in &report.outcomes {
        if !o.success() {
            let kinds: Vec<&str> = o.failures.iter().map(|f| f.name()).collect();
            println!(
                "seed {:>5}: FAILED {:<24} cube ({:.4}, {:.4}, yaw {:+.1} deg) final z {:.4}",
                o.seed,
                kinds.join(","),
                o.placement[0],
                o.placement[1],
                o.placement[2].to_degrees(),
                o.final_cube_z
            );
        }
    }
    println!(
        "scripted pick: {}/{} succeeded ({:.1}%), yaw +/-{} deg",
        report.successes,
        report.picks,
        100.0 * report.success_rate,
        args.yaw
    );
    let kinds: Vec<String> = report
        .failures
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    println!(
        "failures: {}",
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            kinds.join(", ")
        }
    );
    println!(
        "worst: min cube z {:.4} m, hold tilt {:.2} deg, penetration {:.2} mm",
        report.worst_min_cube_z,
        report.worst_hold_tilt_deg,
        report.worst_penetration_m * 1e3
    );
    println!(
        "timing: {:.0} ms per pick, {:.0} physics steps/s",
        report.mean_pick_secs * 1e3,
        report.steps_per_sec
    );
    Ok(())
}
