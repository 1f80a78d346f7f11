//! The simulation's shared state: the live session, the loaded scene, the latest snapshot, the
//! clock, messages, and the command queue every plugin talks to the simulation through.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bevy::prelude::*;

use crate::config::SceneConfig;
use crate::scene::visual::SceneVisuals;
use crate::scene::{BuiltScene, SceneHandles};
use crate::session::{Driver, LiveSession};
use crate::sim::SimSnapshot;

/// Requests to the simulation, applied at the start of the next fixed step.
#[derive(Debug, Clone, PartialEq)]
pub enum SimCommand {
    /// Pause or run.
    SetPaused(bool),
    /// Flip pause.
    TogglePause,
    /// Advance one env step while paused.
    StepOnce,
    /// Simulation speed relative to real time (1/16 .. 4).
    SetSpeed(f64),
    /// Start an episode; `None` re-uses the current seed.
    Reset(Option<u64>),
    /// Start episode `seed` with the cube at (x, y, yaw radians).
    ResetWithCube {
        /// Seed for everything else.
        seed: u64,
        /// x, y (metres) and yaw (radians).
        placement: [f64; 3],
    },
    /// Rebuild the scene from a config file, keeping the state when it fits.
    LoadScene(PathBuf),
    /// Rebuild the scene from an edited config, keeping the state.
    ApplySceneConfig(Box<SceneConfig>),
    /// Hand the arm to nobody (hold), the scripted pick, or the loaded policy.
    SetDriver(DriverKind),
    /// Start or stop recording the live session (one episode file per episode).
    SetRecording(bool),
    /// Teleoperate: drive the TCP toward `target` (world, metres) with gripper action `gripper`.
    Teleop {
        /// TCP goal.
        target: [f64; 3],
        /// Gripper action, -1 closed .. 1 open.
        gripper: f64,
    },
    /// Jog by joint: servo targets, `ALL_JOINTS` order, radians.
    JogJoints([f64; 6]),
    /// Pull the cube with a mouse spring (`None` lets go).
    Perturb(Option<crate::session::Perturb>),
    /// Sample policy actions from the Gaussian (true) or take its mean.
    SetSampled(bool),
    /// Load a policy file (ours or TorchScript) and let it drive.
    LoadPolicy(PathBuf),
}

/// Which driver [`SimCommand::SetDriver`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    /// Hold the arm.
    Hold,
    /// Scripted top-down pick.
    Scripted,
    /// The loaded policy (ignored when none is loaded).
    Policy,
}

/// The speeds the UI offers, slowest first.
pub const SPEEDS: [f64; 7] = [1.0 / 16.0, 1.0 / 8.0, 1.0 / 4.0, 1.0 / 2.0, 1.0, 2.0, 4.0];

/// Commands queued since the last fixed step.
#[derive(Resource, Debug, Default)]
pub struct SimCommandQueue(pub Vec<SimCommand>);

impl SimCommandQueue {
    /// Queues a command.
    pub fn push(&mut self, cmd: SimCommand) {
        self.0.push(cmd);
    }
}

/// The live session and what it was built from.
#[derive(Resource)]
pub struct SimResource {
    /// The session.
    pub session: LiveSession,
    /// A policy parked while another driver holds the arm.
    pub parked_policy: Option<Driver>,
}

/// The scene the view shows: its visuals, handles and config; `generation` changes on rebuild.
#[derive(Resource, Clone)]
pub struct LoadedScene {
    /// What to draw.
    pub visuals: Arc<SceneVisuals>,
    /// Name handles.
    pub handles: SceneHandles,
    /// The config it was built from.
    pub config: SceneConfig,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// Bumped on every rebuild.
    pub generation: u64,
    /// Per mesh id (the order of `visuals.meshes`): the observation renderer's decimated mesh,
    /// the very one it draws for its default image input ([`lod_mesh_error_m`]), shared with it.
    /// The view draws these with `--meshes lod` (and `auto` on a software adapter).
    pub lod_meshes: Arc<Vec<Arc<crate::render::RenderMesh>>>,
}

/// The simplification error of the view's decimated meshes, metres: the observation renderer's
/// own for the default image input (84x84; 0.28 mm, ~20k triangles instead of ~400k).
pub fn lod_mesh_error_m() -> f64 {
    crate::task::ImageObsConfig::default().render_mesh_error_m()
}

impl LoadedScene {
    /// The visual description of `scene`.
    pub fn of(scene: &BuiltScene, path: Option<PathBuf>, generation: u64) -> Self {
        let visuals = SceneVisuals::extract(&scene.model);
        let error = lod_mesh_error_m();
        let lod_meshes: Vec<_> = (0..visuals.meshes.len())
            .map(|m| crate::render::render_mesh(&scene.model, m, error))
            .collect();
        Self {
            visuals: Arc::new(visuals),
            lod_meshes: Arc::new(lod_meshes),
            handles: scene.handles.clone(),
            config: scene.config.clone(),
            path,
            generation,
        }
    }

    /// Triangles of the scene's MuJoCo mesh geoms (a mesh used twice counts twice), full or
    /// decimated ([`LoadedScene::lod_meshes`]).
    pub fn mesh_triangles(&self, lod: bool) -> usize {
        if !lod {
            return self.visuals.mesh_triangles();
        }
        self.visuals
            .geoms
            .iter()
            .filter_map(|g| match g.shape {
                crate::scene::visual::GeomShape::Mesh { mesh } => {
                    self.lod_meshes.get(mesh).map(|m| m.triangles())
                }
                _ => None,
            })
            .sum()
    }
}

/// The newest published state.
#[derive(Resource, Debug, Clone, Default)]
pub struct LatestSnapshot(pub SimSnapshot);

/// The state published one fixed step earlier (for interpolation).
#[derive(Resource, Debug, Clone, Default)]
pub struct PreviousSnapshot(pub SimSnapshot);

/// Pause, speed and timing of the simulation.
#[derive(Resource, Debug, Clone)]
pub struct SimClock {
    /// Whether physics is paused.
    pub is_paused: bool,
    /// Speed relative to real time.
    pub speed: f64,
    /// Env steps requested while paused.
    pub pending_steps: u32,
    /// Env steps taken since start.
    pub steps: u64,
    /// Simulated seconds per real second, measured over the last half second.
    pub real_time_factor: f64,
    /// A replay owns the view: live physics neither steps nor publishes.
    pub replaying: bool,
    pub(crate) window_start: Option<(Instant, f64)>,
}

impl Default for SimClock {
    fn default() -> Self {
        Self {
            is_paused: false,
            speed: 1.0,
            pending_steps: 0,
            steps: 0,
            real_time_factor: 0.0,
            replaying: false,
            window_start: None,
        }
    }
}

/// Errors and notices for the user: shown in the window and printed once to stderr.
#[derive(Resource, Debug, Default)]
pub struct AppMessages {
    /// (message, is_error), newest last.
    pub items: Vec<(String, bool)>,
}

impl AppMessages {
    /// Records an error (also printed to stderr).
    pub fn error(&mut self, message: impl Into<String>) {
        let m = message.into();
        eprintln!("error: {m}");
        self.items.push((m, true));
    }

    /// Records a notice.
    pub fn info(&mut self, message: impl Into<String>) {
        self.items.push((message.into(), false));
    }
}

/// The stages of a fixed step.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum SimSystems {
    /// Drain the command queue.
    ApplyCommands,
    /// Advance physics.
    Step,
    /// Publish the snapshot.
    Publish,
}
