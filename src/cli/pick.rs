//! `so101-lab pick`: the scripted pick over seeded placements, or with `--task`, the scripted
//! controller on a task config (pick-and-place on the place task).

use super::{PickArgs, load_pick_config};

/// Runs the picks and prints the report.
pub fn run(args: &PickArgs) -> anyhow::Result<()> {
    if let Some(task) = &args.task {
        return run_task(args, task);
    }
    let pick_cfg = load_pick_config(args.pick_config.as_ref())?;
    let scene = args.scene.build()?;
    let report = crate::pick::run_picks(
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
    print_failures(&report.failures);
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

/// `pick --task`: the scripted controller through the env on a task config.
fn run_task(args: &PickArgs, task_path: &std::path::Path) -> anyhow::Result<()> {
    let scene = args.scene.build()?;
    let task_args = super::TaskArgs {
        task: Some(task_path.to_owned()),
        reward: args.reward.clone(),
        dr: None,
        no_dr: false,
    };
    let (task, reward) = task_args.load_for(&scene)?;
    let report =
        crate::scripted::run_task_picks(&scene, &task, &reward, args.first_seed, args.seeds);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for r in report.per_episode.iter().filter(|r| !r.success) {
        println!(
            "seed {:>6}: FAILED {:<18} at step {:>3}, peak {:.3} m",
            r.seed,
            r.failure.map_or("", |f| f.label()),
            r.failure_step.unwrap_or(r.steps),
            r.peak_height_m
        );
    }
    println!(
        "scripted {}: {}/{} succeeded ({:.1}%, 95% CI {:.1}-{:.1}%), {:.0} steps per success",
        report.task,
        report.successes,
        report.episodes,
        100.0 * report.success_rate,
        100.0 * report.success_ci95[0],
        100.0 * report.success_ci95[1],
        report.mean_success_steps
    );
    print_failures(&report.failures);
    println!(
        "timing: {:.0} ms per episode",
        report.mean_episode_secs * 1e3
    );
    Ok(())
}

/// The `failures:` line: every kind with its count, or `none`.
fn print_failures<K: std::fmt::Display>(failures: &std::collections::BTreeMap<K, usize>) {
    let kinds: Vec<String> = failures.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let text = if kinds.is_empty() {
        "none".to_owned()
    } else {
        kinds.join(", ")
    };
    println!("failures: {text}");
}
