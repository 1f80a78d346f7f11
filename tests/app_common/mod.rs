//! Helpers of the headless app tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use clap::Parser;
use so101_lab::app::sim_plugin::{apply_sim_commands, publish_snapshot, step_sim};
use so101_lab::app::state::{
    LatestSnapshot, LoadedScene, SimCommand, SimCommandQueue, SimResource,
};
use so101_lab::app::{ViewArgs, headless_app};

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
