//! `so101-lab distill`: a state-based teacher distilled into a policy that sees (DAgger), with a
//! progress bar, metrics, atomic checkpoints and `--resume`.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::SceneArgs;
use crate::rl::distill::{DistillConfig, distill};

/// `so101-lab distill`.
#[derive(Debug, Args)]
pub struct DistillArgs {
    /// The teacher: a state policy file (default: the bundled policy).
    #[arg(
        long,
        default_value = super::train::BUNDLED_POLICY,
        value_parser = crate::paths::parse_data_path
    )]
    pub teacher: PathBuf,
    /// Distillation config (configs/distill/*.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// Run folder (default runs/distill_<config name>); never overwritten.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this folder from its checkpoint (and keep writing there).
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// Override the number of iterations.
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Override the config's seed (networks, rollouts and minibatches).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    /// Scene.
    pub scene: SceneArgs,
}

/// Runs a distillation.
pub fn run(args: &DistillArgs) -> anyhow::Result<()> {
    let mut cfg = DistillConfig::load(&args.config)?;
    if let Some(n) = args.iterations {
        cfg.iterations = n;
        cfg.validate()
            .map_err(|e| anyhow::anyhow!("--iterations: {e}"))?;
    }
    if let Some(seed) = args.seed {
        cfg.seed = seed;
    }
    let scene = args.scene.build()?;
    let out = match (&args.resume, &args.out) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => dir.clone(),
        (None, None) => super::default_run_dir(&args.config, "runs", "distill_"),
    };
    eprintln!(
        "distilling {} -> {} ({})",
        args.teacher.display(),
        out.display(),
        args.config.display()
    );
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {percent:>3}%  {elapsed_precise}  ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = distill(
        &cfg,
        &args.teacher,
        &scene,
        &out,
        args.resume.is_some(),
        |p| {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            bar.set_message(format!(
                "iteration {} {}  data {}  loss {:.4}{}",
                p.iteration + 1,
                p.phase,
                p.data,
                p.loss,
                p.eval_success
                    .map_or(String::new(), |e| format!("  eval {:.0}%", 100.0 * e))
            ));
        },
    )?;
    bar.finish();
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
