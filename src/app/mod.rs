//! The Bevy app (`so101-lab view`): one plugin per feature, wired in [`So101LabPlugins`].
//!
//! Pipeline of a frame: `FixedUpdate` applies [`SimCommand`]s, steps the live
//! session at the env's control rate and publishes a snapshot; `Update` moves the rendered
//! geoms to it (interpolated) and draws overlays; `EguiPrimaryContextPass` draws the shell,
//! which pushes commands for the next fixed step. Nothing outside `SimPlugin` touches MuJoCo.
//!
//! Plugins depend on the shared state types in [`state`] (and on the core library), never on
//! each other; the shell (`ui`) draws every panel from that state. `scene_render` and
//! `materials` are the drawing layer the view plugins build on.

pub mod bench;
pub mod calibration;
pub mod cameras;
pub mod capture;
pub mod follow_view;
pub mod ghost;
pub mod materials;
pub mod overlays;
pub mod picking;
pub mod policy_plots;
pub mod policy_view;
pub mod replay;
pub mod scene_render;
pub mod shortcuts;
pub mod sim_plugin;
pub mod soft_render;
pub mod state;
pub mod teleop;
pub mod triage;
pub mod ui;

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use bevy::app::PluginGroupBuilder;
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::window::WindowResolution;
use bevy_egui::{EguiGlobalSettings, EguiPlugin};

use crate::config::{SceneConfig, default_configs_dir};
use crate::session::{Driver, LiveSession, LoadedPolicy};
use crate::task::{TaskConfig, TaskEnv};
use state::{CameraSettings, GroupVisibility, OpenPanels, OverlaySettings, PlotHistory, ViewMode};

/// Who drives the arm when the app opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StartDriver {
    /// Hold the arm still.
    Hold,
    /// The scripted top-down pick.
    Scripted,
    /// The loaded policy (the bundled one by default).
    Policy,
}

/// `so101-lab view` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewArgs {
    /// Scene config file (default: configs/scene.toml).
    #[arg(long, value_name = "CONFIG")]
    pub scene: Option<PathBuf>,
    /// Task config (default: configs/task.toml, or the one recorded in the policy).
    #[arg(long, value_name = "CONFIG")]
    pub task: Option<PathBuf>,
    /// Reward config (default: configs/rewards/v11.toml, or the policy's).
    #[arg(long, value_name = "CONFIG")]
    pub reward: Option<PathBuf>,
    /// Policy file (ours or TorchScript); default: the bundled policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Who drives the arm at start.
    #[arg(long, value_enum, default_value = "policy")]
    pub driver: StartDriver,
    /// Episode seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Main view: an MJCF camera name (front, side, top, wrist), `free`, or `track-cube` /
    /// `track-gripper`.
    #[arg(long, default_value = "free")]
    pub camera: String,
    /// Picture-in-picture MJCF camera, or `none`.
    #[arg(long, default_value = "wrist")]
    pub pip: String,
    /// Start paused.
    #[arg(long)]
    pub paused: bool,
    /// Start in x-ray mode.
    #[arg(long)]
    pub xray: bool,
    /// Hide the panels (3D view and overlays only).
    #[arg(long)]
    pub no_ui: bool,
    /// Open the policy view (what the policy receives: images and state) at start.
    #[arg(long)]
    pub policy_view: bool,
    /// Window size in logical pixels, WIDTHxHEIGHT (shrunk to fit the screen when larger).
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Episode file to open on the timeline.
    #[arg(long, value_name = "FILE")]
    pub episode: Option<PathBuf>,
    /// Open the TCP and camera calibration window at start.
    #[arg(long)]
    pub calibration: bool,
    /// A LeRobot SO-101 dataset: the arm follows one of its episodes' joint positions through
    /// the servos, with the tracking error plotted (`episode import-lerobot` in the app).
    #[arg(long, value_name = "DATASET")]
    pub lerobot: Option<PathBuf>,
    /// Which episode of `--lerobot`.
    #[arg(long, default_value_t = 0, requires = "lerobot")]
    pub lerobot_episode: usize,
    /// Folder of episodes to open in the failure-triage table (e.g. from `eval --record`).
    #[arg(long, value_name = "DIR")]
    pub triage: Option<PathBuf>,
    /// Folder for live recordings, branches and exported videos.
    #[arg(long, value_name = "DIR", default_value = "recordings")]
    pub record_dir: PathBuf,
    /// Render, write this PNG and exit.
    #[arg(long, value_name = "OUT.png")]
    pub screenshot: Option<PathBuf>,
    /// Frames to render before the screenshot is taken.
    #[arg(long, default_value_t = 10)]
    pub frames: u32,
    /// Meshes of MuJoCo mesh geoms: `full`, `lod` (the observation renderer's decimated meshes,
    /// ~20x fewer triangles), or `auto` (lod on a software render adapter such as llvmpipe, full
    /// on a GPU). L (or View > Decimated meshes) switches while running.
    #[arg(long, value_enum, default_value = "auto")]
    pub meshes: state::MeshDetail,
    /// Settings for a software render adapter: the picture-in-picture drawn every third frame,
    /// and a cheaper UI shader. `auto` applies them on a software adapter such as llvmpipe only;
    /// `on` and `off` force them, to compare.
    #[arg(long, value_enum, default_value = "auto")]
    pub soft_render: soft_render::SoftRender,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("'{s}' is not WIDTHxHEIGHT"))?;
    let p = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (64..=8192).contains(n))
            .ok_or_else(|| format!("'{v}' is not a size between 64 and 8192"))
    };
    Ok((p(w)?, p(h)?))
}

/// What the app starts with, resolved from [`ViewArgs`] before any window opens.
pub struct StartState {
    session: LiveSession,
    scene_path: Option<PathBuf>,
    startup_errors: Vec<String>,
    camera: CameraSettings,
}

/// The bundled policy for a task: the place policy for tasks with a target, else the lift one.
fn bundled_policy(task: &TaskConfig) -> PathBuf {
    let name = if task.target.is_some() {
        "place_sac.safetensors"
    } else {
        "lift_sac.safetensors"
    };
    crate::paths::data_file("assets/policies").join(name)
}

/// Builds the session: scene (falling back to the default with an error shown when the chosen
/// one does not load), task and reward (the policy's recorded ones when a policy drives).
pub fn start_state(args: &ViewArgs) -> anyhow::Result<StartState> {
    let mut errors = Vec::new();
    let default_scene = default_configs_dir().join("scene.toml");
    let chosen = args.scene.clone().unwrap_or(default_scene.clone());
    let (scene, scene_path) = match SceneConfig::load(&chosen)
        .map_err(anyhow::Error::from)
        .and_then(|c| crate::scene::build(&c).map_err(anyhow::Error::from))
    {
        Ok(s) => (s, Some(chosen)),
        Err(e) => {
            errors.push(format!(
                "scene {} could not be loaded: {e:#}; showing the default scene",
                chosen.display()
            ));
            let cfg = SceneConfig::load(&default_scene)?;
            (
                crate::scene::build(&cfg).context("building the default scene")?,
                Some(default_scene),
            )
        }
    };
    let mut policy = None;
    let task_path = args
        .task
        .clone()
        .unwrap_or_else(|| default_configs_dir().join("task.toml"));
    let mut task = TaskConfig::load(&task_path)?;
    let reward_path = task.reward_path_or_default(args.reward.as_deref(), &task_path);
    let mut reward = crate::task::load_reward_for(&task, &reward_path)?;
    if args.driver == StartDriver::Policy || args.policy.is_some() {
        let path = args.policy.clone().unwrap_or_else(|| bundled_policy(&task));
        let probe = TaskEnv::new(scene.clone(), task.clone(), reward.clone());
        match LoadedPolicy::load(&path, probe.observation_space().dim()) {
            Ok(p) => {
                let recorded = match &p {
                    LoadedPolicy::Native(native) => Some(&native.meta.config),
                    LoadedPolicy::Pixel(pixel) => Some(&pixel.meta.config),
                    _ => None,
                };
                if let (Some(rec), None, None) = (recorded, &args.task, &args.reward) {
                    task = toml::from_str(&rec.task_toml).context("the policy's recorded task")?;
                    reward =
                        toml::from_str(&rec.reward_toml).context("the policy's recorded reward")?;
                }
                policy = Some(p);
            }
            Err(e) => errors.push(format!("policy {} not loaded: {e}", path.display())),
        }
    }
    let env = TaskEnv::new(scene, task, reward);
    let mut session = LiveSession::new(env, args.seed);
    if let (Some(p), Some(path)) = (&policy, &args.policy)
        && let Err(e) = sim_plugin::check_policy_fits(p, session.env(), path)
    {
        errors.push(e.to_string());
        policy = None;
    }
    let policy_driver = policy.map(|p| Driver::policy(p, false));
    session.driver = match args.driver {
        StartDriver::Hold => Driver::Hold,
        StartDriver::Scripted => Driver::Scripted(crate::scripted::CartesianPlacePolicy::new()),
        StartDriver::Policy => policy_driver.unwrap_or(Driver::Hold),
    };
    if let Some(dataset) = &args.lerobot {
        match follow_lerobot(dataset, args.lerobot_episode, session.env()) {
            Ok(follow) => session.follow(follow),
            Err(e) => errors.push(format!("LeRobot episode not loaded: {e}")),
        }
    }
    let camera = camera_settings(args, &session, &mut errors);
    Ok(StartState {
        session,
        scene_path,
        startup_errors: errors,
        camera,
    })
}

/// Episode `k` of a LeRobot dataset (arm joints in degrees) as a driver at `env`'s control rate.
fn follow_lerobot(
    dataset: &std::path::Path,
    k: usize,
    env: &TaskEnv,
) -> Result<crate::session::Follow, crate::episode::lerobot::LeRobotError> {
    use crate::episode::lerobot;
    let units = lerobot::LeRobotUnits::of(env.sim(), lerobot::ArmUnits::Degrees);
    let python = lerobot::default_python();
    let ep = lerobot::episode_targets(dataset, k, &python, &units, env.control_dt())?;
    let source = format!(
        "{} episode {k} ({} frames at {} fps)",
        dataset.display(),
        ep.recorded.state.len(),
        ep.recorded.fps
    );
    Ok(crate::session::Follow::new(ep.start, ep.targets, source))
}

fn camera_settings(
    args: &ViewArgs,
    session: &LiveSession,
    errors: &mut Vec<String>,
) -> CameraSettings {
    let h = session.env().sim().handles();
    let model = session.env().sim().model();
    let cam = |name: &str| model.name_to_id(mujoco_rs::prelude::MjtObjBase::mjOBJ_CAMERA, name);
    let mode = match args.camera.as_str() {
        "free" => ViewMode::Free,
        "track-cube" => ViewMode::Track(h.cube_body),
        "track-gripper" => ViewMode::Track(h.gripper_body),
        name => match cam(name) {
            Some(id) => ViewMode::Mjcf(id),
            None => {
                errors.push(format!("no camera named '{name}'; using the free camera"));
                ViewMode::Free
            }
        },
    };
    let pip = match args.pip.as_str() {
        "none" | "off" => None,
        name => cam(name).or_else(|| {
            errors.push(format!("no camera named '{name}' for picture-in-picture"));
            None
        }),
    };
    CameraSettings {
        mode,
        pip,
        ..Default::default()
    }
}

/// Every so101-lab plugin, in dependency order.
pub struct So101LabPlugins {
    start: Mutex<Option<StartState>>,
    args: ViewArgs,
}

impl PluginGroup for So101LabPlugins {
    fn build(self) -> PluginGroupBuilder {
        let start = self.start.lock().ok().and_then(|mut s| s.take());
        let (session, camera, errors) = match start {
            Some(s) => (Some((s.session, s.scene_path)), s.camera, s.startup_errors),
            None => (None, CameraSettings::default(), Vec::new()),
        };
        let overlays = OverlaySettings {
            xray: self.args.xray,
            ..default()
        };
        let panels = OpenPanels {
            shell: !self.args.no_ui,
            policy_view: self.args.policy_view,
            triage: self.args.triage.is_some(),
            calibration: self.args.calibration,
            seed_text: self.args.seed.to_string(),
            ..default()
        };
        PluginGroupBuilder::start::<Self>()
            .add(materials::MaterialsPlugin)
            .add(sim_plugin::SimPlugin {
                session: Mutex::new(session),
                start_errors: Mutex::new(errors),
                start_paused: self.args.paused,
            })
            .add(scene_render::SceneRenderPlugin {
                meshes: self.args.meshes,
            })
            .add(ghost::GhostPlugin)
            .add(cameras::CameraPlugin { settings: camera })
            .add(overlays::OverlayPlugin { settings: overlays })
            .add(ui::UiShellPlugin { panels })
            .add(policy_plots::PolicyPlotsPlugin)
            .add(policy_view::PolicyViewPlugin)
            .add(follow_view::FollowViewPlugin)
            .add(replay::ReplayPlugin {
                episode: self.args.episode.clone(),
                recordings: self.args.record_dir.clone(),
            })
            .add(triage::TriagePlugin {
                dir: self.args.triage.clone(),
                ui: true,
            })
            .add(calibration::CalibrationPlugin { ui: true })
            .add(shortcuts::ShortcutsPlugin)
            .add(teleop::TeleopPlugin)
            .add(picking::PickingPlugin)
            .add(capture::CapturePlugin {
                screenshot: self.args.screenshot.clone(),
                frames: self.args.frames,
            })
    }
}

/// The logical window size to use instead of `requested` when it does not fit a monitor of
/// `monitor` physical pixels at `scale` (its whole width, 94% of its height to leave room for a
/// task bar), keeping its aspect; `None` when it fits.
pub fn fit_window(requested: (f32, f32), monitor: (u32, u32), scale: f32) -> Option<(f32, f32)> {
    let scale = scale.max(0.1);
    let avail = (monitor.0 as f32 / scale, 0.94 * monitor.1 as f32 / scale);
    let k = (avail.0 / requested.0).min(avail.1 / requested.1);
    (monitor.0 > 0 && monitor.1 > 0 && k < 1.0).then(|| {
        (
            (requested.0 * k).floor().max(320.0),
            (requested.1 * k).floor().max(240.0),
        )
    })
}

/// Shrinks the window once, at start, when it would not fit the primary monitor.
fn fit_window_to_monitor(
    mut done: Local<bool>,
    mut windows: Query<&mut Window, With<bevy::window::PrimaryWindow>>,
    monitors: Query<&bevy::window::Monitor, With<bevy::window::PrimaryMonitor>>,
) {
    if *done {
        return;
    }
    let (Ok(mut w), Ok(m)) = (windows.single_mut(), monitors.single()) else {
        return;
    };
    *done = true;
    let requested = (w.resolution.width(), w.resolution.height());
    let scale = m.scale_factor as f32;
    if let Some((fw, fh)) = fit_window(requested, (m.physical_width, m.physical_height), scale) {
        w.resolution.set(fw, fh);
    }
}

/// The Bevy app for `args` with its window, not yet run (benchmarks add to it).
pub fn build_app(args: &ViewArgs) -> anyhow::Result<App> {
    let start = start_state(args)?;
    let mut app = App::new();
    let (w, h) = args.size;
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: "so101-lab".into(),
                    resolution: WindowResolution::new(w, h),
                    ..default()
                }),
                ..default()
            })
            .set(RenderPlugin {
                synchronous_pipeline_compilation: true,
                ..default()
            })
            .set(bevy::log::LogPlugin {
                level: bevy::log::Level::WARN,
                filter: "wgpu=error,naga=warn,bevy_render=warn".into(),
                ..default()
            }),
    )
    .insert_resource(EguiGlobalSettings {
        auto_create_primary_context: false,
        ..default()
    })
    .add_plugins(EguiPlugin::default())
    .insert_resource(ClearColor(Color::srgb(0.55, 0.62, 0.70)))
    .add_plugins(So101LabPlugins {
        start: Mutex::new(Some(start)),
        args: args.clone(),
    })
    .add_plugins(soft_render::SoftwareRenderPlugin {
        requested: args.soft_render,
    })
    .add_systems(Update, fit_window_to_monitor);
    Ok(app)
}

/// Opens the app and runs until the window closes (or the screenshot is written).
pub fn run(args: &ViewArgs) -> anyhow::Result<()> {
    let mut app = build_app(args)?;
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => anyhow::bail!("the app exited with code {code}"),
    }
}

/// The app's simulation, commands and shortcuts without a window or renderer, for tests and
/// tools that drive systems directly.
pub fn headless_app(args: &ViewArgs) -> anyhow::Result<App> {
    let start = start_state(args)?;
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins(sim_plugin::SimPlugin {
            session: Mutex::new(Some((start.session, start.scene_path))),
            start_errors: Mutex::new(start.startup_errors),
            start_paused: args.paused,
        })
        .insert_resource(start.camera)
        .init_resource::<OverlaySettings>()
        .init_resource::<GroupVisibility>()
        .init_resource::<OpenPanels>()
        .init_resource::<PlotHistory>()
        .insert_resource(state::MeshDetailSettings::new(args.meshes))
        .add_plugins(replay::ReplayPlugin {
            episode: args.episode.clone(),
            recordings: args.record_dir.clone(),
        })
        .add_plugins(triage::TriagePlugin {
            dir: args.triage.clone(),
            ui: false,
        })
        .add_plugins(calibration::CalibrationPlugin { ui: false })
        .init_resource::<ButtonInput<KeyCode>>()
        .add_plugins((shortcuts::ShortcutsPlugin, teleop::TeleopPlugin));
    Ok(app)
}
