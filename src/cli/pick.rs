//! `so101-lab pick`: the scripted pick over seeded placements.

use super::{PickArgs, load_pick_config};

/// Runs the picks and prints the report.
pub fn run(args: &PickArgs) -> anyhow::Result<()> {
    let pick_cfg = load_pick_config(args.pick_config.as_ref())?;
    let scene = args.scene.build()?;
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
