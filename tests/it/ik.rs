//! IK acceptance: 200 seeded reachable top-down targets, each reached within 1 mm.

use crate::common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use so101_lab::kinematics::{IkConfig, IkSolver, IkTarget, frames};
use so101_lab::scene::names::{GRIPPER_INDEX, WRIST_FLEX_INDEX, WRIST_ROLL_INDEX};
use so101_lab::sim::{Pose, Sim};

/// Sets wrist_flex so the fingers point straight down (golden-section search on the tilt).
fn make_top_down(sim: &mut Sim, ik: &mut IkSolver, q: &mut [f64; 6]) -> Pose {
    let site = sim.handles().gripperframe_site;
    let range = sim.handles().joints[WRIST_FLEX_INDEX].range;
    let (mut a, mut b) = (range[0], range[1]);
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let mut tilt = |w: f64, q: &mut [f64; 6]| {
        q[WRIST_FLEX_INDEX] = w;
        frames::top_down_error(&ik.forward(sim.data(), *q, site))
    };
    for _ in 0..80 {
        let c = b - phi * (b - a);
        let d = a + phi * (b - a);
        if tilt(c, q) < tilt(d, q) {
            b = d;
        } else {
            a = c;
        }
    }
    q[WRIST_FLEX_INDEX] = 0.5 * (a + b);
    ik.forward(sim.data(), *q, site)
}

#[test]
fn ik_reaches_200_random_top_down_targets_within_1mm() {
    let scene = common::default_scene();
    let mut sim = Sim::new(scene.clone());
    let handles = scene.handles.clone();
    let mut active = [true; 6];
    active[WRIST_ROLL_INDEX] = false;
    active[GRIPPER_INDEX] = false;
    let config = IkConfig {
        tolerance_m: 1e-4,
        max_iterations: 2000,
        ..IkConfig::default()
    };
    let mut ik = IkSolver::new(
        scene.model.clone(),
        handles.gripperframe_site,
        &handles.joints,
        active,
        config,
    );

    // Reachable by construction: random arm joints, wrist flexed to top-down, TCP in the box.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut targets = Vec::new();
    while targets.len() < 200 {
        let mut q = [0.0; 6];
        for (qi, joint) in q.iter_mut().zip(&handles.joints).take(3) {
            *qi = rng.random_range(joint.range[0]..joint.range[1]);
        }
        let pose = make_top_down(&mut sim, &mut ik, &mut q);
        let p = pose.pos;
        let in_box = (0.15..=0.40).contains(&p.x)
            && (-0.20..=0.20).contains(&p.y)
            && (0.02..=0.25).contains(&p.z);
        if in_box && frames::top_down_error(&pose) < 1e-3 {
            targets.push(p);
        }
    }

    let home = [0.0, -0.5, 0.5, 1.2, 0.0, 0.5];
    let mut worst = 0.0f64;
    let mut worst_rot = 0.0f64;
    let mut iters = Vec::new();
    let mut failures = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let sol = ik.solve(sim.data(), home, &IkTarget::top_down(*t));
        let reached = ik.forward(sim.data(), sol.q, handles.gripperframe_site);
        let err = (reached.pos - t).norm();
        worst = worst.max(err);
        worst_rot = worst_rot.max(frames::top_down_error(&reached));
        iters.push(sol.iterations);
        if err > 1e-3 {
            failures.push((i, *t, err));
        }
    }
    iters.sort_unstable();
    println!(
        "IK: {}/200 within 1 mm; worst position error {:.3} mm, worst tilt {:.3} deg, median {} / max {} iterations",
        200 - failures.len(),
        worst * 1e3,
        worst_rot.to_degrees(),
        iters[100],
        iters[199]
    );
    assert!(failures.is_empty(), "targets not reached: {failures:?}");
}
