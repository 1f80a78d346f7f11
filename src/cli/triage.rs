//! `so101-lab render` (the debug video of an episode) and `so101-lab triage` (a folder of
//! episodes as a table, or an HTML report).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::episode::triage::{COLUMNS, SortKey, Triage, outcome_label, scan};
use crate::video::{Overlay, VideoOptions, html_report, render_episode};

/// `so101-lab render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The episode file.
    pub episode: PathBuf,
    /// The video to write (`.mp4`; never overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// An MJCF camera (front, side, top, wrist), or `auto`: a camera that frames the arm, the
    /// cube and the TCP over the whole episode.
    #[arg(long, default_value = "auto")]
    pub camera: String,
    /// Video size, WxH (even numbers).
    #[arg(long, default_value = "960x720")]
    pub size: String,
    /// Overlays, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Overlay::DEFAULT)]
    pub overlays: Vec<Overlay>,
    /// Plot the reward and its terms under the scene, with a cursor at the current step.
    #[arg(long)]
    pub plots: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Writes the video `args` asks for.
pub fn render(args: &RenderArgs) -> anyhow::Result<()> {
    let (width, height) = super::parse_size(&args.size)?;
    let opts = VideoOptions {
        camera: (args.camera != "auto").then(|| args.camera.clone()),
        width,
        height,
        overlays: args.overlays.clone(),
        plots: args.plots,
    };
    let bar = indicatif::ProgressBar::new(0);
    let report = render_episode(&args.episode, &args.out, &opts, |k, n| {
        bar.set_length(n as u64);
        bar.set_position(k as u64);
    })?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "wrote {}: {} frames at {:.1} frames/s, {}x{}",
            report.path.display(),
            report.frames,
            report.fps,
            report.width,
            report.height
        );
    }
    Ok(())
}

/// `so101-lab triage`.
#[derive(Debug, Args)]
pub struct TriageArgs {
    /// A folder of episode files (e.g. from `eval --record DIR`).
    pub dir: PathBuf,
    /// Sort by this column.
    #[arg(long, value_enum, default_value_t = SortKey::File)]
    pub sort: SortKey,
    /// Sort descending.
    #[arg(long)]
    pub desc: bool,
    /// Only episodes with this outcome: success, or a failure kind (never_touched,
    /// one_pad_contact, dropped, timeout; place tasks: never_grasped, missed_the_target,
    /// not_released, knocked_over).
    #[arg(long)]
    pub outcome: Option<String>,
    /// Print JSON (rows and counts).
    #[arg(long)]
    pub json: bool,
    /// Also write the table as one HTML page, with a thumbnail per failure.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Reads, sorts, filters and prints the table; writes the report when asked.
pub fn triage(args: &TriageArgs) -> anyhow::Result<()> {
    let mut t = scan(&args.dir)?;
    anyhow::ensure!(
        !t.rows.is_empty() || !t.errors.is_empty(),
        "{} holds no episode files (*.jsonl)",
        args.dir.display()
    );
    t.sort(args.sort, args.desc);
    if let Some(o) = &args.outcome {
        let label = outcome_label(o).ok_or_else(|| {
            let kinds: Vec<String> = crate::task::FailureKind::ALL
                .iter()
                .map(|k| k.label().replace(' ', "_"))
                .collect();
            anyhow::anyhow!(
                "--outcome {o}: expected one of success, {}",
                kinds.join(", ")
            )
        })?;
        t.filter_outcome(label);
    }
    if let Some(path) = &args.report {
        write_report(&t, &format!("triage of {}", args.dir.display()), path)?;
    }
    print_table(&t, args.json)
}

/// Writes `t` as an HTML page at `path` (atomically; an existing file is never overwritten).
pub fn write_report(t: &Triage, title: &str, path: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !path.exists(),
        "{} already exists; not overwriting it",
        path.display()
    );
    let html = html_report(t, title)?;
    crate::fsutil::write_atomic(path, html.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn print_table(t: &Triage, json: bool) -> anyhow::Result<()> {
    if json {
        let doc = serde_json::json!({
            "counts": t.counts(),
            "rows": t.rows,
            "errors": t.errors.iter().map(|(p, e)| (p.display().to_string(), e)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let widths = [28, 8, 16, 5, 8, 5, 17, 7, 9, 7, 7];
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| match i {
                0 | 2 | 6 => format!("{c:<w$}"),
                _ => format!("{c:>w$}"),
            })
            .collect();
        parts.join(" ")
    };
    println!("{}", line(&COLUMNS.map(str::to_owned)));
    for r in &t.rows {
        println!("{}", line(&r.cells()));
    }
    let counts: Vec<String> = t.counts().iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("{} episodes: {}", t.rows.len(), counts.join(", "));
    for (p, e) in &t.errors {
        eprintln!("not read: {}: {e}", p.display());
    }
    Ok(())
}
