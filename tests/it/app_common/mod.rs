//! Helpers of the headless app tests.
#![allow(dead_code, reason = "each test module uses a different subset")]

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use clap::Parser;
use so101_lab::app::sim_plugin::{apply_sim_commands, publish_snapshot, step_sim};
use so101_lab::app::state::{
    LatestSnapshot, LoadedScene, SimCommand, SimCommandQueue, SimResource,
};
use so101_lab::app::{ViewArgs, headless_app};
use so101_lab::config::{SceneConfig, default_configs_dir};

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    view: ViewArgs,
}

/// A headless app (no window) from a whole `view` command line.
pub fn app_from(args: &[&str]) -> App {
    headless_app(&Wrapper::parse_from(args).view).expect("headless app builds")
}

/// A headless app (no window), paused, the arm held; `extra` are more `view` arguments.
pub fn app(extra: &[&str]) -> App {
    let args = ["view", "--driver", "hold", "--paused"]
        .iter()
        .chain(extra)
        .copied();
    let view = Wrapper::parse_from(args).view;
    headless_app(&view).expect("headless app builds")
}

/// One fixed step: commands, physics, publish.
pub fn fixed_step(app: &mut App) {
    let w = app.world_mut();
    w.run_system_once(apply_sim_commands).expect("apply");
    w.run_system_once(step_sim).expect("step");
    w.run_system_once(publish_snapshot).expect("publish");
}

/// Queues a command for the next fixed step.
pub fn push(app: &mut App, cmd: SimCommand) {
    app.world_mut().resource_mut::<SimCommandQueue>().push(cmd);
}

/// The TCP (gripperframe) in the latest snapshot.
pub fn tcp(app: &App) -> [f64; 3] {
    let loaded = app.world().resource::<LoadedScene>();
    app.world()
        .resource::<LatestSnapshot>()
        .0
        .site(loaded.handles.gripperframe_site)
        .expect("tcp site")
}

/// The arm's joint positions in the running session.
pub fn joints(app: &App) -> [f64; 6] {
    app.world()
        .resource::<SimResource>()
        .session
        .env()
        .sim()
        .joint_positions()
}

/// Records `steps` live steps of the scripted pick (assisted task) into a fresh folder.
pub fn record_episode(steps: usize) -> std::path::PathBuf {
    use so101_lab::session::{Driver, LiveSession};
    use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};
    let cfg = default_configs_dir();
    let scene =
        so101_lab::scene::build(&SceneConfig::load(&cfg.join("scene.toml")).expect("scene"))
            .expect("builds");
    let task = TaskConfig::load(&cfg.join("task_assisted.toml")).expect("task");
    let reward = RewardConfig::load(&cfg.join("rewards/v11.toml")).expect("reward");
    let mut session = LiveSession::new(TaskEnv::new(scene, task, reward), 11);
    session.driver = Driver::Scripted(so101_lab::scripted::CartesianPlacePolicy::new());
    let dir = std::env::temp_dir().join(format!("so101-app-replay-{}-{steps}", std::process::id()));
    session
        .start_recording(&dir, "scripted")
        .expect("recording starts");
    for _ in 0..steps {
        session.step();
    }
    session.stop_recording().expect("recording stops");
    session
        .recorded
        .last()
        .cloned()
        .expect("a file was written")
}

pub fn timeline(app: &mut App, cmd: so101_lab::app::state::TimelineCommand) {
    use so101_lab::app::replay::apply_timeline_commands;
    use so101_lab::app::state::TimelineQueue;
    app.world_mut().resource_mut::<TimelineQueue>().0.push(cmd);
    let w = app.world_mut();
    w.run_system_once(apply_timeline_commands)
        .expect("timeline");
    app.update();
}
