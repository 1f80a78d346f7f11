//! `UiShellPlugin`: the egui shell around the 3D view: menu bar, control panel (simulation,
//! cameras, geom groups, overlays and legend), contact table, HUD, help, messages and world
//! labels. Panels only read state and push commands; the 3D view gets the area they leave free.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use bevy::diagnostic::{DiagnosticsStore, FrameTimeDiagnosticsPlugin};
use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, EguiTextureHandle, egui};

use super::cameras::{CameraSettings, MainCamera, PIP_SIZE, PipImage, ViewMode, ViewportRect};
use super::overlays::{OverlayLabels, OverlaySettings};
use super::replay::{RecordingsDir, ReplayTimeline, TimelineCommand, TimelineQueue};
use super::scene_render::GroupVisibility;
use super::sim_plugin::{
    AppMessages, DriverKind, LatestSnapshot, LoadedScene, SPEEDS, SimClock, SimCommand,
    SimCommandQueue, SimResource,
};
use crate::overlay::{LEGEND, Rgba, is_pad_cube};

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
    /// Seed typed in the reset field.
    pub seed_text: String,
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
            seed_text: "0".into(),
            scene_draft: None,
        }
    }
}

/// Whether the pointer is over a panel this frame (egui reports windows, not panels).
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct PointerOverUi(pub bool);

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
pub const KEY_HELP: [(&str, &str); 13] = [
    ("Space", "pause / run"),
    ("Right arrow", "one env step (pauses)"),
    ("Backspace", "reset the episode"),
    ("[  ]", "previous / next camera"),
    ("Mouse left drag", "orbit (free and tracking cameras)"),
    ("Mouse right drag", "pan"),
    ("Wheel", "zoom"),
    ("- / =", "slower / faster"),
    ("X", "x-ray arm and cube"),
    ("C", "contacts overlay"),
    ("G", "collision geoms"),
    ("P", "policy plots"),
    ("F1", "this help"),
];

fn c32(c: Rgba) -> egui::Color32 {
    let b = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    egui::Color32::from_rgba_unmultiplied(b(c[0]), b(c[1]), b(c[2]), b(c[3]))
}

/// Everything the shell reads and writes, bundled to keep the system signature short.
#[derive(bevy::ecs::system::SystemParam)]
pub struct ShellState<'w> {
    panels: ResMut<'w, OpenPanels>,
    overlays: ResMut<'w, OverlaySettings>,
    cameras: ResMut<'w, CameraSettings>,
    groups: ResMut<'w, GroupVisibility>,
    queue: ResMut<'w, SimCommandQueue>,
    messages: ResMut<'w, AppMessages>,
    rect: ResMut<'w, ViewportRect>,
    over_ui: ResMut<'w, PointerOverUi>,
    clock: Res<'w, SimClock>,
    snap: Res<'w, LatestSnapshot>,
    loaded: Res<'w, LoadedScene>,
    sim: Res<'w, SimResource>,
    labels: Res<'w, OverlayLabels>,
    diagnostics: Res<'w, DiagnosticsStore>,
    dialogs: Res<'w, DialogResults>,
    pip: Option<Res<'w, PipImage>>,
    history: Res<'w, super::policy_plots::PlotHistory>,
    timeline: Res<'w, ReplayTimeline>,
    timeline_queue: ResMut<'w, TimelineQueue>,
    recordings: Res<'w, RecordingsDir>,
    teleop: ResMut<'w, super::teleop::TeleopState>,
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
            egui::Panel::bottom("timeline").show(&mut root, |ui| timeline_ui(ui, &mut s));
        }
        if s.panels.plots {
            let cursor = s.timeline.replay.as_ref().map(|r| r.cursor());
            let clicked = egui::Panel::right("policy")
                .resizable(true)
                .default_size(360.0_f32.min(window.x * 0.28))
                .show(&mut root, |ui| {
                    super::policy_plots::plots_ui(ui, &s.history, &s.sim, cursor)
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
                .show(&mut root, |ui| contact_table_ui(ui, &mut s));
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
        hud_ui(&ctx, free, &s);
        super::teleop::teleop_hud_ui(&ctx, free, &s.teleop, &s.snap, &s.loaded);
        if let (Some(texture), Some(cam)) = (pip, s.cameras.pip) {
            pip_ui(
                &ctx,
                free,
                texture,
                &mode_label(&ViewMode::Mjcf(cam), &s.loaded),
            );
        }
        messages_ui(&ctx, &mut s);
    }
    if s.panels.help {
        help_ui(&ctx, &mut s.panels.help);
    }
    if let Ok((cam, gt)) = camera.single() {
        labels_ui(&ctx, cam, gt, &s.labels);
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
            ui.checkbox(&mut s.overlays.legend, "Legend");
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

fn timeline_ui(ui: &mut egui::Ui, s: &mut ShellState) {
    let Some(r) = s.timeline.replay.as_ref() else {
        return;
    };
    let (cursor, last) = (r.cursor(), r.len() - 1);
    let q = &mut s.timeline_queue.0;
    ui.horizontal(|ui| {
        ui.strong("Replay");
        ui.label(r.path.display().to_string());
        if ui.button("Back to live").clicked() {
            q.push(TimelineCommand::Close);
        }
    });
    ui.horizontal(|ui| {
        if ui.button("|<").clicked() {
            q.push(TimelineCommand::Seek(0));
        }
        if ui.button("<").clicked() {
            q.push(TimelineCommand::StepBy(-1));
        }
        let play = if s.timeline.playing { "Pause" } else { "Play" };
        if ui.button(play).clicked() {
            q.push(TimelineCommand::Play(!s.timeline.playing));
        }
        if ui.button(">").clicked() {
            q.push(TimelineCommand::StepBy(1));
        }
        if ui.button(">|").clicked() {
            q.push(TimelineCommand::Seek(last));
        }
        let mut speed = s.timeline.speed;
        egui::ComboBox::from_id_salt("replay_speed")
            .selected_text(speed_label(speed))
            .show_ui(ui, |ui| {
                for v in [1.0 / 16.0, 0.25, 0.5, 1.0, 2.0, 4.0, 16.0] {
                    ui.selectable_value(&mut speed, v, speed_label(v));
                }
            });
        if speed != s.timeline.speed {
            q.push(TimelineCommand::SetSpeed(speed));
        }
        let mut k = cursor;
        let width = (ui.available_width() - 20.0).max(100.0);
        ui.spacing_mut().slider_width = width;
        if ui
            .add(egui::Slider::new(&mut k, 0..=last).text("step"))
            .changed()
        {
            q.push(TimelineCommand::Seek(k));
        }
    });
    ui.horizontal(|ui| {
        let m = s.timeline.markers;
        for (name, at) in [
            ("grasp", m.grasp),
            ("lift > 0.08 m", m.lift),
            ("drop", m.drop),
        ] {
            match at {
                Some(k) => {
                    if ui.button(format!("{name} @ {k}")).clicked() {
                        q.push(TimelineCommand::Seek(k));
                    }
                }
                None => {
                    ui.label(egui::RichText::new(format!("no {name}")).weak());
                }
            }
        }
        ui.separator();
        ui.label(format!("take over at step {cursor} with"));
        for (kind, name) in [
            (DriverKind::Hold, "hold"),
            (DriverKind::Scripted, "scripted pick"),
            (DriverKind::Policy, "policy"),
        ] {
            if ui.button(name).clicked() {
                q.push(TimelineCommand::TakeOver(kind));
            }
        }
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
        .show(ui, |ui| scene_edit_ui(ui, s));
    egui::CollapsingHeader::new("Jog and teleop")
        .default_open(false)
        .show(ui, |ui| {
            super::teleop::jog_panel_ui(ui, &mut s.teleop, &s.snap, &s.loaded, &mut s.queue);
        });
    ui.separator();
    ui.heading("Cameras");
    camera_ui(ui, s);
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

/// Edits the contact-relevant scene values; "Apply" rebuilds the scene and keeps the state.
fn scene_edit_ui(ui: &mut egui::Ui, s: &mut ShellState) {
    let current = s.loaded.config.clone();
    let generation = s.loaded.generation;
    if s.panels
        .scene_draft
        .as_ref()
        .is_none_or(|(g, _)| *g != generation)
    {
        s.panels.scene_draft = Some((generation, current.clone()));
    }
    let Some((_, draft)) = s.panels.scene_draft.as_mut() else {
        return;
    };
    let mut protrusion_mm = draft.pads.protrusion_m * 1e3;
    ui.add(egui::Slider::new(&mut draft.contact.pad_friction[0], 0.1..=3.0).text("pad friction"));
    ui.add(egui::Slider::new(&mut draft.cube.friction[0], 0.1..=3.0).text("cube friction"));
    ui.add(egui::Slider::new(&mut protrusion_mm, -0.5..=0.5).text("pad protrusion mm"));
    draft.pads.protrusion_m = protrusion_mm * 1e-3;
    ui.add(
        egui::Slider::new(&mut draft.contact.pad_solref[0], 0.002..=0.05)
            .logarithmic(true)
            .text("pad solref time const"),
    );
    ui.add(egui::Slider::new(&mut draft.contact.pad_solimp[0], 0.5..=0.9999).text("pad solimp d0"));
    ui.add(
        egui::Slider::new(&mut draft.contact.pad_solimp[1], 0.5..=0.9999).text("pad solimp dwidth"),
    );
    let edited = *draft != current;
    ui.horizontal(|ui| {
        if ui
            .add_enabled(edited, egui::Button::new("Apply (rebuild, keep state)"))
            .clicked()
        {
            s.queue
                .push(SimCommand::ApplySceneConfig(Box::new(draft.clone())));
        }
        if ui
            .add_enabled(edited, egui::Button::new("Revert"))
            .clicked()
        {
            *draft = current.clone();
        }
    });
}

fn speed_label(v: f64) -> String {
    if v < 1.0 {
        format!("1/{:.0}x", 1.0 / v)
    } else {
        format!("{v:.0}x")
    }
}

fn mode_label(mode: &ViewMode, loaded: &LoadedScene) -> String {
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

fn contact_table_ui(ui: &mut egui::Ui, s: &mut ShellState) {
    let contacts = &s.snap.0.contacts;
    let g = &s.snap.0.grasp;
    ui.horizontal(|ui| {
        ui.strong(format!("{} contacts", contacts.len()));
        ui.label(format!(
            "static pad {}  moving pad {}  grasping {}  deepest hand penetration {:.2} mm",
            yes(g.static_pad_contact),
            yes(g.moving_pad_contact),
            yes(g.grasping),
            g.max_hand_penetration * 1e3
        ));
    });
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("contact_grid")
            .striped(true)
            .num_columns(6)
            .show(ui, |ui| {
                for h in [
                    "pair",
                    "normal force N",
                    "tangent N",
                    "cone use",
                    "penetration mm",
                    "",
                ] {
                    ui.strong(h);
                }
                ui.end_row();
                for (i, c) in contacts.iter().enumerate() {
                    let selected = s.overlays.selected_contact == Some(i);
                    let pad = is_pad_cube(c, &s.loaded.handles);
                    let mut pair = egui::RichText::new(format!("{} / {}", c.name1, c.name2));
                    if pad {
                        pair = pair.color(c32(crate::overlay::PAD_CONTACT_COLOR));
                    }
                    if ui.selectable_label(selected, pair).clicked() {
                        s.overlays.selected_contact = (!selected).then_some(i);
                    }
                    ui.label(format!("{:.3}", c.normal_force));
                    ui.label(format!("{:.3}", c.tangent_force));
                    let cone = c.cone_use();
                    let txt = egui::RichText::new(format!("{cone:.2}"));
                    ui.label(if cone > 0.9 {
                        txt.color(egui::Color32::ORANGE)
                    } else {
                        txt
                    });
                    ui.label(format!("{:.3}", c.penetration * 1e3));
                    ui.label(if pad { "pad-cube" } else { "" });
                    ui.end_row();
                }
            });
    });
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn hud_ui(ctx: &egui::Context, free: egui::Rect, s: &ShellState) {
    let fps = s
        .diagnostics
        .get(&FrameTimeDiagnosticsPlugin::FPS)
        .and_then(|d| d.smoothed())
        .unwrap_or(0.0);
    let session = &s.sim.session;
    egui::Area::new(egui::Id::new("hud"))
        .fixed_pos(free.min + egui::vec2(8.0, 8.0))
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                let state = match &s.timeline.replay {
                    Some(r) => format!("REPLAY {}/{}", r.cursor(), r.len() - 1),
                    None if s.clock.is_paused => "PAUSED".to_owned(),
                    None => "running".to_owned(),
                };
                let recording = if session.is_recording() { "  REC" } else { "" };
                ui.monospace(format!(
                    "t {:7.3} s  {state}  speed {}{recording}",
                    s.snap.0.time,
                    speed_label(s.clock.speed)
                ));
                ui.monospace(format!(
                    "real-time factor {:.2}   {fps:.0} fps   {} contacts",
                    s.clock.real_time_factor,
                    s.snap.0.contacts.len()
                ));
                ui.monospace(format!(
                    "driver {}  seed {}  step {}  return {:.2}",
                    session.driver.name(),
                    session.seed(),
                    session.env().steps(),
                    session.episode_return()
                ));
                ui.monospace(format!(
                    "view {}   F1 help",
                    mode_label(&s.cameras.mode, &s.loaded)
                ));
            });
        });
}

fn pip_ui(ctx: &egui::Context, free: egui::Rect, texture: egui::TextureId, name: &str) {
    let full = egui::vec2(PIP_SIZE.x as f32, PIP_SIZE.y as f32);
    // Never cover more than ~40% of the view's width or height.
    let size = full
        * (free.width() * 0.4 / full.x)
            .min(free.height() * 0.4 / full.y)
            .min(1.0);
    let pos = free.max - size - egui::vec2(10.0, 28.0);
    egui::Area::new(egui::Id::new("pip"))
        .fixed_pos(pos)
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style())
                .inner_margin(2.0)
                .show(ui, |ui| {
                    ui.label(egui::RichText::new(format!("{name} camera")).small());
                    ui.image((texture, size));
                });
        });
}

fn messages_ui(ctx: &egui::Context, s: &mut ShellState) {
    if !s.messages.items.iter().any(|(_, err)| *err) {
        return;
    }
    let mut clear = false;
    egui::Window::new("Messages")
        .anchor(egui::Align2::CENTER_TOP, [0.0, 40.0])
        .collapsible(false)
        .show(ctx, |ui| {
            for (m, err) in s.messages.items.iter().rev().take(8) {
                let t = egui::RichText::new(m);
                ui.label(if *err {
                    t.color(egui::Color32::LIGHT_RED)
                } else {
                    t
                });
            }
            clear = ui.button("Dismiss").clicked();
        });
    if clear {
        s.messages.items.clear();
    }
}

fn help_ui(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keys")
        .open(open)
        .collapsible(false)
        .show(ctx, |ui| {
            egui::Grid::new("keys").num_columns(2).show(ui, |ui| {
                for (k, what) in KEY_HELP {
                    ui.monospace(k);
                    ui.label(what);
                    ui.end_row();
                }
            });
        });
}

fn labels_ui(ctx: &egui::Context, cam: &Camera, gt: &GlobalTransform, labels: &OverlayLabels) {
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Background,
        egui::Id::new("world_labels"),
    ));
    for (at, text, colour) in &labels.0 {
        if let Ok(p) = cam.world_to_viewport(gt, *at) {
            painter.text(
                egui::pos2(p.x + 10.0, p.y - 6.0),
                egui::Align2::LEFT_BOTTOM,
                text,
                egui::FontId::proportional(13.0),
                c32(*colour),
            );
        }
    }
}
