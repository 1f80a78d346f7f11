//! `so101-lab bench physics`: raw `mj_step` throughput with the arm moving
//! freely and with the cube grasped, for our lean collision set and for every link mesh
//! colliding, plus the wall time of one scripted pick.

use std::fmt;
use std::time::Instant;

use serde::Serialize;

use crate::config::SceneConfig;
use crate::pick::{PickConfig, PickPhase, PickRun, placement_for_seed};
use crate::scene::BuiltScene;
use crate::sim::Sim;

/// Results of `bench physics`.
#[derive(Debug, Clone, Serialize)]
pub struct PhysicsBench {
    /// Simulated seconds per measurement.
    pub sim_secs: f64,
    /// mj_step/s, arm moving, nothing touching (lean collision set).
    pub free_arm_steps_per_sec: f64,
    /// mj_step/s, cube held in the air (lean collision set).
    pub grasped_steps_per_sec: f64,
    /// Whether the cube was still held at the end of that measurement, and the contact count.
    pub grasped: GraspedCase,
    /// mj_step/s, arm moving, every upstream collision mesh on.
    pub free_arm_all_meshes_steps_per_sec: Option<f64>,
    /// mj_step/s, cube held, every upstream collision mesh on.
    pub grasped_all_meshes_steps_per_sec: Option<f64>,
    /// Held flag and contacts of that measurement.
    pub grasped_all_meshes: Option<GraspedCase>,
    /// Wall time of one full scripted pick (above -> hold 3 s), seconds.
    pub pick_secs: f64,
    /// Simulated time of that pick, seconds.
    pub pick_sim_secs: f64,
}

impl fmt::Display for PhysicsBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:>10.0}"));
        writeln!(
            f,
            "physics benchmark ({} s simulated per case, 1 thread)",
            self.sim_secs
        )?;
        writeln!(f, "                       lean collision   all link meshes")?;
        writeln!(
            f,
            "  arm moving freely    {:>10.0} /s    {} /s",
            self.free_arm_steps_per_sec,
            opt(self.free_arm_all_meshes_steps_per_sec)
        )?;
        writeln!(
            f,
            "  cube grasped         {:>10.0} /s    {} /s",
            self.grasped_steps_per_sec,
            opt(self.grasped_all_meshes_steps_per_sec)
        )?;
        let case = |c: Option<GraspedCase>| {
            c.map_or("n/a".to_owned(), |c| {
                format!(
                    "{} ({} contacts)",
                    if c.held { "held" } else { "NOT held" },
                    c.contacts
                )
            })
        };
        writeln!(
            f,
            "    grasp at the end   {:<16} {}",
            case(Some(self.grasped)),
            case(self.grasped_all_meshes)
        )?;
        write!(
            f,
            "  one scripted pick    {:.3} s wall for {:.1} s simulated ({:.0}x real time)",
            self.pick_secs,
            self.pick_sim_secs,
            self.pick_sim_secs / self.pick_secs.max(1e-9)
        )
    }
}

/// What the grasped measurement actually measured.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GraspedCase {
    /// Both pads on the cube at the end.
    pub held: bool,
    /// Active contacts at the end.
    pub contacts: usize,
}

/// Steps/s with the arm swinging through sinusoidal servo targets, cube out of reach.
pub fn free_arm_rate(scene: &BuiltScene, sim_secs: f64) -> f64 {
    let mut sim = Sim::new(scene.clone());
    sim.set_cube_pose([0.25, 0.25, scene.config.cube.size_m / 2.0], 0.0);
    let dt = sim.timestep();
    let steps = (sim_secs / dt).max(1.0) as usize;
    let start = Instant::now();
    for i in 0..steps {
        if i % 10 == 0 {
            let t = i as f64 * dt;
            let s = (t * 1.5).sin();
            sim.set_controls(&[
                0.6 * s,
                0.5 * s - 0.3,
                0.6 * s + 0.3,
                0.8 * s,
                1.2 * s,
                0.5 + 0.4 * s,
            ]);
        }
        sim.step();
    }
    steps as f64 / start.elapsed().as_secs_f64()
}

/// Steps/s holding the cube in the air after a scripted pick (controller frozen at hold).
pub fn grasped_rate(scene: &BuiltScene, pick: &PickConfig, sim_secs: f64) -> (f64, GraspedCase) {
    let mut run = PickRun::start(scene, pick, placement_for_seed(0, 0.0));
    while run.pick.phase() != PickPhase::Hold && !run.is_finished() {
        run.advance();
    }
    let dt = run.sim.timestep();
    let steps = (sim_secs / dt).max(1.0) as usize;
    let start = Instant::now();
    run.sim.step_n(steps);
    let rate = steps as f64 / start.elapsed().as_secs_f64();
    let g = run.sim.grasp_state();
    let case = GraspedCase {
        held: g.static_pad_contact && g.moving_pad_contact,
        contacts: run.sim.data().contact().len(),
    };
    (rate, case)
}

/// Runs every measurement.
pub fn physics(scene: &BuiltScene, pick: &PickConfig, sim_secs: f64) -> PhysicsBench {
    let free = free_arm_rate(scene, sim_secs);
    let (grasped_lean, grasped) = grasped_rate(scene, pick, sim_secs);
    let all = all_meshes_scene(scene);
    let all_free = all.as_ref().map(|s| free_arm_rate(s, sim_secs));
    let all_grasped = all.as_ref().map(|s| grasped_rate(s, pick, sim_secs));
    let start = Instant::now();
    let outcome = crate::pick::run_pick(scene, pick, 0, 0.0);
    let pick_secs = start.elapsed().as_secs_f64();
    PhysicsBench {
        sim_secs,
        free_arm_steps_per_sec: free,
        grasped_steps_per_sec: grasped_lean,
        grasped,
        free_arm_all_meshes_steps_per_sec: all_free,
        grasped_all_meshes_steps_per_sec: all_grasped.map(|g| g.0),
        grasped_all_meshes: all_grasped.map(|g| g.1),
        pick_secs,
        pick_sim_secs: outcome.steps as f64 * scene.model.opt().timestep,
    }
}

/// The same scene with the published collision set (see [`all_meshes`]).
fn all_meshes_scene(scene: &BuiltScene) -> Option<BuiltScene> {
    let mut cfg = scene.config.clone();
    cfg.collision = all_meshes(&scene.config);
    crate::scene::build(&cfg).ok()
}

/// Every upstream collision mesh on, no replacement boxes: the model as published.
fn all_meshes(config: &SceneConfig) -> crate::config::CollisionConfig {
    let mut c = config.collision.clone();
    c.mesh_bodies = crate::scene::names::ALL_ROBOT_BODIES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    c.boxes.clear();
    c
}
