//! The teleop panels: the jog panel (joint sliders, Cartesian goal, gripper) and the HUD shown
//! while teleop drives the arm.

use bevy_egui::egui;

use crate::app::state::{
    DriverKind, LatestSnapshot, LoadedScene, SimCommand, SimCommandQueue, TELEOP_KEYS, TeleopState,
};
use crate::scene::names::{ALL_JOINTS, GRIPPER_INDEX};

/// The jog panel: joint sliders with limit bars, teleop switch and HUD, scripted pick button.
pub fn jog_panel_ui(
    ui: &mut egui::Ui,
    state: &mut TeleopState,
    snap: &LatestSnapshot,
    loaded: &LoadedScene,
    queue: &mut SimCommandQueue,
) {
    let joints = &loaded.handles.joints;
    let q: Vec<f64> = joints
        .iter()
        .map(|j| snap.0.qpos.get(j.qpos_adr).copied().unwrap_or(0.0))
        .collect();
    ui.horizontal(|ui| {
        if ui.button("Joints from arm").clicked() {
            for (t, v) in state.joints.iter_mut().zip(&q) {
                *t = *v;
            }
        }
        if ui.button("Run scripted pick from here").clicked() {
            state.active = false;
            queue.push(SimCommand::SetDriver(DriverKind::Scripted));
        }
    });
    let mut changed = false;
    for (i, j) in joints.iter().enumerate() {
        let [lo, hi] = j.ctrl_range;
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(ALL_JOINTS[i]).monospace());
            changed |= ui
                .add(egui::Slider::new(&mut state.joints[i], lo..=hi).fixed_decimals(2))
                .changed();
        });
        // Where the joint is within its limits; red near a limit.
        let frac = ((q[i] - j.range[0]) / (j.range[1] - j.range[0]).max(1e-9)).clamp(0.0, 1.0);
        let near = !(0.03..=0.97).contains(&frac);
        let bar = egui::ProgressBar::new(frac as f32)
            .desired_height(4.0)
            .fill(if near {
                egui::Color32::from_rgb(220, 60, 60)
            } else {
                egui::Color32::from_rgb(90, 140, 220)
            });
        ui.add(bar);
    }
    ui.horizontal(|ui| {
        for (name, open) in [("open gripper", true), ("close gripper", false)] {
            if ui.button(name).clicked() {
                let r = joints[GRIPPER_INDEX].ctrl_range;
                state.joints[GRIPPER_INDEX] = if open { r[1] } else { r[0] };
                changed = true;
            }
        }
    });
    if changed {
        state.active = false;
        queue.push(SimCommand::JogJoints(state.joints));
    }
    ui.separator();
    let mut active = state.active;
    if ui
        .checkbox(&mut active, "teleop (keys drive the TCP; viewer keys off)")
        .changed()
    {
        if active {
            state.enter(snap, loaded);
            queue.push(SimCommand::Teleop {
                target: state.target,
                gripper: if state.gripper_open { 1.0 } else { -1.0 },
            });
        } else {
            state.active = false;
            queue.push(SimCommand::SetDriver(DriverKind::Hold));
        }
    }
    ui.horizontal(|ui| {
        ui.checkbox(&mut state.discrete, "step per key press");
        if state.discrete {
            ui.add(egui::Slider::new(&mut state.step_m, 0.001..=0.05).text("m"));
        } else {
            ui.add(egui::Slider::new(&mut state.speed_m_s, 0.005..=0.2).text("m/s"));
        }
    });
}

/// The teleop HUD: key map, gripper state, goal and how far the TCP is from it.
pub fn teleop_hud_ui(
    ctx: &egui::Context,
    free: egui::Rect,
    state: &TeleopState,
    snap: &LatestSnapshot,
    loaded: &LoadedScene,
) {
    if !state.active {
        return;
    }
    let tcp = snap
        .0
        .site(loaded.handles.gripperframe_site)
        .unwrap_or_default();
    let err: f64 = tcp
        .iter()
        .zip(state.target)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    egui::Area::new(egui::Id::new("teleop_hud"))
        .fixed_pos(egui::pos2(free.min.x + 8.0, free.max.y - 190.0))
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.strong("TELEOP (keys go to the arm)");
                for (k, what) in TELEOP_KEYS {
                    ui.monospace(format!("{k:<7} {what}"));
                }
                ui.monospace(format!(
                    "gripper {}  goal ({:.3}, {:.3}, {:.3})",
                    if state.gripper_open { "OPEN" } else { "CLOSED" },
                    state.target[0],
                    state.target[1],
                    state.target[2]
                ));
                let reach = if err < 0.005 { "reached" } else { "following" };
                ui.monospace(format!("TCP to goal {:.1} mm ({reach})", err * 1e3));
                if let Some(g) = &snap.0.annotations.ghost {
                    let names: Vec<&str> = g.at_limit.iter().map(|&i| ALL_JOINTS[i]).collect();
                    let verdict = if g.converged {
                        "reachable".to_owned()
                    } else {
                        format!("OUT OF REACH by {:.1} mm", g.pos_err * 1e3)
                    };
                    let limits = if names.is_empty() {
                        String::new()
                    } else {
                        format!("; at limit: {}", names.join(", "))
                    };
                    ui.monospace(format!("IK solution (ghost): {verdict}{limits}"));
                }
                ui.label(
                    egui::RichText::new(
                        "5 DoF: the IK holds position only (and top-down pitch when the task \
                         asks); wrist roll stays at the task's value",
                    )
                    .small(),
                );
            });
        });
}
