//! What is shown and how: cameras and the view rectangle, overlays and their labels, open panels,
//! keyboard capture, teleop settings, visible geom groups, and the view system sets.

use bevy::prelude::*;

use crate::overlay::Rgba;
use crate::scene::visual::{DEFAULT_VISIBLE_GROUPS, GROUPS};

/// The main 3D view.
#[derive(Component, Debug)]
pub struct MainCamera;

/// The picture-in-picture view.
#[derive(Component, Debug)]
pub struct PipCamera;

/// Where the main view looks from.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewMode {
    /// Mouse-driven orbit camera.
    Free,
    /// An MJCF camera by id.
    Mjcf(usize),
    /// Orbit camera whose focus follows a body.
    Track(usize),
}

/// Orbit camera parameters (MuJoCo world frame, Z up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orbit {
    /// Point looked at, MuJoCo world.
    pub focus: [f32; 3],
    /// Azimuth about world Z, radians.
    pub azimuth: f32,
    /// Elevation, radians (negative looks down).
    pub elevation: f32,
    /// Distance to the focus, metres.
    pub distance: f32,
}

impl Default for Orbit {
    fn default() -> Self {
        Self {
            focus: [0.2, 0.0, 0.05],
            azimuth: 2.6,
            elevation: -0.45,
            distance: 0.75,
        }
    }
}

/// Height above the cube that the default view and auto-frame keep in view, metres: the bundled
/// policy lifts the cube to about 0.3 m.
pub const LIFT_HEADROOM_M: f64 = 0.32;

/// Whether the free camera frames the subject by itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AutoFrame {
    /// The user moved the camera: leave it.
    Off,
    /// Frame what the next snapshot shows (at start, and on the auto-frame key).
    #[default]
    Pending,
    /// Keep these points in view as the view's shape changes, until the user moves the camera.
    On(Vec<[f64; 3]>),
}

/// Camera choices of the main and picture-in-picture views.
#[derive(Resource, Debug, Clone)]
pub struct CameraSettings {
    /// Main view mode.
    pub mode: ViewMode,
    /// Orbit state (free and tracking modes).
    pub orbit: Orbit,
    /// Picture-in-picture MJCF camera; `None` hides it.
    pub pip: Option<usize>,
    /// Field of view of the free camera, degrees.
    pub free_fovy_deg: f32,
    /// Auto-framing of the free camera.
    pub auto_frame: AutoFrame,
}

impl Default for CameraSettings {
    fn default() -> Self {
        Self {
            mode: ViewMode::Free,
            orbit: Orbit::default(),
            pip: None,
            free_fovy_deg: 45.0,
            auto_frame: AutoFrame::Pending,
        }
    }
}

/// The main view's rectangle in logical window pixels (left, top, width, height), set by the UI
/// shell to the area its panels leave free.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq)]
pub struct ViewportRect(pub Option<Rect>);

/// Size of the picture-in-picture view, pixels.
pub const PIP_SIZE: UVec2 = UVec2::new(320, 240);

/// Whether the software-adapter settings are in force (`view --soft-render` and the
/// adapter; set by `soft_render::SoftwareRenderPlugin`).
#[derive(Resource, Debug, Clone, PartialEq, Eq)]
pub struct SoftRenderState {
    /// They apply (the picture-in-picture at a third of the frame rate, the cheap UI shader).
    pub active: bool,
}

/// With the settings in force, the picture-in-picture camera renders once every this many frames.
pub const PIP_EVERY: u32 = 3;

/// The image the picture-in-picture camera renders into (the UI shows it in a corner). A second
/// camera cannot simply draw into a window viewport: its clear would wipe the main view.
#[derive(Resource, Debug, Clone)]
pub struct PipImage(pub Handle<Image>);

/// Render layer used only by the UI camera (nothing is drawn on it).
pub const UI_LAYER: usize = 31;

/// Which overlays are on, and their knobs.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct OverlaySettings {
    /// Spheres and labels at gripperframe and graspframe.
    pub site_markers: bool,
    /// Axes at the TCP, grasp and pad frames.
    pub site_frames: bool,
    /// IK target and scripted pick target.
    pub targets: bool,
    /// Contact points, normals and forces.
    pub contacts: bool,
    /// Metres of arrow per newton.
    pub force_scale: f32,
    /// See-through arm and cube.
    pub xray: bool,
    /// Contact selected in the table.
    pub selected_contact: Option<usize>,
    /// Draw the legend.
    pub legend: bool,
    /// Draw the teleop goal's IK solution as a translucent arm.
    pub ghost: bool,
    /// The calibration view: TCP sites with axes, pad boxes, the wrist camera's frustum.
    pub calibration: bool,
}

impl Default for OverlaySettings {
    fn default() -> Self {
        Self {
            site_markers: true,
            site_frames: false,
            targets: true,
            contacts: true,
            force_scale: 0.002,
            xray: false,
            selected_contact: None,
            legend: true,
            ghost: true,
            calibration: false,
        }
    }
}

/// Labels to write this frame: (Bevy world point, text, colour).
#[derive(Resource, Debug, Clone, Default)]
pub struct OverlayLabels(pub Vec<(Vec3, String, Rgba)>);

/// Which parts of the shell are open.
#[derive(Resource, Debug, Clone)]
pub struct OpenPanels {
    /// The whole shell (off: only the 3D view, e.g. for screenshots of the scene alone).
    pub shell: bool,
    /// Left control panel.
    pub controls: bool,
    /// Bottom contact table.
    pub contacts: bool,
    /// Key help window.
    pub help: bool,
    /// Policy plots window.
    pub plots: bool,
    /// Policy view window: what the policy receives (images and state).
    pub policy_view: bool,
    /// The failure-triage window.
    pub triage: bool,
    /// The TCP and camera calibration window.
    pub calibration: bool,
    /// Seed typed in the reset field.
    pub seed_text: String,
    /// Cube placement for "reset with the cube here": x, y (m), yaw (degrees).
    pub cube_placement: [f64; 3],
    /// Scene config being edited, with the scene generation it started from.
    pub scene_draft: Option<(u64, crate::config::SceneConfig)>,
}

impl Default for OpenPanels {
    fn default() -> Self {
        Self {
            shell: true,
            controls: true,
            contacts: true,
            help: false,
            plots: true,
            policy_view: false,
            triage: false,
            calibration: false,
            seed_text: "0".into(),
            scene_draft: None,
            cube_placement: [0.25, 0.0, 0.0],
        }
    }
}

/// Whether the pointer is over a panel this frame (egui reports windows, not panels).
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct PointerOverUi(pub bool);

/// Set by a mode that owns the keyboard (teleop): viewer shortcuts then stay quiet.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeyCapture(pub bool);

/// Teleop settings and the goal being driven.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct TeleopState {
    /// Teleop mode (keys drive the TCP goal).
    pub active: bool,
    /// Goal speed while a key is held, metres per second.
    pub speed_m_s: f64,
    /// Discrete jog: each key press moves the goal by `step_m` (off: continuous at the speed).
    pub discrete: bool,
    /// Jog step, metres.
    pub step_m: f64,
    /// The TCP goal, world frame.
    pub target: [f64; 3],
    /// Gripper open.
    pub gripper_open: bool,
    /// Joint panel targets, `ALL_JOINTS` order.
    pub joints: [f64; 6],
}

impl Default for TeleopState {
    fn default() -> Self {
        Self {
            active: false,
            speed_m_s: 0.05,
            discrete: false,
            step_m: 0.005,
            target: [0.2, 0.0, 0.1],
            gripper_open: true,
            joints: [0.0; 6],
        }
    }
}

/// Which geoms are drawn, like MuJoCo's group switches.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct GroupVisibility {
    /// Per group.
    pub groups: [bool; GROUPS],
    /// Draw collision geoms of visible groups (off: only non-colliding visual geoms).
    pub collision: bool,
    /// Draw visual (non-colliding) geoms of visible groups.
    pub visual: bool,
}

impl Default for GroupVisibility {
    fn default() -> Self {
        Self {
            groups: DEFAULT_VISIBLE_GROUPS,
            collision: true,
            visual: true,
        }
    }
}

/// Ordering of view systems.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum ViewSystems {
    /// Respawn on scene change.
    Spawn,
    /// Move entities to the snapshot poses.
    SyncTransforms,
    /// Draw overlays.
    Overlays,
}

/// Key map shown in the teleop HUD: (keys, action).
pub const TELEOP_KEYS: [(&str, &str); 6] = [
    ("W / S", "+x / -x (away from / toward the base)"),
    ("A / D", "+y / -y"),
    ("R / F", "+z / -z"),
    ("Space", "open / close the gripper"),
    ("Shift", "4x faster"),
    ("Esc", "leave teleop"),
];

impl TeleopState {
    /// Starts teleop from where the TCP is.
    pub fn enter(&mut self, snap: &super::LatestSnapshot, loaded: &super::LoadedScene) {
        if let Some(p) = snap.0.site(loaded.handles.gripperframe_site) {
            self.target = p;
        }
        self.active = true;
    }
}

/// Input systems that must run in order: a mode that owns the keyboard (teleop) decides before
/// the viewer shortcuts read keys.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputSystems {
    /// Modes that capture keys.
    Modes,
    /// The viewer's shortcuts.
    Shortcuts,
}

/// Which meshes the view draws for MuJoCo mesh geoms (`view --meshes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MeshDetail {
    /// Decimated on a software (CPU) render adapter such as Mesa's llvmpipe, full otherwise.
    #[default]
    Auto,
    /// MuJoCo's full meshes.
    Full,
    /// The observation renderer's decimated meshes (an order of magnitude fewer triangles).
    Lod,
}

/// The mesh detail asked for, the one drawn, and the render adapter it was chosen for.
#[derive(Resource, Debug, Clone, PartialEq, Default)]
pub struct MeshDetailSettings {
    /// What was asked for on the command line.
    pub requested: MeshDetail,
    /// Draw the decimated meshes; `None` while `auto` waits for the render adapter (full meshes
    /// are drawn meanwhile). The toggle (L, View menu) sets it.
    pub lod: Option<bool>,
    /// The render adapter, once known: name, device type and backend.
    pub adapter: Option<String>,
    /// The render adapter draws in software (CPU).
    pub software: bool,
}

impl MeshDetailSettings {
    /// The settings for `requested` (`auto` resolves when the adapter is known).
    pub fn new(requested: MeshDetail) -> Self {
        Self {
            requested,
            lod: match requested {
                MeshDetail::Auto => None,
                MeshDetail::Full => Some(false),
                MeshDetail::Lod => Some(true),
            },
            adapter: None,
            software: false,
        }
    }

    /// Whether the decimated meshes are drawn now.
    pub fn lod(&self) -> bool {
        self.lod.unwrap_or(false)
    }

    /// Switches between full and decimated meshes.
    pub fn toggle(&mut self) {
        self.lod = Some(!self.lod());
    }

    /// Records the render adapter; `auto` (not yet overridden by the toggle) takes the decimated
    /// meshes on a software adapter.
    pub fn adapter_known(&mut self, summary: String, software: bool) {
        self.adapter = Some(summary);
        self.software = software;
        if self.lod.is_none() {
            self.lod = Some(software);
        }
    }

    /// One line for reports: what is drawn and why.
    pub fn describe(&self) -> String {
        let drawn = if self.lod() {
            "lod (the observation renderer's decimated meshes)"
        } else {
            "full"
        };
        match self.requested {
            MeshDetail::Auto if self.lod.is_some() && self.adapter.is_some() => format!(
                "{drawn}, auto on a {} adapter",
                if self.software {
                    "software"
                } else {
                    "hardware"
                }
            ),
            MeshDetail::Auto => format!("{drawn}, auto"),
            MeshDetail::Full | MeshDetail::Lod => format!("{drawn}, asked for"),
        }
    }
}

/// The render adapter as one line, name (device type, backend), and whether it draws in
/// software: what `auto` mesh detail, the cameras and `bench view` all go by.
pub fn describe_adapter(info: &bevy::render::renderer::RenderAdapterInfo) -> (String, bool) {
    let device_type = format!("{:?}", info.device_type);
    let software = is_software_adapter(&info.name, &device_type);
    (
        format!("{} ({device_type}, {:?})", info.name, info.backend),
        software,
    )
}

/// Whether a render adapter draws in software: wgpu reports it as a CPU device (Mesa's llvmpipe
/// and lavapipe, SwiftShader, WARP), or its name says so. `device_type` is the `Debug` form of
/// wgpu's `DeviceType` (Bevy does not re-export the enum).
pub fn is_software_adapter(name: &str, device_type: &str) -> bool {
    let name = name.to_ascii_lowercase();
    device_type == "Cpu"
        || [
            "llvmpipe",
            "lavapipe",
            "softpipe",
            "swiftshader",
            "basic render",
        ]
        .iter()
        .any(|s| name.contains(s))
}
