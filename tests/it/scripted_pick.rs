//! Scripted pick acceptance over 200 seeded placements, with and without cube yaw.

use crate::common;

use so101_lab::pick::{PickReport, run_picks};

fn summary(label: &str, r: &PickReport) {
    println!(
        "{label}: {}/{} ({:.1}%) held at z > 0.08 for 3 s; failures {:?}; worst min z {:.4} m, \
         hold tilt {:.2} deg, penetration {:.2} mm; {:.0} ms/pick",
        r.successes,
        r.picks,
        100.0 * r.success_rate,
        r.failures,
        r.worst_min_cube_z,
        r.worst_hold_tilt_deg,
        r.worst_penetration_m * 1e3,
        r.mean_pick_secs * 1e3
    );
}

#[test]
fn scripted_pick_200_seeds_no_yaw_at_least_99_percent() {
    let scene = common::default_scene();
    let report = run_picks(&scene, &common::default_pick(), 0, 200, 0.0);
    summary("yaw 0", &report);
    assert!(
        report.success_rate >= 0.99,
        "success {:.3} < 0.99",
        report.success_rate
    );
    // Every successful pick met each criterion; check the figures directly too.
    for o in report.outcomes.iter().filter(|o| o.success()) {
        assert!(
            o.min_cube_z >= 0.0145,
            "seed {}: cube at {}",
            o.seed,
            o.min_cube_z
        );
        assert!(
            o.max_hold_tilt_deg < 5.0,
            "seed {}: tilt {}",
            o.seed,
            o.max_hold_tilt_deg
        );
        assert!(
            o.max_penetration_m <= 0.001,
            "seed {}: penetration {}",
            o.seed,
            o.max_penetration_m
        );
        assert!(
            o.final_cube_z > 0.08,
            "seed {}: final z {}",
            o.seed,
            o.final_cube_z
        );
    }
}

#[test]
fn scripted_pick_200_seeds_yaw_40_with_wrist_alignment_at_least_95_percent() {
    let scene = common::default_scene();
    let pick = common::default_pick();
    assert!(pick.align_wrist_to_yaw, "the default pick aligns the wrist");
    let report = run_picks(&scene, &pick, 1000, 200, 40f64.to_radians());
    summary("yaw +/-40", &report);
    assert!(
        report.success_rate >= 0.95,
        "success {:.3} < 0.95",
        report.success_rate
    );
}

#[test]
fn scripted_pick_and_place_200_seeds_at_least_98_percent() {
    use so101_lab::task::{RewardConfig, TaskConfig};
    let path = so101_lab::config::default_configs_dir().join("tasks/place.toml");
    let task = TaskConfig::load(&path).expect("place task");
    let reward = RewardConfig::load(&task.reward_path(&path).expect("reward")).expect("reward");
    let r = so101_lab::scripted::run_task_picks(&common::default_scene(), &task, &reward, 0, 200);
    println!(
        "scripted pick-and-place: {}/{} ({:.1}%), {:.0} steps per success, failures {:?}",
        r.successes,
        r.episodes,
        100.0 * r.success_rate,
        r.mean_success_steps,
        r.failures
    );
    assert_eq!(r.episodes, 200);
    assert!(r.successes >= 196, "{} of 200", r.successes);
    assert_eq!(
        r.failures.values().sum::<usize>(),
        200 - r.successes,
        "every failure has a kind"
    );
}
