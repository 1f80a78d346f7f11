//! `CameraPlugin`: the main view (free orbit camera, any MJCF camera by name, or a camera
//! tracking a body), a picture-in-picture view of an MJCF camera (the wrist camera by default),
//! and a UI camera for egui. The main view fills the area the panels leave free.

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{CameraOutputMode, RenderTarget, Viewport};
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll};
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::window::PrimaryWindow;
use bevy_egui::PrimaryEguiContext;
use bevy_egui::input::EguiWantsInput;

use super::scene_render::{mj_point, mj_point32, mj_rotation};
use super::state::{
    AutoFrame, CameraSettings, LIFT_HEADROOM_M, LatestSnapshot, LoadedScene, MainCamera, Orbit,
    PIP_SIZE, PipCamera, PipImage, UI_LAYER, ViewMode, ViewportRect,
};

impl Orbit {
    /// Eye position, MuJoCo world.
    pub fn eye(&self) -> [f32; 3] {
        let (ce, se) = (self.elevation.cos(), self.elevation.sin());
        let d = self.distance;
        [
            self.focus[0] - d * ce * self.azimuth.cos(),
            self.focus[1] - d * ce * self.azimuth.sin(),
            self.focus[2] - d * se,
        ]
    }
}

impl Orbit {
    /// The orbit seen from the same direction whose view (vertical field of view `fovy_deg`,
    /// width / height `aspect`) holds the whole bounding box of `points`, with a small margin.
    pub fn framing(&self, points: &[[f64; 3]], fovy_deg: f32, aspect: f32) -> Self {
        if points.is_empty() {
            return *self;
        }
        let pts: Vec<nalgebra::Vector3<f64>> = points.iter().map(|p| (*p).into()).collect();
        let (centre, distance) =
            crate::render::fit_points(&pts, f64::from(fovy_deg), f64::from(aspect), 1.05);
        let focus = [centre.x as f32, centre.y as f32, centre.z as f32];
        let distance = distance as f32;
        Self {
            focus,
            distance: distance.clamp(0.05, 10.0),
            ..*self
        }
    }
}

/// What the default view and auto-frame keep in view: every body of the scene, the cube, the
/// region the task places the cube in, and [`LIFT_HEADROOM_M`] above both.
pub fn subject_points(
    snap: &crate::sim::SimSnapshot,
    cube_body: usize,
    task: &crate::task::TaskConfig,
) -> Vec<[f64; 3]> {
    let mut pts: Vec<[f64; 3]> = snap.body_pos.iter().skip(1).copied().collect();
    if let Some(c) = snap.body_pos.get(cube_body) {
        pts.push([c[0], c[1], c[2] + LIFT_HEADROOM_M]);
        let ([x, hx], [y, hy]) = (task.cube_x, task.cube_y);
        for (dx, dy) in [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)] {
            let (px, py) = (x + dx * hx, y + dy * hy);
            pts.push([px, py, c[2]]);
            pts.push([px, py, c[2] + LIFT_HEADROOM_M]);
        }
    }
    pts
}

impl CameraSettings {
    /// The auto-frame action: the free camera, framing the arm, the cube and the lift height
    /// as they are now.
    pub fn request_auto_frame(&mut self) {
        self.auto_frame = AutoFrame::Pending;
        if matches!(self.mode, ViewMode::Mjcf(_)) {
            self.mode = ViewMode::Free;
        }
    }

    /// Every view mode in `[`/`]` order: free, each MJCF camera, tracking the gripper, the cube.
    pub fn cycle(loaded: &LoadedScene) -> Vec<ViewMode> {
        let mut modes = vec![ViewMode::Free];
        modes.extend(loaded.visuals.cameras.iter().map(|c| ViewMode::Mjcf(c.id)));
        modes.push(ViewMode::Track(loaded.handles.gripper_body));
        modes.push(ViewMode::Track(loaded.handles.cube_body));
        modes
    }

    /// Steps through [`CameraSettings::cycle`] by `delta`.
    pub fn step_mode(&mut self, loaded: &LoadedScene, delta: isize) {
        let modes = Self::cycle(loaded);
        let i = modes.iter().position(|m| *m == self.mode).unwrap_or(0) as isize;
        let n = modes.len() as isize;
        self.mode = modes[((i + delta).rem_euclid(n)) as usize].clone();
    }
}

/// Cameras and their controls.
pub struct CameraPlugin {
    /// Initial settings.
    pub settings: CameraSettings,
}

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.settings.clone())
            .init_resource::<ViewportRect>()
            .add_systems(Startup, spawn_cameras)
            .add_systems(
                Update,
                (orbit_with_mouse, place_main_camera, place_pip_camera).chain(),
            );
    }
}

fn spawn_cameras(
    mut commands: Commands,
    mut images: ResMut<Assets<Image>>,
    adapter: Option<Res<bevy::render::renderer::RenderAdapterInfo>>,
) {
    // The UI camera (order 2) renders to the same window with the same main texture (no MSAA,
    // no HDR) and copies all of it to the window, so the main view's own copy of its viewport is
    // redundant (Bevy's `CameraOutputMode::Skip` case). Dropped on a software adapter, where
    // every full-screen pass is CPU time; a GPU keeps today's setup.
    let software = adapter.is_some_and(|a| super::state::describe_adapter(&a).1);
    let main_output = if software {
        CameraOutputMode::Skip
    } else {
        CameraOutputMode::default()
    };
    let target = images.add(Image::new_target_texture(
        PIP_SIZE.x,
        PIP_SIZE.y,
        TextureFormat::Rgba8Unorm,
        Some(TextureFormat::Rgba8UnormSrgb),
    ));
    commands.insert_resource(PipImage(target.clone()));
    commands.spawn((
        Camera3d::default(),
        Camera {
            order: 0,
            output_mode: main_output,
            ..default()
        },
        Msaa::Off,
        MainCamera,
        Transform::default(),
    ));
    commands.spawn((
        Camera3d::default(),
        Camera {
            order: -1,
            is_active: false,
            ..default()
        },
        RenderTarget::Image(target.into()),
        Msaa::Off,
        PipCamera,
        Transform::default(),
    ));
    // egui draws through its own camera so the 3D viewports can be resized freely.
    commands.spawn((
        Camera3d::default(),
        Camera {
            order: 2,
            clear_color: ClearColorConfig::None,
            ..default()
        },
        Msaa::Off,
        RenderLayers::layer(UI_LAYER),
        PrimaryEguiContext,
    ));
}

fn orbit_with_mouse(
    mut settings: ResMut<CameraSettings>,
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    wants: Option<Res<EguiWantsInput>>,
    keys: Res<ButtonInput<KeyCode>>,
    over_ui: Option<Res<super::state::PointerOverUi>>,
) {
    if wants.is_some_and(|w| w.wants_pointer_input() || w.is_pointer_over_area())
        || over_ui.is_some_and(|o| o.0)
    {
        return;
    }
    // Ctrl and Shift drags belong to picking (cube spring, teleop goal).
    let modifier = [
        KeyCode::ControlLeft,
        KeyCode::ControlRight,
        KeyCode::ShiftLeft,
        KeyCode::ShiftRight,
    ];
    if keys.any_pressed(modifier) && buttons.pressed(MouseButton::Left) {
        return;
    }
    if matches!(settings.mode, ViewMode::Mjcf(_)) {
        // Dragging an MJCF camera detaches a free camera from where it looked.
        return;
    }
    let d = motion.delta;
    let dragging =
        buttons.any_pressed([MouseButton::Left, MouseButton::Right, MouseButton::Middle]);
    if (dragging && d != Vec2::ZERO) || scroll.delta.y.abs() > 0.0 {
        settings.auto_frame = AutoFrame::Off;
    }
    let orbit = &mut settings.orbit;
    if buttons.pressed(MouseButton::Left) && !buttons.pressed(MouseButton::Right) {
        orbit.azimuth -= d.x * 0.008;
        orbit.elevation = (orbit.elevation - d.y * 0.008).clamp(-1.55, 1.55);
    } else if buttons.pressed(MouseButton::Right) || buttons.pressed(MouseButton::Middle) {
        // Pan in the view plane, scaled by distance.
        let k = orbit.distance * 0.0015;
        let (sa, ca) = orbit.azimuth.sin_cos();
        let right = [sa, -ca];
        orbit.focus[0] -= k * d.x * right[0];
        orbit.focus[1] -= k * d.x * right[1];
        orbit.focus[2] += k * d.y;
    }
    if scroll.delta.y.abs() > 0.0 {
        orbit.distance =
            (orbit.distance * (1.0 - 0.1 * scroll.delta.y.clamp(-5.0, 5.0))).clamp(0.05, 10.0);
    }
}

fn perspective(fovy_deg: f32) -> Projection {
    Projection::Perspective(PerspectiveProjection {
        fov: fovy_deg.to_radians(),
        near: 0.005,
        ..default()
    })
}

/// Pose and field of view of MJCF camera `cam` in the latest snapshot.
fn mjcf_camera(
    snap: &LatestSnapshot,
    loaded: &LoadedScene,
    cam: usize,
) -> Option<(Transform, f32)> {
    let p = snap.0.cam_pos.get(cam)?;
    let m = snap.0.cam_mat.get(cam)?;
    let fovy = loaded.visuals.cameras.get(cam)?.fovy_deg;
    // MuJoCo cameras look along their -Z with +Y up, exactly like Bevy's.
    Some((
        Transform::from_translation(mj_point(*p)).with_rotation(mj_rotation(m)),
        fovy,
    ))
}

#[allow(clippy::type_complexity, reason = "one camera query")]
fn place_main_camera(
    mut settings: ResMut<CameraSettings>,
    snap: Res<LatestSnapshot>,
    loaded: Res<LoadedScene>,
    rect: Res<ViewportRect>,
    sim: Res<super::state::SimResource>,
    window: Query<&Window, With<PrimaryWindow>>,
    mut cam: Query<(&mut Transform, &mut Projection, &mut Camera), With<MainCamera>>,
) {
    let Ok((mut t, mut proj, mut camera)) = cam.single_mut() else {
        return;
    };
    if let Ok(w) = window.single() {
        camera.viewport = viewport_of(rect.0, w);
    }
    let aspect = camera
        .viewport
        .as_ref()
        .map(|v| v.physical_size.as_vec2())
        .or_else(|| window.single().ok().map(|w| w.physical_size().as_vec2()))
        .map_or(16.0 / 9.0, |s| s.x / s.y.max(1.0));
    auto_frame(
        &mut settings,
        &snap,
        &loaded,
        sim.session.env().task(),
        aspect,
    );
    let mode = settings.mode.clone();
    let (transform, fovy) = match mode {
        ViewMode::Mjcf(c) => match mjcf_camera(&snap, &loaded, c) {
            Some(v) => v,
            None => {
                settings.mode = ViewMode::Free;
                return;
            }
        },
        ViewMode::Free | ViewMode::Track(_) => {
            if let ViewMode::Track(body) = mode
                && let Some(p) = snap.0.body_pos.get(body)
            {
                settings.orbit.focus = p.map(|v| v as f32);
            }
            let eye = mj_point32(settings.orbit.eye());
            let focus = mj_point32(settings.orbit.focus);
            (
                Transform::from_translation(eye).looking_at(focus, Vec3::Y),
                settings.free_fovy_deg,
            )
        }
    };
    *t = transform;
    let want = perspective(fovy);
    if let (Projection::Perspective(a), Projection::Perspective(b)) = (&*proj, &want)
        && (a.fov - b.fov).abs() < 1e-6
    {
        return;
    }
    *proj = want;
}

/// Applies [`AutoFrame`]: a pending request takes the snapshot's subject; an active one refits
/// the free camera's orbit to the view's shape.
fn auto_frame(
    settings: &mut CameraSettings,
    snap: &LatestSnapshot,
    loaded: &LoadedScene,
    task: &crate::task::TaskConfig,
    aspect: f32,
) {
    if settings.auto_frame == AutoFrame::Pending && !snap.0.body_pos.is_empty() {
        let points = subject_points(&snap.0, loaded.handles.cube_body, task);
        settings.auto_frame = AutoFrame::On(points);
    }
    if let AutoFrame::On(points) = &settings.auto_frame
        && settings.mode == ViewMode::Free
    {
        settings.orbit = settings
            .orbit
            .framing(points, settings.free_fovy_deg, aspect);
    }
}

/// The physical viewport for a logical rect, clamped to the window; `None` = whole window.
fn viewport_of(rect: Option<Rect>, w: &Window) -> Option<Viewport> {
    let r = rect?;
    let scale = w.scale_factor();
    let (ww, wh) = (w.physical_width(), w.physical_height());
    let x = ((r.min.x * scale).max(0.0) as u32).min(ww.saturating_sub(1));
    let y = ((r.min.y * scale).max(0.0) as u32).min(wh.saturating_sub(1));
    let width = ((r.width() * scale) as u32).clamp(1, ww - x);
    let height = ((r.height() * scale) as u32).clamp(1, wh - y);
    Some(Viewport {
        physical_position: UVec2::new(x, y),
        physical_size: UVec2::new(width, height),
        ..default()
    })
}

fn place_pip_camera(
    settings: Res<CameraSettings>,
    snap: Res<LatestSnapshot>,
    loaded: Res<LoadedScene>,
    soft: Option<Res<super::state::SoftRenderState>>,
    mut frame: Local<u32>,
    mut cam: Query<(&mut Transform, &mut Projection, &mut Camera), With<PipCamera>>,
) {
    let Ok((mut t, mut proj, mut camera)) = cam.single_mut() else {
        return;
    };
    let Some((transform, fovy)) = settings.pip.and_then(|c| mjcf_camera(&snap, &loaded, c)) else {
        camera.is_active = false;
        return;
    };
    // An inactive camera leaves its target image as it was, so the picture holds between draws.
    let every = if soft.is_some_and(|s| s.active) {
        super::state::PIP_EVERY
    } else {
        1
    };
    camera.is_active = (*frame).is_multiple_of(every);
    *frame = frame.wrapping_add(1);
    *t = transform;
    *proj = perspective(fovy);
}
