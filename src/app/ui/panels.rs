//! The shell's panels and overlays drawn by the shell ([`super`]): replay timeline, scene live edit,
//! contact table, HUD, picture-in-picture, messages, key help and world labels.

use bevy::diagnostic::FrameTimeDiagnosticsPlugin;
use bevy::prelude::*;
use bevy_egui::egui;

use super::{KEY_HELP, ShellState, c32, mode_label, speed_label};
use crate::app::state::{DriverKind, OverlayLabels, PIP_SIZE, SimCommand, TimelineCommand};
use crate::overlay::is_pad_cube;

pub(super) fn timeline_ui(ui: &mut egui::Ui, s: &mut ShellState) {
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
        let exporting = s.timeline.export.is_some();
        let label = if exporting {
            "Writing video..."
        } else {
            "Export video"
        };
        if ui
            .add_enabled(!exporting, egui::Button::new(label))
            .on_hover_text(
                "the debug view with overlays and plots, as an MP4 in the recordings folder",
            )
            .clicked()
        {
            q.push(TimelineCommand::ExportVideo);
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
        for (name, at) in m.named() {
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
        fault_jump_ui(ui, &s.timeline, cursor, q);
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

/// Edits the contact-relevant scene values; "Apply" rebuilds the scene and keeps the state.
pub(super) fn scene_edit_ui(ui: &mut egui::Ui, s: &mut ShellState) {
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

pub(super) fn contact_table_ui(ui: &mut egui::Ui, s: &mut ShellState) {
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
    grasp_inspector_ui(ui, &s.snap.0.inspection);
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

/// Sliding and clipping steps of the recording (the grasp inspector) and a jump to the next.
fn fault_jump_ui(
    ui: &mut egui::Ui,
    timeline: &crate::app::state::ReplayTimeline,
    cursor: usize,
    q: &mut Vec<TimelineCommand>,
) {
    use crate::sim::GraspVerdict;
    let count = |v| timeline.faults.iter().filter(|(_, f)| *f == v).count();
    ui.label(format!(
        "grasp faults: {} clipping, {} sliding",
        count(GraspVerdict::Clipping),
        count(GraspVerdict::Sliding)
    ));
    match timeline.next_fault(cursor) {
        Some((k, v)) => {
            if ui.button(format!("next: {} @ {k}", v.label())).clicked() {
                q.push(TimelineCommand::Seek(k));
            }
        }
        None => {
            ui.label(egui::RichText::new("no fault after the cursor").weak());
        }
    }
}

/// The grasp inspector: the verdict (coloured when it is a fault or a jaw box), then per jaw
/// what touches the cube, how hard, how close to slipping and how deep.
fn grasp_inspector_ui(ui: &mut egui::Ui, g: &crate::sim::GraspInspection) {
    use crate::sim::GraspVerdict;
    let colour = match g.verdict {
        GraspVerdict::Clipping | GraspVerdict::Sliding => egui::Color32::from_rgb(230, 70, 60),
        GraspVerdict::JawBoxInvolved => egui::Color32::ORANGE,
        GraspVerdict::CleanPadGrasp => egui::Color32::from_rgb(90, 200, 110),
        GraspVerdict::NoContact | GraspVerdict::OneJaw => ui.visuals().text_color(),
    };
    ui.horizontal(|ui| {
        ui.strong("grasp:");
        ui.label(
            egui::RichText::new(g.verdict.label())
                .strong()
                .color(colour),
        );
    });
    for (name, jaw) in [("static jaw", &g.static_jaw), ("moving jaw", &g.moving_jaw)] {
        let touching = match (jaw.pad, jaw.other_geoms.is_empty()) {
            (false, true) => "nothing".to_owned(),
            (true, true) => "pad".to_owned(),
            (pad, false) => format!(
                "{}{}",
                if pad { "pad + " } else { "" },
                jaw.other_geoms.join(", ")
            ),
        };
        ui.label(format!(
            "{name}: {touching}  |  normal {:.2} N  cone use {:.2}  depth {:.2} mm",
            jaw.normal_force,
            jaw.max_cone_use,
            jaw.max_penetration * 1e3
        ));
    }
}

pub(super) fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

pub(super) fn hud_ui(ctx: &egui::Context, free: egui::Rect, s: &ShellState) {
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
                let meshes = if s.detail.as_ref().is_some_and(|d| d.lod()) {
                    "   decimated meshes"
                } else {
                    ""
                };
                ui.monospace(format!(
                    "view {}{meshes}   F1 help",
                    mode_label(&s.cameras.mode, &s.loaded)
                ));
            });
        });
}

pub(super) fn pip_ui(ctx: &egui::Context, free: egui::Rect, texture: egui::TextureId, name: &str) {
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

pub(super) fn messages_ui(ctx: &egui::Context, s: &mut ShellState) {
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

pub(super) fn help_ui(ctx: &egui::Context, open: &mut bool) {
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

pub(super) fn labels_ui(
    ctx: &egui::Context,
    cam: &Camera,
    gt: &GlobalTransform,
    labels: &OverlayLabels,
) {
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Background,
        egui::Id::new("world_labels"),
    ));
    // Stacked by screen space (like the video export): labels never overlap, and one moved off
    // its point gets a leader line.
    let bounds = ctx.viewport_rect();
    let bounds = [bounds.min.x, bounds.min.y, bounds.max.x, bounds.max.y];
    let mut placed: Vec<[f32; 4]> = Vec::new();
    for (at, text, colour) in &labels.0 {
        let Ok(p) = cam.world_to_viewport(gt, *at) else {
            continue;
        };
        let galley =
            painter.layout_no_wrap(text.clone(), egui::FontId::proportional(13.0), c32(*colour));
        let size = galley.size() + egui::vec2(6.0, 2.0);
        let r = crate::overlay::place_label(&placed, [p.x, p.y], [size.x, size.y], bounds);
        placed.push(r);
        let rect = egui::Rect::from_min_size(egui::pos2(r[0], r[1]), egui::vec2(r[2], r[3]));
        painter.line_segment(
            [egui::pos2(p.x, p.y), rect.left_center()],
            egui::Stroke::new(1.0, c32(*colour)),
        );
        painter.rect_filled(rect, 2.0, egui::Color32::from_black_alpha(170));
        painter.galley(rect.min + egui::vec2(3.0, 1.0), galley, c32(*colour));
    }
}
