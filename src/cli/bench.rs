//! `so101-lab bench ...`: what users wait on, measured by the `bench` module, printed as text or
//! JSON.

use clap::Subcommand;

use super::{SceneArgs, TaskArgs, load_pick_config};

/// `so101-lab bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Env steps/s and where the time goes; batched throughput; raw mj_step/s.
    Env {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Env steps per measurement.
        #[arg(long, default_value_t = 3000)]
        steps: usize,
        #[command(flatten)]
        /// Task and reward.
        task: TaskArgs,
        #[command(flatten)]
        /// Scene.
        scene: SceneArgs,
    },
    /// SAC gradient updates/s at batch 256 for 1 and 2 torch threads.
    Sac {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Updates per measurement.
        #[arg(long, default_value_t = 300)]
        updates: usize,
        /// Env steps of the full training-loop measurement (0 = skip).
        #[arg(long, default_value_t = 2000)]
        loop_steps: usize,
        /// The learner of this training config (batch size, hidden layers, LayerNorm critics,
        /// asymmetric critic) instead of the defaults (SB3's: batch 256, [256, 256]).
        #[arg(long)]
        config: Option<std::path::PathBuf>,
        #[command(flatten)]
        /// Scene.
        scene: SceneArgs,
    },
    /// Frame time of the app with physics running (renders a window; under xvfb-run without a
    /// display).
    #[cfg(feature = "app")]
    View(crate::app::bench::ViewBenchArgs),
    /// Wrist-camera frames/s of the headless renderer at 84x84, 128x128 and 640x480, one env and
    /// a batch of envs.
    Render {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Envs per batch.
        #[arg(long, default_value_t = 16)]
        envs: usize,
        /// Threads for the batch.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 2.0)]
        secs: f64,
        /// Frames for MuJoCo's own renderer at 84x84 (Python bindings on EGL, from the set-up's
        /// venv), measured in the same run; 0 = skip.
        #[arg(long, default_value_t = 40)]
        mujoco_frames: usize,
        #[command(flatten)]
        /// Scene config.
        scene: SceneArgs,
    },
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

/// Prints a report as pretty JSON or as its text form.
fn print_report<T: serde::Serialize + std::fmt::Display>(
    report: &T,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}

/// Runs a benchmark command.
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        #[cfg(feature = "app")]
        BenchCommand::View(args) => crate::app::bench::run(&args),
        BenchCommand::Env {
            json,
            steps,
            task,
            scene,
        } => {
            let built = crate::scene::build(&scene.load()?)?;
            let (task, reward) = task.load_for(&built)?;
            print_report(&crate::bench::env(&built, &task, &reward, steps), json)
        }
        BenchCommand::Sac {
            json,
            updates,
            loop_steps,
            config,
            scene,
        } => {
            if updates == 0 {
                anyhow::bail!("--updates must be positive");
            }
            let cfg = match &config {
                Some(path) => crate::rl::SacConfig::load(path)?,
                None => crate::rl::SacConfig::default(),
            };
            let mut report = crate::bench::sac(updates, &[1, 2], &cfg);
            if loop_steps > 0 {
                let built = crate::scene::build(&scene.load()?)?;
                for threads in [1, 2] {
                    if let Some(rate) = crate::bench::train_loop_rate(&built, loop_steps, threads) {
                        report.train_loop.push((threads, rate));
                    }
                }
            }
            print_report(&report, json)
        }
        BenchCommand::Render {
            json,
            envs,
            threads,
            secs,
            mujoco_frames,
            scene,
        } => {
            if envs == 0 || threads == 0 || secs.is_nan() || secs <= 0.0 {
                anyhow::bail!("--envs, --threads and --secs must be positive");
            }
            let built = crate::scene::build(&scene.load()?)?;
            let report = crate::bench::render(&built, envs, threads, secs, mujoco_frames)?;
            print_report(&report, json)
        }
        BenchCommand::Physics {
            json,
            sim_secs,
            scene,
        } => {
            let built = crate::scene::build(&scene.load()?)?;
            let pick = load_pick_config(None)?;
            print_report(&crate::bench::physics(&built, &pick, sim_secs), json)
        }
    }
}
