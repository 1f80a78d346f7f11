//! `UiShellPlugin`: the egui shell around the 3D view: menu bar, control panel (simulation,
//! cameras, geom groups, overlays and legend), contact table, HUD, help, messages and world
//! labels. Panels only read state and push commands; the 3D view gets the area they leave free.

mod panels;
mod plots;
mod teleop_panels;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use bevy::diagnostic::{DiagnosticsStore, FrameTimeDiagnosticsPlugin};
use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, EguiTextureHandle, egui};

use super::state::{
    AppMessages, CameraSettings, DriverKind, GroupVisibility, LatestSnapshot, LoadedScene,
    MainCamera, OpenPanels, OverlayLabels, OverlaySettings, PipImage, PointerOverUi, RecordingsDir,
    ReplayTimeline, SPEEDS, SimClock, SimCommand, SimCommandQueue, SimResource, TimelineCommand,
    TimelineQueue, ViewMode, ViewportRect,
};
use crate::overlay::{LEGEND, Rgba};

/// Results of file dialogs running on their own threads.
#[derive(Resource)]
pub struct DialogResults {
    tx: Sender<DialogResult>,
    rx: Mutex<Receiver<DialogResult>>,
}

enum DialogResult {
    Scene(Option<PathBuf>),
    Episode(Option<PathBuf>),
    Policy(Option<PathBuf>),
}

impl Default for DialogResults {
    fn default() -> Self {
        let (tx, rx) = channel();
        Self {
            tx,
            rx: Mutex::new(rx),
        }
    }
}

/// The egui shell.
pub struct UiShellPlugin {
    /// Initial panel state.
    pub panels: OpenPanels,
}

impl Plugin for UiShellPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<FrameTimeDiagnosticsPlugin>() {
            app.add_plugins(FrameTimeDiagnosticsPlugin::default());
        }
        app.insert_resource(self.panels.clone())
            .init_resource::<PointerOverUi>()
            .init_resource::<DialogResults>()
            .add_systems(EguiPrimaryContextPass, shell_ui)
            .add_systems(Update, poll_dialogs);
    }
}

/// Keys shown in the help window: (key, action).
pub const KEY_HELP: [(&str, &str); 18] = [
    ("Space", "pause / run"),
    ("Right arrow", "one env step (pauses)"),
    ("Backspace", "reset the episode"),
    ("[  ]", "previous / next camera"),
    ("Mouse left drag", "orbit (free and tracking cameras)"),
    ("Mouse right drag", "pan"),
    ("Wheel", "zoom"),
    (
        "F",
        "auto-frame: the arm, the cube and the lift height in view",
    ),
    ("- / =", "slower / faster"),
    ("X", "x-ray arm and cube"),
    ("C", "contacts overlay"),
    ("G", "collision geoms"),
    ("P", "policy plots"),
    ("V", "policy view (what the policy receives)"),
    ("K", "TCP and camera calibration"),
    (
        "L",
        "meshes: full / decimated (the observation renderer's, for software rendering)",
    ),
    ("Alt + click", "read a mesh point (calibration window open)"),
    ("F1", "this help"),
];

pub(super) fn c32(c: Rgba) -> egui::Color32 {
    let b = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    egui::Color32::from_rgba_unmultiplied(b(c[0]), b(c[1]), b(c[2]), b(c[3]))
}

/// Everything the shell reads and writes, bundled to keep the system signature short.
#[derive(bevy::ecs::system::SystemParam)]
pub struct ShellState<'w> {
    pub(super) panels: ResMut<'w, OpenPanels>,
    pub(super) overlays: ResMut<'w, OverlaySettings>,
    pub(super) cameras: ResMut<'w, CameraSettings>,
    pub(super) groups: ResMut<'w, GroupVisibility>,
    pub(super) queue: ResMut<'w, SimCommandQueue>,
    pub(super) messages: ResMut<'w, AppMessages>,
    pub(super) rect: ResMut<'w, ViewportRect>,
    pub(super) over_ui: ResMut<'w, PointerOverUi>,
    pub(super) clock: Res<'w, SimClock>,
    pub(super) snap: Res<'w, LatestSnapshot>,
    pub(super) loaded: Res<'w, LoadedScene>,
    pub(super) sim: Res<'w, SimResource>,
    pub(super) labels: Res<'w, OverlayLabels>,
    pub(super) diagnostics: Res<'w, DiagnosticsStore>,
    pub(super) dialogs: Res<'w, DialogResults>,
    pub(super) pip: Option<Res<'w, PipImage>>,
    pub(super) history: Res<'w, super::state::PlotHistory>,
    pub(super) timeline: Res<'w, ReplayTimeline>,
    pub(super) timeline_queue: ResMut<'w, TimelineQueue>,
    pub(super) recordings: Res<'w, RecordingsDir>,
    pub(super) teleop: ResMut<'w, super::state::TeleopState>,
    pub(super) detail: Option<ResMut<'w, super::state::MeshDetailSettings>>,
}

fn shell_ui(
    mut contexts: EguiContexts,
    mut s: ShellState,
    camera: Query<(&Camera, &GlobalTransform), With<MainCamera>>,
) -> Result {
    let pip = s
        .pip
        .as_ref()
        .map(|p| contexts.add_image(EguiTextureHandle::Weak(p.0.id())));
    let ctx = contexts.ctx_mut()?.clone();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    // Panels take at most about a quarter of the window each, so the 3D view survives small windows.
    let window = ctx.viewport_rect().size();
    if s.panels.shell {
        egui::Panel::top("menu").show(&mut root, |ui| menu_bar(ui, &mut s));
        if s.panels.controls {
            egui::Panel::left("controls")
                .resizable(true)
                .default_size(270.0_f32.min(window.x * 0.25))
                .show(&mut root, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| controls_ui(ui, &mut s));
                });
        }
        if s.timeline.is_active() {
            egui::Panel::bottom("timeline").show(&mut root, |ui| panels::timeline_ui(ui, &mut s));
        }
        if s.panels.plots {
            let cursor = s.timeline.replay.as_ref().map(|r| r.cursor());
            let clicked = egui::Panel::right("policy")
                .resizable(true)
                .default_size(360.0_f32.min(window.x * 0.28))
                .show(&mut root, |ui| {
                    plots::plots_ui(ui, &s.history, &s.sim, cursor)
                })
                .inner;
            if let (Some(k), true) = (clicked, cursor.is_some()) {
                s.timeline_queue.0.push(TimelineCommand::Seek(k));
            }
        }
        if s.panels.contacts {
            egui::Panel::bottom("contacts")
                .resizable(true)
                .default_size(150.0_f32.min(window.y * 0.22))
                .show(&mut root, |ui| panels::contact_table_ui(ui, &mut s));
        }
    }
    let free = root.available_rect_before_wrap();
    s.over_ui.0 = ctx.pointer_hover_pos().is_some_and(|p| !free.contains(p));
    let new_rect = (free != ctx.viewport_rect()).then(|| {
        Rect::from_corners(
            Vec2::new(free.min.x, free.min.y),
            Vec2::new(free.max.x, free.max.y),
        )
    });
    if s.rect.0 != new_rect {
        s.rect.0 = new_rect;
    }
    if s.panels.shell {
        panels::hud_ui(&ctx, free, &s);
        teleop_panels::teleop_hud_ui(&ctx, free, &s.teleop, &s.snap, &s.loaded);
        if let (Some(texture), Some(cam)) = (pip, s.cameras.pip) {
            panels::pip_ui(
                &ctx,
                free,
                texture,
                &mode_label(&ViewMode::Mjcf(cam), &s.loaded),
            );
        }
        panels::messages_ui(&ctx, &mut s);
    }
    if s.panels.help {
        panels::help_ui(&ctx, &mut s.panels.help);
    }
    if let Ok((cam, gt)) = camera.single() {
        panels::labels_ui(&ctx, cam, gt, &s.labels);
    }
    Ok(())
}

fn menu_bar(ui: &mut egui::Ui, s: &mut ShellState) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open scene config...").clicked() {
                open_scene_dialog(&s.dialogs);
                ui.close();
            }
            if ui.button("Open policy...").clicked() {
                let tx = s.dialogs.tx.clone();
                std::thread::spawn(move || {
                    let picked = rfd::FileDialog::new()
                        .add_filter("policy", &["safetensors", "pt", "ts"])
                        .pick_file();
                    let _ = tx.send(DialogResult::Policy(picked));
                });
                ui.close();
            }
            if ui.button("Open episode...").clicked() {
                open_episode_dialog(&s.dialogs, s.recordings.0.clone());
                ui.close();
            }
            let recording = s.sim.session.is_recording();
            let label = if recording {
                "Stop recording"
            } else {
                "Record live session"
            };
            if ui.button(label).clicked() {
                s.queue.push(SimCommand::SetRecording(!recording));
                ui.close();
            }
            if ui.button("Reload scene").clicked() {
                match s.loaded.path.clone() {
                    Some(p) => s.queue.push(SimCommand::LoadScene(p)),
                    None => s.queue.push(SimCommand::ApplySceneConfig(Box::new(
                        s.loaded.config.clone(),
                    ))),
                }
                ui.close();
            }
        });
        ui.menu_button("View", |ui| {
            ui.checkbox(&mut s.panels.controls, "Controls panel");
            ui.checkbox(&mut s.panels.contacts, "Contact table");
            ui.checkbox(&mut s.panels.plots, "Policy plots (P)");
            ui.checkbox(&mut s.panels.policy_view, "Policy view (V)");
            ui.checkbox(&mut s.panels.triage, "Failure triage");
            ui.checkbox(&mut s.panels.calibration, "TCP and camera calibration (K)");
            ui.checkbox(&mut s.overlays.legend, "Legend");
            mesh_detail_ui(ui, s);
        });
        if ui.button("Help (F1)").clicked() {
            s.panels.help = !s.panels.help;
        }
        ui.separator();
        let scene = s
            .loaded
            .path
            .as_ref()
            .map_or_else(|| "default scene".to_owned(), |p| p.display().to_string());
        ui.label(egui::RichText::new(scene).weak());
    });
}

/// The full / decimated mesh switch (L), with what each draws.
fn mesh_detail_ui(ui: &mut egui::Ui, s: &mut ShellState) {
    let Some(detail) = s.detail.as_mut() else {
        return;
    };
    let (full, lod) = (
        s.loaded.mesh_triangles(false),
        s.loaded.mesh_triangles(true),
    );
    let mut on = detail.lod();
    let hover = format!(
        "full: {full} mesh triangles; decimated: {lod} (the observation renderer's meshes). \
         Now: {}; adapter: {}",
        detail.describe(),
        detail.adapter.as_deref().unwrap_or("unknown")
    );
    // Written only on a click: a mutable borrow every frame would count as a change.
    if ui
        .checkbox(&mut on, "Decimated meshes (L)")
        .on_hover_text(hover)
        .changed()
    {
        detail.lod = Some(on);
    }
}

fn open_scene_dialog(dialogs: &DialogResults) {
    let tx = dialogs.tx.clone();
    // rfd blocks; keep the frame loop running while the dialog is open.
    std::thread::spawn(move || {
        let picked = rfd::FileDialog::new()
            .add_filter("scene config", &["toml"])
            .set_directory(crate::config::default_configs_dir())
            .pick_file();
        let _ = tx.send(DialogResult::Scene(picked));
    });
}

fn open_episode_dialog(dialogs: &DialogResults, dir: PathBuf) {
    let tx = dialogs.tx.clone();
    std::thread::spawn(move || {
        let picked = rfd::FileDialog::new()
            .add_filter("episode", &["jsonl"])
            .set_directory(dir)
            .pick_file();
        let _ = tx.send(DialogResult::Episode(picked));
    });
}

fn poll_dialogs(
    dialogs: Res<DialogResults>,
    mut queue: ResMut<SimCommandQueue>,
    mut timeline: ResMut<TimelineQueue>,
    mut messages: ResMut<AppMessages>,
) {
    let Ok(rx) = dialogs.rx.lock() else {
        return;
    };
    while let Ok(result) = rx.try_recv() {
        match result {
            DialogResult::Scene(Some(path)) => queue.push(SimCommand::LoadScene(path)),
            DialogResult::Episode(Some(path)) => timeline.0.push(TimelineCommand::Open(path)),
            DialogResult::Policy(Some(path)) => queue.push(SimCommand::LoadPolicy(path)),
            DialogResult::Scene(None)
            | DialogResult::Episode(None)
            | DialogResult::Policy(None) => {
                messages.info("no file chosen");
            }
        }
    }
}

fn controls_ui(ui: &mut egui::Ui, s: &mut ShellState) {
    ui.heading("Simulation");
    ui.horizontal(|ui| {
        let label = if s.clock.is_paused { "Run" } else { "Pause" };
        if ui.button(label).clicked() {
            s.queue.push(SimCommand::TogglePause);
        }
        if ui.button("Step").clicked() {
            s.queue.push(SimCommand::StepOnce);
        }
    });
    let mut speed = s.clock.speed;
    egui::ComboBox::from_label("speed")
        .selected_text(speed_label(speed))
        .show_ui(ui, |ui| {
            for v in SPEEDS {
                ui.selectable_value(&mut speed, v, speed_label(v));
            }
        });
    if speed != s.clock.speed {
        s.queue.push(SimCommand::SetSpeed(speed));
    }
    ui.horizontal(|ui| {
        ui.label("seed");
        ui.add(egui::TextEdit::singleline(&mut s.panels.seed_text).desired_width(60.0));
        if ui.button("Reset").clicked() {
            match s.panels.seed_text.trim().parse::<u64>() {
                Ok(seed) => s.queue.push(SimCommand::Reset(Some(seed))),
                Err(_) => s.messages.error(format!(
                    "seed '{}' is not a whole number",
                    s.panels.seed_text
                )),
            }
        }
    });
    ui.horizontal(|ui| {
        let p = &mut s.panels.cube_placement;
        ui.label("cube");
        ui.add(
            egui::DragValue::new(&mut p[0])
                .speed(0.002)
                .range(0.1..=0.4)
                .prefix("x "),
        );
        ui.add(
            egui::DragValue::new(&mut p[1])
                .speed(0.002)
                .range(-0.3..=0.3)
                .prefix("y "),
        );
        ui.add(
            egui::DragValue::new(&mut p[2])
                .speed(1.0)
                .range(-90.0..=90.0)
                .prefix("yaw "),
        );
        if ui.button("Reset here").clicked() {
            let [x, y, yaw] = *p;
            let seed = s.panels.seed_text.trim().parse::<u64>().unwrap_or(0);
            s.queue.push(SimCommand::ResetWithCube {
                seed,
                placement: [x, y, yaw.to_radians()],
            });
        }
    });
    ui.horizontal(|ui| {
        ui.label("arm driven by");
        let current = s.sim.session.driver.name();
        for (kind, name) in [
            (DriverKind::Hold, "hold"),
            (DriverKind::Scripted, "scripted pick"),
            (DriverKind::Policy, "policy"),
        ] {
            let has_policy =
                kind != DriverKind::Policy || current == "policy" || s.sim.parked_policy.is_some();
            if ui
                .add_enabled(has_policy, egui::Button::selectable(current == name, name))
                .clicked()
            {
                s.queue.push(SimCommand::SetDriver(kind));
            }
        }
    });
    if let crate::session::Driver::Policy { sampled, .. } = &s.sim.session.driver {
        let mut on = *sampled;
        if ui
            .checkbox(&mut on, "sample actions (off: deterministic mean)")
            .changed()
        {
            s.queue.push(SimCommand::SetSampled(on));
        }
    }
    ui.separator();
    egui::CollapsingHeader::new("Scene (live edit)")
        .default_open(false)
        .show(ui, |ui| panels::scene_edit_ui(ui, s));
    egui::CollapsingHeader::new("Jog and teleop")
        .default_open(false)
        .show(ui, |ui| {
            teleop_panels::jog_panel_ui(ui, &mut s.teleop, &s.snap, &s.loaded, &mut s.queue);
        });
    ui.separator();
    ui.heading("Cameras");
    camera_ui(ui, s);
    if ui
        .button("Auto-frame (F)")
        .on_hover_text("the free camera, framing the arm, the cube and the lift height")
        .clicked()
    {
        s.cameras.request_auto_frame();
    }
    ui.separator();
    ui.heading("Geom groups");
    ui.horizontal(|ui| {
        for (i, on) in s.groups.groups.iter_mut().enumerate() {
            ui.checkbox(on, i.to_string());
        }
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut s.groups.visual, "visual geoms");
        ui.checkbox(&mut s.groups.collision, "collision geoms");
    });
    ui.separator();
    ui.heading("Overlays");
    overlay_controls_ui(ui, s);
}

pub(super) fn speed_label(v: f64) -> String {
    if v < 1.0 {
        format!("1/{:.0}x", 1.0 / v)
    } else {
        format!("{v:.0}x")
    }
}

pub(super) fn mode_label(mode: &ViewMode, loaded: &LoadedScene) -> String {
    let body = |b: usize| {
        if b == loaded.handles.cube_body {
            "cube"
        } else {
            "gripper"
        }
    };
    match mode {
        ViewMode::Free => "free".into(),
        ViewMode::Mjcf(c) => loaded
            .visuals
            .cameras
            .get(*c)
            .map_or_else(|| format!("camera {c}"), |cam| cam.name.clone()),
        ViewMode::Track(b) => format!("track {}", body(*b)),
    }
}

fn camera_ui(ui: &mut egui::Ui, s: &mut ShellState) {
    let modes = CameraSettings::cycle(&s.loaded);
    let mut mode = s.cameras.mode.clone();
    egui::ComboBox::from_label("main view")
        .selected_text(mode_label(&mode, &s.loaded))
        .show_ui(ui, |ui| {
            for m in &modes {
                ui.selectable_value(&mut mode, m.clone(), mode_label(m, &s.loaded));
            }
        });
    s.cameras.mode = mode;
    let mut pip = s.cameras.pip;
    let pip_label = |p: Option<usize>| match p {
        None => "off".to_owned(),
        Some(c) => mode_label(&ViewMode::Mjcf(c), &s.loaded),
    };
    egui::ComboBox::from_label("picture in picture")
        .selected_text(pip_label(pip))
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut pip, None, "off");
            for c in &s.loaded.visuals.cameras {
                ui.selectable_value(&mut pip, Some(c.id), c.name.as_str());
            }
        });
    s.cameras.pip = pip;
}

fn overlay_controls_ui(ui: &mut egui::Ui, s: &mut ShellState) {
    let o = &mut *s.overlays;
    ui.checkbox(&mut o.site_markers, "gripperframe / graspframe spheres");
    ui.checkbox(&mut o.site_frames, "site frames (axes)");
    ui.checkbox(&mut o.targets, "IK and pick targets");
    ui.checkbox(&mut o.contacts, "contacts: points, normals, forces");
    ui.add(
        egui::Slider::new(&mut o.force_scale, 0.001..=0.1)
            .logarithmic(true)
            .text("m per N"),
    );
    ui.checkbox(&mut o.xray, "x-ray arm and cube");
    ui.checkbox(&mut o.legend, "legend");
    ui.checkbox(&mut o.ghost, "ghost arm: IK solution of the teleop goal");
    if o.legend {
        for (name, c) in LEGEND {
            ui.horizontal(|ui| {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, c32(c));
                ui.label(name);
            });
        }
    }
}
