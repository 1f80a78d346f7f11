//! Running picks to completion and judging them: the acceptance criteria in one place.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{PickConfig, PickPhase, ScriptedPick};
use crate::scene::BuiltScene;
use crate::sim::Sim;

/// Why a pick failed, most fundamental first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The close phase ended with neither pad on the cube.
    NoContact,
    /// The close phase ended with only one pad on the cube.
    OnePad,
    /// The cube left the hand during the hold.
    Dropped,
    /// Pad contact was lost, or the cube sank below the lift threshold, while still in hand.
    Slipped,
    /// The cube tilted 5 degrees or more during the hold.
    Tilted,
    /// The cube was pushed below z = 0.0145 (into the floor).
    PushedDown,
    /// A jaw or pad penetrated the cube deeper than 1 mm.
    Penetration,
}

impl FailureKind {
    /// snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoContact => "no_contact",
            Self::OnePad => "one_pad",
            Self::Dropped => "dropped",
            Self::Slipped => "slipped",
            Self::Tilted => "tilted",
            Self::PushedDown => "pushed_down",
            Self::Penetration => "penetration",
        }
    }
}

/// Acceptance thresholds of a held cube.
const LIFT_THRESHOLD_M: f64 = 0.08;
const MIN_CUBE_Z_M: f64 = 0.0145;
const MAX_TILT_DEG: f64 = 5.0;
const MAX_PENETRATION_M: f64 = 0.001;

/// The result of one pick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PickOutcome {
    /// Seed of the placement.
    pub seed: u64,
    /// Cube placement (x, y, yaw rad).
    pub placement: [f64; 3],
    /// All failure kinds seen, most fundamental first; empty = success.
    pub failures: Vec<FailureKind>,
    /// Lowest cube centre height seen, metres.
    pub min_cube_z: f64,
    /// Cube height at the end, metres.
    pub final_cube_z: f64,
    /// Largest cube tilt during the hold, degrees.
    pub max_hold_tilt_deg: f64,
    /// Deepest hand-cube penetration, metres.
    pub max_penetration_m: f64,
    /// Gripper joint position when both pads first touched, rad.
    pub gripper_q_at_contact: Option<f64>,
    /// Physics steps simulated.
    pub steps: usize,
    /// Wall-clock seconds.
    pub wall_secs: f64,
    /// Final `qpos`, for determinism checks.
    #[serde(skip)]
    pub final_qpos: Vec<f64>,
}

impl PickOutcome {
    /// True when the cube was held as required.
    pub fn success(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Tracks the acceptance criteria while a pick runs.
#[derive(Debug, Clone, Default)]
pub struct PickMonitor {
    min_cube_z: f64,
    max_hold_tilt: f64,
    max_penetration: f64,
    hold_contact_lost: bool,
    hold_low: bool,
    gripper_q_at_contact: Option<f64>,
    steps: usize,
}

impl PickMonitor {
    fn new() -> Self {
        Self {
            min_cube_z: f64::INFINITY,
            ..Self::default()
        }
    }

    fn observe(&mut self, sim: &Sim, phase: PickPhase) {
        self.steps += 1;
        let cube = sim.cube_pose();
        self.min_cube_z = self.min_cube_z.min(cube.pos.z);
        let g = sim.grasp_state();
        self.max_penetration = self.max_penetration.max(g.max_hand_penetration);
        if self.gripper_q_at_contact.is_none() && g.static_pad_contact && g.moving_pad_contact {
            self.gripper_q_at_contact = Some(g.gripper_q);
        }
        if phase == PickPhase::Hold {
            self.max_hold_tilt = self.max_hold_tilt.max(sim.cube_tilt().to_degrees());
            if !(g.static_pad_contact && g.moving_pad_contact) {
                self.hold_contact_lost = true;
            }
            if cube.pos.z <= LIFT_THRESHOLD_M {
                self.hold_low = true;
            }
        }
    }

    fn verdict(&self, sim: &Sim, final_phase: PickPhase) -> Vec<FailureKind> {
        let mut f = Vec::new();
        if final_phase == PickPhase::Failed {
            let g = sim.grasp_state();
            f.push(if g.static_pad_contact || g.moving_pad_contact {
                FailureKind::OnePad
            } else {
                FailureKind::NoContact
            });
        } else {
            let g = sim.grasp_state();
            let in_hand = g.static_pad_contact || g.moving_pad_contact;
            if self.hold_low && !in_hand {
                f.push(FailureKind::Dropped);
            } else if self.hold_low || self.hold_contact_lost {
                f.push(FailureKind::Slipped);
            }
            if self.max_hold_tilt >= MAX_TILT_DEG {
                f.push(FailureKind::Tilted);
            }
        }
        if self.min_cube_z < MIN_CUBE_Z_M {
            f.push(FailureKind::PushedDown);
        }
        if self.max_penetration > MAX_PENETRATION_M {
            f.push(FailureKind::Penetration);
        }
        f
    }
}

/// A pick in progress: simulation, controller and monitor, advanced one control period at a
/// time (so callers can save state or draw mid-pick).
#[derive(Debug)]
pub struct PickRun {
    /// The simulation.
    pub sim: Sim,
    /// The controller.
    pub pick: ScriptedPick,
    monitor: PickMonitor,
}

impl PickRun {
    /// Places the cube per `placement` (x, y, yaw), plans and teleports the arm above it.
    pub fn start(scene: &BuiltScene, config: &PickConfig, placement: [f64; 3]) -> Self {
        let mut sim = Sim::new(scene.clone());
        let half = scene.config.cube.size_m / 2.0;
        sim.set_cube_pose([placement[0], placement[1], half], placement[2]);
        let pick = ScriptedPick::plan(&sim, config.clone());
        pick.teleport_above(&mut sim);
        Self {
            sim,
            pick,
            monitor: PickMonitor::new(),
        }
    }

    /// Continues from a saved mid-pick moment in another simulation (e.g. a fresh model).
    pub fn resume(sim: Sim, pick: ScriptedPick) -> Self {
        let pick = pick.rebind(&sim);
        Self {
            sim,
            pick,
            monitor: PickMonitor::new(),
        }
    }

    /// True once the pick is done or has given up.
    pub fn is_finished(&self) -> bool {
        matches!(self.pick.phase(), PickPhase::Done | PickPhase::Failed)
    }

    /// One control period: controller tick, then the physics substeps.
    pub fn advance(&mut self) {
        self.pick.tick(&mut self.sim);
        let phase = self.pick.phase();
        for _ in 0..self.pick.config().control_substeps {
            self.sim.step();
            self.monitor.observe(&self.sim, phase);
        }
    }

    /// Runs to the end and judges the result.
    pub fn finish(mut self, seed: u64, placement: [f64; 3], started: Instant) -> PickOutcome {
        while !self.is_finished() {
            self.advance();
        }
        let m = &self.monitor;
        PickOutcome {
            seed,
            placement,
            failures: m.verdict(&self.sim, self.pick.phase()),
            min_cube_z: m.min_cube_z,
            final_cube_z: self.sim.cube_pose().pos.z,
            max_hold_tilt_deg: m.max_hold_tilt,
            max_penetration_m: m.max_penetration,
            gripper_q_at_contact: m.gripper_q_at_contact,
            steps: m.steps,
            wall_secs: started.elapsed().as_secs_f64(),
            final_qpos: self.sim.data().qpos().to_vec(),
        }
    }
}

/// The cube placement of a seed: x = 0.25 +/- 0.03, y = +/- 0.03, yaw = +/- `yaw_range_rad`.
pub fn placement_for_seed(seed: u64, yaw_range_rad: f64) -> [f64; 3] {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = 0.25 + rng.random_range(-0.03..=0.03);
    let y = rng.random_range(-0.03..=0.03);
    let yaw = if yaw_range_rad > 0.0 {
        rng.random_range(-yaw_range_rad..=yaw_range_rad)
    } else {
        0.0
    };
    [x, y, yaw]
}

/// Runs one full pick for a seed.
pub fn run_pick(
    scene: &BuiltScene,
    config: &PickConfig,
    seed: u64,
    yaw_range_rad: f64,
) -> PickOutcome {
    let started = Instant::now();
    let placement = placement_for_seed(seed, yaw_range_rad);
    PickRun::start(scene, config, placement).finish(seed, placement, started)
}

/// Summary of many picks.
#[derive(Debug, Clone, Serialize)]
pub struct PickReport {
    /// Picks run.
    pub picks: usize,
    /// Successful picks.
    pub successes: usize,
    /// successes / picks.
    pub success_rate: f64,
    /// Count per failure kind (a pick can have several).
    pub failures: std::collections::BTreeMap<&'static str, usize>,
    /// Worst values over all picks.
    pub worst_min_cube_z: f64,
    /// Largest hold tilt, degrees.
    pub worst_hold_tilt_deg: f64,
    /// Deepest penetration, metres.
    pub worst_penetration_m: f64,
    /// Mean wall time of one pick, seconds.
    pub mean_pick_secs: f64,
    /// Physics steps per wall second over the batch.
    pub steps_per_sec: f64,
    /// Every pick.
    pub outcomes: Vec<PickOutcome>,
}

/// Runs picks for seeds `first_seed..first_seed + n`.
pub fn run_picks(
    scene: &BuiltScene,
    config: &PickConfig,
    first_seed: u64,
    n: usize,
    yaw_range_rad: f64,
) -> PickReport {
    let outcomes: Vec<PickOutcome> = (0..n as u64)
        .map(|i| run_pick(scene, config, first_seed + i, yaw_range_rad))
        .collect();
    let successes = outcomes.iter().filter(|o| o.success()).count();
    let mut failures = std::collections::BTreeMap::new();
    for o in &outcomes {
        for f in &o.failures {
            *failures.entry(f.name()).or_insert(0) += 1;
        }
    }
    let total_secs: f64 = outcomes.iter().map(|o| o.wall_secs).sum();
    let total_steps: usize = outcomes.iter().map(|o| o.steps).sum();
    PickReport {
        picks: n,
        successes,
        success_rate: if n == 0 {
            0.0
        } else {
            successes as f64 / n as f64
        },
        failures,
        worst_min_cube_z: outcomes
            .iter()
            .map(|o| o.min_cube_z)
            .fold(f64::INFINITY, f64::min),
        worst_hold_tilt_deg: outcomes
            .iter()
            .map(|o| o.max_hold_tilt_deg)
            .fold(0.0, f64::max),
        worst_penetration_m: outcomes
            .iter()
            .map(|o| o.max_penetration_m)
            .fold(0.0, f64::max),
        mean_pick_secs: if n == 0 { 0.0 } else { total_secs / n as f64 },
        steps_per_sec: if total_secs > 0.0 {
            total_steps as f64 / total_secs
        } else {
            0.0
        },
        outcomes,
    }
}
