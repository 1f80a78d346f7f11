//! `so101-lab train-pixel`: pixel SAC (DrQ-v2 style) with a progress bar.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::SceneArgs;
use crate::rl::pixel::{PixelTrainConfig, train_pixel};

/// `so101-lab train-pixel`.
#[derive(Debug, Args)]
pub struct TrainPixelArgs {
    /// Pixel SAC config (configs/train/pixel_*.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// Run folder (default runs/<config name>); never overwritten.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override total_timesteps.
    #[arg(long)]
    pub total_timesteps: Option<usize>,
    /// Start from this distilled student (its encoder and head).
    #[arg(long, value_name = "POLICY")]
    pub init_from: Option<PathBuf>,
    /// Override critic_warmup (updates that train only the critics).
    #[arg(long, value_name = "UPDATES")]
    pub critic_warmup: Option<usize>,
    #[command(flatten)]
    /// Scene.
    pub scene: SceneArgs,
}

/// Runs pixel SAC.
pub fn run(args: &TrainPixelArgs) -> anyhow::Result<()> {
    let mut cfg = PixelTrainConfig::load(&args.config)?;
    if let Some(n) = args.total_timesteps {
        cfg.total_timesteps = n;
    }
    if let Some(p) = &args.init_from {
        cfg.init_from = Some(p.clone());
    }
    if let Some(n) = args.critic_warmup {
        cfg.critic_warmup = n;
    }
    cfg.validate()
        .map_err(|e| anyhow::anyhow!("command line: {e}"))?;
    let scene = args.scene.build()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| super::default_run_dir(&args.config, "runs", ""));
    eprintln!("pixel SAC {} -> {}", args.config.display(), out.display());
    let bar = ProgressBar::new(cfg.total_timesteps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = train_pixel(&cfg, &scene, &out, |p| {
        bar.set_position(p.step as u64);
        bar.set_message(format!(
            "critic {:.3}  alpha {:.3}{}",
            p.critic_loss,
            p.alpha,
            p.eval_success
                .map_or(String::new(), |e| format!("  eval {:.0}%", 100.0 * e))
        ));
    })?;
    bar.finish();
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
