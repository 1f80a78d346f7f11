//! `so101-lab episode export|import-lerobot|check`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{EpisodeCommand, ExportFormat};
use crate::episode::{ConfigIdentity, Episode, resimulate};
use crate::task::RewardTerms;

/// Runs an episode subcommand.
pub fn run(cmd: EpisodeCommand) -> anyhow::Result<()> {
    match cmd {
        EpisodeCommand::Export {
            file,
            format,
            out,
            python,
        } => match format {
            ExportFormat::Json => export(&file, "json", out, to_json),
            ExportFormat::Csv => export(&file, "csv", out, to_csv),
            ExportFormat::Npz => {
                export(&file, "npz", out, |ep| Ok(crate::episode::episode_npz(ep)?))
            }
            ExportFormat::Lerobot => export_lerobot(&file, out, python),
        },
        EpisodeCommand::ImportLerobot(args) => super::lerobot::import(&args),
        EpisodeCommand::Check { file } => check(&file),
    }
}

fn load(file: &Path) -> anyhow::Result<Episode> {
    let ep = Episode::read(file)?;
    for w in &ep.warnings {
        eprintln!("warning: {}: {w}", file.display());
    }
    Ok(ep)
}

fn export(
    file: &Path,
    ext: &str,
    out: Option<PathBuf>,
    encode: fn(&Episode) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<()> {
    let ep = load(file)?;
    let out = out.unwrap_or_else(|| file.with_extension(ext));
    let bytes = encode(&ep)?;
    crate::fsutil::write_atomic(&out, &bytes)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {} ({} steps)", out.display(), ep.steps.len());
    Ok(())
}

fn export_lerobot(
    path: &Path,
    out: Option<PathBuf>,
    python: Option<PathBuf>,
) -> anyhow::Result<()> {
    use crate::episode::lerobot;
    let out = out.context("--format lerobot needs --out DATASET (a folder to create)")?;
    let files = lerobot::episode_files(path)?;
    let python = python.unwrap_or_else(lerobot::default_python);
    let summary = lerobot::write_dataset(&files, &out, &python)?;
    eprintln!(
        "wrote LeRobot dataset {} ({} episodes, {} frames)",
        out.display(),
        summary.episodes,
        summary.frames
    );
    Ok(())
}

fn to_json(ep: &Episode) -> anyhow::Result<Vec<u8>> {
    let h = &ep.header;
    let steps: Vec<serde_json::Value> = ep
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let terms: serde_json::Map<String, serde_json::Value> = RewardTerms::NAMES
                .iter()
                .zip(s.info.reward_terms.values())
                .map(|(n, v)| ((*n).to_owned(), v.into()))
                .collect();
            serde_json::json!({
                "step": i,
                "time": s.time,
                "qpos": s.qpos,
                "qvel": s.qvel,
                "ctrl": s.ctrl,
                "action": s.action,
                "obs": s.obs,
                "reward": s.reward,
                "terms": terms,
                "flags": {
                    "grasping": s.info.grasping,
                    "static_pad_contact": s.info.static_pad_contact,
                    "moving_pad_contact": s.info.moving_pad_contact,
                    "success": s.info.success,
                    "unstable": s.info.unstable,
                    "terminated": s.terminated,
                    "truncated": s.truncated,
                    "hold_count": s.info.hold_count,
                },
                "cube_pos": s.info.cube_pos,
                "tcp_pos": s.info.tcp_pos,
                "ik_target": s.info.ik_target,
                "policy": s.policy,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "format": "so101-lab-episode-export",
        "seed": h.seed,
        "reset_mode": h.reset_mode,
        "policy": h.policy,
        "config_hash": h.config.hash,
        "qpos_names": h.qpos_names,
        "qvel_names": h.qvel_names,
        "obs_names": h.obs_names,
        "action_names": h.action_names,
        "reward_terms": h.reward_terms,
        "steps": steps,
    });
    Ok(serde_json::to_vec_pretty(&doc)?)
}

fn to_csv(ep: &Episode) -> anyhow::Result<Vec<u8>> {
    let h = &ep.header;
    let mut cols: Vec<String> = vec!["step".into(), "time".into()];
    cols.extend(h.qpos_names.iter().map(|n| format!("qpos/{n}")));
    cols.extend(h.qvel_names.iter().map(|n| format!("qvel/{n}")));
    cols.extend((0..ep.steps.first().map_or(0, |s| s.ctrl.len())).map(|i| format!("ctrl/{i}")));
    cols.extend(h.action_names.iter().map(|n| format!("action/{n}")));
    cols.extend(h.obs_names.iter().map(|n| format!("obs/{n}")));
    cols.push("reward".into());
    cols.extend(RewardTerms::NAMES.iter().map(|n| format!("reward/{n}")));
    for f in [
        "grasping",
        "static_pad_contact",
        "moving_pad_contact",
        "success",
        "unstable",
        "terminated",
        "truncated",
        "hold_count",
    ] {
        cols.push(f.into());
    }
    let mut w = Vec::new();
    writeln!(w, "{}", cols.join(","))?;
    let b = |v: bool| if v { "1" } else { "0" };
    for (i, s) in ep.steps.iter().enumerate() {
        let mut row: Vec<String> = vec![i.to_string(), s.time.to_string()];
        row.extend(
            s.qpos
                .iter()
                .chain(&s.qvel)
                .chain(&s.ctrl)
                .chain(&s.action)
                .chain(&s.obs)
                .map(f64::to_string),
        );
        row.push(s.reward.to_string());
        row.extend(s.info.reward_terms.values().iter().map(f64::to_string));
        let f = &s.info;
        for v in [
            f.grasping,
            f.static_pad_contact,
            f.moving_pad_contact,
            f.success,
            f.unstable,
            s.terminated,
            s.truncated,
        ] {
            row.push(b(v).into());
        }
        row.push(f.hold_count.to_string());
        writeln!(w, "{}", row.join(","))?;
    }
    Ok(w)
}

fn check(file: &Path) -> anyhow::Result<()> {
    let ep = load(file)?;
    let h = &ep.header;
    println!(
        "{}: {} steps, return {:.3}, seed {}, reset {:?}, policy {}, format v{}",
        file.display(),
        ep.steps.len(),
        ep.total_reward(),
        h.seed,
        h.reset_mode,
        h.policy,
        h.version
    );
    let defaults = crate::config::default_configs_dir();
    let current = (|| -> anyhow::Result<ConfigIdentity> {
        let scene = crate::config::SceneConfig::load(&defaults.join("scene.toml"))?;
        let task = crate::task::TaskConfig::load(&defaults.join("task.toml"))?;
        let reward = crate::task::RewardConfig::load(&defaults.join("rewards").join("v11.toml"))?;
        Ok(ConfigIdentity::of(&scene, &task, &reward))
    })();
    if let Ok(current) = current {
        let diffs = ep.config_differences(&current);
        if !diffs.is_empty() {
            eprintln!(
                "warning: recorded with a different {} config than configs/ has now; re-simulating with the recorded one",
                diffs.join(" and ")
            );
        }
    }
    if let Some(image) = &h.image {
        println!(
            "images: {} at {}x{}, channels {:?}, stack {}{}{}",
            image.cameras.join(", "),
            image.width,
            image.height,
            image.channels,
            image.frame_stack,
            if image.real_capture {
                ", real capture"
            } else {
                ""
            },
            if h.dr.is_some() {
                ", domain randomised"
            } else {
                ""
            },
        );
    }
    let report = resimulate(&ep, file)?;
    if let Some(i) = report.first_divergence {
        anyhow::bail!("re-simulation diverged from the recording at step {i}");
    }
    println!(
        "re-simulation: all {} states identical bit for bit",
        report.steps
    );
    if let Some(why) = &report.pixels_skipped {
        println!("re-rendering: {why}");
    }
    if let Some(i) = report.first_pixel_divergence {
        anyhow::bail!("re-rendered image observation differs from the recording at step {i}");
    }
    if report.pixels_checked > 0 {
        println!(
            "re-rendering: all {} image observations identical bit for bit",
            report.pixels_checked
        );
    }
    Ok(())
}
