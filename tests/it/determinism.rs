//! Determinism: same seed -> bit-identical state; save mid-pick, restore into a freshly built
//! model, continue -> the same final state.

use crate::common;

use std::time::Instant;

use so101_lab::pick::{PickPhase, PickRun, placement_for_seed, run_pick};
use so101_lab::sim::Sim;

#[test]
fn same_seed_gives_bit_identical_qpos() {
    let scene = common::default_scene();
    let pick = common::default_pick();
    let a = run_pick(&scene, &pick, 42, 0.5);
    let b = run_pick(&scene, &pick, 42, 0.5);
    assert!(a.success());
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.final_qpos), bits(&b.final_qpos));
    // A different seed really is a different run.
    let c = run_pick(&scene, &pick, 43, 0.5);
    assert_ne!(bits(&a.final_qpos), bits(&c.final_qpos));
}

#[test]
fn save_mid_pick_restore_into_fresh_model_and_continue_matches() {
    let scene = common::default_scene();
    let pick = common::default_pick();
    let placement = placement_for_seed(5, 0.0);

    // Reference: uninterrupted.
    let reference = PickRun::start(&scene, &pick, placement).finish(5, placement, Instant::now());

    // Interrupted during the lift: save the physics state and the controller.
    let mut run = PickRun::start(&scene, &pick, placement);
    while run.pick.phase() != PickPhase::Lift {
        run.advance();
    }
    for _ in 0..10 {
        run.advance();
    }
    let saved = run.sim.save_state();
    let controller = run.pick.clone();
    drop(run);

    // A freshly compiled model and a new simulation.
    let fresh_scene = common::default_scene();
    let mut sim = Sim::new(fresh_scene);
    sim.restore_state(&saved)
        .expect("state fits the fresh model");
    let resumed = PickRun::resume(sim, controller).finish(5, placement, Instant::now());

    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&reference.final_qpos), bits(&resumed.final_qpos));
    assert!(reference.success());
}

#[test]
fn restoring_a_foreign_or_corrupt_state_is_an_error() {
    let scene = common::default_scene();
    let mut sim = Sim::new(scene);
    let mut state = sim.save_state();
    state.values.pop();
    assert!(sim.restore_state(&state).is_err());
    let mut state = sim.save_state();
    state.values[3] = f64::NAN;
    assert!(sim.restore_state(&state).is_err());
}
