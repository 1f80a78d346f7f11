//! `CalibrationPlugin`: the TCP and camera calibration window (K, or View menu). It turns on
//! the calibration overlay (`gripperframe`, `graspframe`, the pad boxes, the wrist camera's
//! frustum); Alt + click on a mesh reports the point in the world and in the gripper body's
//! frame, and can put `gripperframe` or `graspframe` there; dragging a site or pad value (along
//! the jaw or any axis) rebuilds the scene with it, keeping the state; "Save to config" writes
//! the values into the scene file (old file kept as `.bak`, replaced atomically). This is how the
//! graspframe / gripperframe mix-up gets found and fixed by eye.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::scene_render::{bevy_to_mj, cursor_ray};
use super::state::{
    AppMessages, LoadedScene, MainCamera, OpenPanels, OverlaySettings, PointerOverUi,
    ReplayTimeline, SimCommand, SimCommandQueue, SimResource,
};
use crate::config::SceneConfig;
use crate::config::calibration::{CalibrationPoint, save_calibration};
use crate::sim::RayHit;

/// The calibration window.
pub struct CalibrationPlugin {
    /// Draw the window and pick with the mouse (off in headless apps).
    pub ui: bool,
}

impl Plugin for CalibrationPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Calibration>()
            .add_systems(Update, sync_overlay);
        if self.ui {
            app.add_systems(Update, pick_on_click)
                .add_systems(EguiPrimaryContextPass, calibration_ui);
        }
    }
}

/// The last point picked and the values being edited.
#[derive(Resource, Debug, Default)]
pub struct Calibration {
    /// The last Alt + click hit.
    pub pick: Option<RayHit>,
    /// The config being edited, with the scene generation it started from.
    draft: Option<(u64, SceneConfig)>,
}

/// The scene config with `point` set to `value`: what the window applies.
pub fn with_point(config: &SceneConfig, point: CalibrationPoint, value: [f64; 3]) -> SceneConfig {
    let mut c = config.clone();
    point.set(&mut c, value);
    c
}

/// The calibration overlay is on exactly while the window is open.
fn sync_overlay(panels: Res<OpenPanels>, mut overlays: ResMut<OverlaySettings>) {
    if overlays.calibration != panels.calibration {
        overlays.calibration = panels.calibration;
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "mouse, camera, and both simulations"
)]
fn pick_on_click(
    panels: Res<OpenPanels>,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    over_ui: Res<PointerOverUi>,
    window: Query<&Window, With<PrimaryWindow>>,
    camera: Query<(&Camera, &GlobalTransform), With<MainCamera>>,
    mut sim: ResMut<SimResource>,
    mut timeline: ResMut<ReplayTimeline>,
    mut calibration: ResMut<Calibration>,
) {
    let alt = keys.any_pressed([KeyCode::AltLeft, KeyCode::AltRight]);
    if !panels.calibration || !alt || !buttons.just_pressed(MouseButton::Left) || over_ui.0 {
        return;
    }
    let (Ok(w), Ok((cam, gt))) = (window.single(), camera.single()) else {
        return;
    };
    let Some(ray) = cursor_ray(w, cam, gt) else {
        return;
    };
    let (from, dir) = (bevy_to_mj(ray.origin), bevy_to_mj(*ray.direction));
    // Pick in what is shown: the replay's state when one is open.
    calibration.pick = match timeline.replay.as_mut() {
        Some(r) => r.sim_mut().ray_pick(from, dir),
        None => sim.session.env_mut().sim_mut().ray_pick(from, dir),
    };
}

fn calibration_ui(
    mut contexts: EguiContexts,
    mut panels: ResMut<OpenPanels>,
    mut calibration: ResMut<Calibration>,
    loaded: Res<LoadedScene>,
    mut queue: ResMut<SimCommandQueue>,
    mut messages: ResMut<AppMessages>,
) -> Result {
    if !panels.calibration {
        return Ok(());
    }
    let ctx = contexts.ctx_mut()?;
    let mut open = true;
    egui::Window::new("TCP and camera calibration")
        .open(&mut open)
        .default_pos([300.0, 140.0])
        .default_width(430.0)
        .show(ctx, |ui| {
            let c = &mut *calibration;
            points_ui(ui, c, &loaded, &mut queue);
            ui.separator();
            pick_ui(ui, c, &loaded, &mut queue);
            ui.separator();
            save_ui(ui, &loaded, &mut messages);
        });
    panels.calibration = open;
    Ok(())
}

/// One row per calibrated point: x, y, z in its body frame (mm); editing rebuilds the scene.
fn points_ui(
    ui: &mut egui::Ui,
    c: &mut Calibration,
    loaded: &LoadedScene,
    queue: &mut SimCommandQueue,
) {
    if c.draft
        .as_ref()
        .is_none_or(|(g, _)| *g != loaded.generation)
    {
        c.draft = Some((loaded.generation, loaded.config.clone()));
    }
    let Some((_, draft)) = c.draft.as_mut() else {
        return;
    };
    ui.label("Body-frame positions, mm: drag a value (the jaw runs along the axis marked jaw).");
    let mut apply = false;
    egui::Grid::new("calibration_points").show(ui, |ui| {
        for point in CalibrationPoint::ALL {
            let (table, key) = point.key();
            let (frame, jaw_axis) = point.frame();
            ui.label(format!("{table}.{key}"))
                .on_hover_text(format!("{frame} body frame"));
            let mut v = point.get(draft).map(|x| x * 1e3);
            for (i, axis) in ["x", "y", "z"].iter().enumerate() {
                let prefix = if i == jaw_axis {
                    format!("{axis} (jaw) ")
                } else {
                    format!("{axis} ")
                };
                let r = ui.add(
                    egui::DragValue::new(&mut v[i])
                        .speed(0.05)
                        .fixed_decimals(2)
                        .prefix(prefix),
                );
                apply |= r.drag_stopped() || (r.lost_focus() && r.changed());
                if r.changed() {
                    point.set(draft, v.map(|x| x * 1e-3));
                }
            }
            ui.end_row();
        }
    });
    if apply && *draft != loaded.config {
        queue.push(SimCommand::ApplySceneConfig(Box::new(draft.clone())));
    }
}

/// The last Alt + click: where, on what, and buttons to put a site there.
fn pick_ui(ui: &mut egui::Ui, c: &Calibration, loaded: &LoadedScene, queue: &mut SimCommandQueue) {
    let Some(hit) = &c.pick else {
        ui.label("Alt + click a mesh to read a point.");
        return;
    };
    let mm = |p: [f64; 3]| {
        format!(
            "({:.2}, {:.2}, {:.2}) mm",
            p[0] * 1e3,
            p[1] * 1e3,
            p[2] * 1e3
        )
    };
    ui.label(format!(
        "picked {} (body {})",
        if hit.geom_name.is_empty() {
            format!("geom {}", hit.geom)
        } else {
            hit.geom_name.clone()
        },
        hit.body_name
    ));
    ui.monospace(format!("world          {}", mm(hit.world)));
    ui.monospace(format!("gripper frame  {}", mm(hit.in_gripper)));
    ui.horizontal(|ui| {
        for point in [CalibrationPoint::Gripperframe, CalibrationPoint::Graspframe] {
            let (_, key) = point.key();
            if ui.button(format!("Put {key} here")).clicked() {
                let cfg = with_point(&loaded.config, point, hit.in_gripper);
                queue.push(SimCommand::ApplySceneConfig(Box::new(cfg)));
            }
        }
    });
}

fn save_ui(ui: &mut egui::Ui, loaded: &LoadedScene, messages: &mut AppMessages) {
    let path = loaded
        .path
        .clone()
        .unwrap_or_else(|| crate::config::default_configs_dir().join("scene.toml"));
    ui.horizontal(|ui| {
        if ui
            .button("Save to config")
            .on_hover_text("writes these values into the scene file; the old file is kept as .bak")
            .clicked()
        {
            match save_calibration(&path, &loaded.config) {
                Ok(Some(bak)) => messages.info(format!(
                    "saved {} (previous file kept as {})",
                    path.display(),
                    bak.display()
                )),
                Ok(None) => messages.info(format!("saved {}", path.display())),
                Err(e) => messages.error(format!("{e:#}")),
            }
        }
        ui.label(egui::RichText::new(path.display().to_string()).weak());
    });
}
