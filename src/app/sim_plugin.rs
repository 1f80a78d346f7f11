//! `SimPlugin`: owns the live session (the only MuJoCo state in the app) and advances it on
//! `FixedUpdate` at the env's control rate, independent of the frame rate. Everything else
//! reads the published [`LatestSnapshot`] and talks back through [`SimCommandQueue`].

use std::path::PathBuf;
use std::time::Instant;

use bevy::prelude::*;

use super::state::{
    AppMessages, DriverKind, LatestSnapshot, LoadedScene, PreviousSnapshot, SPEEDS, SimClock,
    SimCommand, SimCommandQueue, SimResource, SimSystems,
};
use crate::config::SceneConfig;
use crate::scripted::CartesianPlacePolicy;
use crate::session::{Driver, LiveSession};
use crate::task::TaskEnv;

/// Runs the simulation at its own fixed rate.
pub struct SimPlugin {
    /// The initial session.
    pub session: std::sync::Mutex<Option<(LiveSession, Option<PathBuf>)>>,
    /// Problems found while starting (shown in the window).
    pub start_errors: std::sync::Mutex<Vec<String>>,
    /// Start paused.
    pub start_paused: bool,
}

impl Plugin for SimPlugin {
    fn build(&self, app: &mut App) {
        let Some((session, path)) = self.session.lock().ok().and_then(|mut s| s.take()) else {
            return;
        };
        let period = session.env().control_dt();
        let loaded = LoadedScene::of(session.env().sim().scene(), path, 0);
        let snap = session.snapshot();
        let mut messages = AppMessages::default();
        for e in self
            .start_errors
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
        {
            messages.error(e);
        }
        app.insert_resource(Time::<Fixed>::from_seconds(period))
            .insert_resource(SimResource {
                session,
                parked_policy: None,
            })
            .insert_resource(loaded)
            .insert_resource(LatestSnapshot(snap.clone()))
            .insert_resource(PreviousSnapshot(snap))
            .init_resource::<SimCommandQueue>()
            .insert_resource(SimClock {
                is_paused: self.start_paused,
                ..SimClock::default()
            })
            .insert_resource(messages)
            .configure_sets(
                FixedUpdate,
                (
                    SimSystems::ApplyCommands,
                    SimSystems::Step,
                    SimSystems::Publish,
                )
                    .chain(),
            )
            .add_systems(
                FixedUpdate,
                (
                    apply_sim_commands.in_set(SimSystems::ApplyCommands),
                    step_sim.in_set(SimSystems::Step),
                    publish_snapshot.in_set(SimSystems::Publish),
                ),
            )
            .add_systems(Update, apply_speed);
    }
}

/// Applies queued commands; also runs from tests without a fixed schedule.
pub fn apply_sim_commands(
    mut queue: ResMut<SimCommandQueue>,
    mut sim: ResMut<SimResource>,
    mut clock: ResMut<SimClock>,
    mut loaded: ResMut<LoadedScene>,
    mut messages: ResMut<AppMessages>,
    dir: Option<Res<super::state::RecordingsDir>>,
) {
    for cmd in std::mem::take(&mut queue.0) {
        match cmd {
            SimCommand::SetPaused(p) => clock.is_paused = p,
            SimCommand::TogglePause => clock.is_paused = !clock.is_paused,
            SimCommand::StepOnce => {
                clock.is_paused = true;
                clock.pending_steps += 1;
            }
            SimCommand::SetSpeed(s) => clock.speed = s.clamp(SPEEDS[0], SPEEDS[SPEEDS.len() - 1]),
            SimCommand::Reset(seed) => {
                let seed = seed.unwrap_or(sim.session.seed());
                sim.session.reset(seed);
            }
            SimCommand::ResetWithCube { seed, placement } => {
                sim.session.reset_at(seed, Some(placement));
            }
            SimCommand::LoadScene(path) => {
                match SceneConfig::load(&path) {
                    Ok(cfg) => rebuild(&mut sim, &mut loaded, &mut messages, cfg, Some(path)),
                    Err(e) => messages.error(format!(
                        "could not load {}: {e}; keeping the current scene",
                        path.display()
                    )),
                };
            }
            SimCommand::ApplySceneConfig(cfg) => {
                let path = loaded.path.clone();
                rebuild(&mut sim, &mut loaded, &mut messages, *cfg, path);
            }
            SimCommand::SetDriver(kind) => set_driver(&mut sim, kind),
            SimCommand::Teleop { target, gripper } => {
                park_policy(&mut sim);
                sim.session.driver = Driver::Teleop { target, gripper };
            }
            SimCommand::Perturb(p) => sim.session.set_perturb(p),
            SimCommand::SetSampled(on) => {
                let r = &mut *sim;
                for d in [Some(&mut r.session.driver), r.parked_policy.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    if let Driver::Policy { sampled, .. } = d {
                        *sampled = on;
                    }
                }
            }
            SimCommand::LoadPolicy(path) => load_policy(&mut sim, &mut messages, &path),
            SimCommand::JogJoints(targets) => {
                park_policy(&mut sim);
                sim.session.driver = Driver::Joints { targets };
            }
            SimCommand::SetRecording(on) => {
                let dir = dir
                    .as_ref()
                    .map_or_else(|| std::path::PathBuf::from("recordings"), |d| d.0.clone());
                let label = sim.session.driver.name().replace(' ', "_");
                let result = if on {
                    sim.session.start_recording(&dir, &label)
                } else {
                    sim.session.stop_recording()
                };
                match result {
                    Ok(()) if on => messages.info(format!("recording into {}", dir.display())),
                    Ok(()) => {
                        if let Some(p) = sim.session.recorded.last() {
                            messages.info(format!("last recording: {}", p.display()));
                        }
                    }
                    Err(e) => messages.error(format!("recording: {e}")),
                }
            }
        }
    }
}

fn load_policy(sim: &mut SimResource, messages: &mut AppMessages, path: &std::path::Path) {
    let dim = sim.session.env().observation_space().dim();
    let loaded = crate::session::LoadedPolicy::load(path, dim).and_then(|p| {
        check_policy_fits(&p, sim.session.env(), path)?;
        Ok(p)
    });
    match loaded {
        Ok(p) => {
            sim.parked_policy = None;
            sim.session.driver = Driver::policy(p, false);
            messages.info(format!("policy {} drives the arm", path.display()));
        }
        Err(e) => messages.error(format!("{e}; keeping the current driver")),
    }
}

/// Errors unless `policy` reads exactly what `env` provides: the state layout, and for pixel
/// policies the image layout (a pixel policy needs a task that renders its images: open the app
/// with it as `--policy` to get its own task).
pub fn check_policy_fits(
    policy: &crate::session::LoadedPolicy,
    env: &crate::task::TaskEnv,
    path: &std::path::Path,
) -> Result<(), crate::rl::policy::PolicyError> {
    use crate::session::LoadedPolicy;
    let names = &env.observation_space().names;
    match policy {
        LoadedPolicy::Native(p) => p.check_layout(names, path),
        LoadedPolicy::Pixel(p) => {
            p.check_layout(names, path)?;
            if env.image_spec() == p.meta.image {
                Ok(())
            } else {
                Err(crate::rl::policy::PolicyError::Invalid {
                    path: path.to_owned(),
                    message: "this policy sees images the current task does not render; open the \
                              app with it as --policy to use its own task"
                        .into(),
                })
            }
        }
        _ => Ok(()),
    }
}

/// Moves a policy driver aside (kept for later), leaving `Hold`.
fn park_policy(sim: &mut SimResource) {
    let current = std::mem::replace(&mut sim.session.driver, Driver::Hold);
    if matches!(current, Driver::Policy { .. }) {
        sim.parked_policy = Some(current);
    }
}

fn set_driver(sim: &mut SimResource, kind: DriverKind) {
    park_policy(sim);
    sim.session.driver = match kind {
        DriverKind::Hold => Driver::Hold,
        DriverKind::Scripted => Driver::Scripted(CartesianPlacePolicy::new()),
        DriverKind::Policy => sim.parked_policy.take().unwrap_or(Driver::Hold),
    };
}

/// Rebuilds the scene from `cfg`; the running state carries over when the new model has the same
/// state size. On failure the current scene stays and the error is reported.
fn rebuild(
    sim: &mut SimResource,
    loaded: &mut LoadedScene,
    messages: &mut AppMessages,
    cfg: SceneConfig,
    path: Option<PathBuf>,
) {
    let label = path.as_ref().map_or_else(
        || "the edited scene".to_owned(),
        |p| p.display().to_string(),
    );
    let scene = match crate::scene::build(&cfg) {
        Ok(s) => s,
        Err(e) => {
            messages.error(format!(
                "scene {label} does not build: {e}; keeping the current scene"
            ));
            return;
        }
    };
    let old = sim.session.env();
    let state = old.sim().save_state();
    let controller = old.controller_state();
    let env = TaskEnv::new(scene, old.task().clone(), old.reward_config().clone());
    let seed = sim.session.seed();
    let driver = std::mem::replace(&mut sim.session.driver, Driver::Hold);
    let mut session = LiveSession::new(env, seed);
    session.driver = driver;
    session.stats = sim.session.stats;
    if let Err(e) = session.restore(&state, &controller) {
        messages.info(format!(
            "state not carried over ({e}); started a fresh episode"
        ));
    }
    *loaded = LoadedScene::of(session.env().sim().scene(), path, loaded.generation + 1);
    sim.session = session;
    messages.info(format!("loaded {label}"));
}

/// Advances one env step per fixed tick (or the requested single steps while paused).
pub fn step_sim(mut sim: ResMut<SimResource>, mut clock: ResMut<SimClock>) {
    if clock.replaying {
        return;
    }
    let steps = if clock.is_paused {
        std::mem::take(&mut clock.pending_steps)
    } else {
        1
    };
    for _ in 0..steps {
        sim.session.step();
        clock.steps += 1;
    }
}

/// Publishes the state after the step; measures the real-time factor.
pub fn publish_snapshot(
    sim: Res<SimResource>,
    mut latest: ResMut<LatestSnapshot>,
    mut previous: ResMut<PreviousSnapshot>,
    mut clock: ResMut<SimClock>,
) {
    if clock.replaying {
        return;
    }
    let snap = sim.session.snapshot();
    previous.0 = std::mem::replace(&mut latest.0, snap);
    let now = Instant::now();
    let t = latest.0.time;
    match clock.window_start {
        Some((start, t0)) if now.duration_since(start).as_secs_f64() >= 0.5 => {
            let dt = now.duration_since(start).as_secs_f64();
            // A reset jumps sim time back: that window says nothing, keep the last value.
            if t >= t0 {
                clock.real_time_factor = (t - t0) / dt;
            }
            clock.window_start = Some((now, t));
        }
        None => clock.window_start = Some((now, t)),
        _ => {}
    }
}

fn apply_speed(clock: Res<SimClock>, mut time: ResMut<Time<Virtual>>) {
    if clock.is_changed() && (time.relative_speed_f64() - clock.speed).abs() > 1e-12 {
        time.set_relative_speed_f64(clock.speed);
    }
}
