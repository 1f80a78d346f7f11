//! `TeleopPlugin`: moving the arm by hand. A joint panel (servo targets with limit bars) jogs by
//! joint; teleop mode moves a TCP goal with the keyboard or a gamepad and the arm follows through
//! the env's own IK actions. While teleop is on it owns the keyboard: no viewer shortcut fires.

use bevy::prelude::*;
use bevy_egui::egui;

use super::shortcuts::KeyCapture;
use super::sim_plugin::{DriverKind, LatestSnapshot, LoadedScene, SimCommand, SimCommandQueue};
use crate::scene::names::{ALL_JOINTS, GRIPPER_INDEX};

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

/// Key map shown in the teleop HUD: (keys, action).
pub const TELEOP_KEYS: [(&str, &str); 6] = [
    ("W / S", "+x / -x (away from / toward the base)"),
    ("A / D", "+y / -y"),
    ("R / F", "+z / -z"),
    ("Space", "open / close the gripper"),
    ("Shift", "4x faster"),
    ("Esc", "leave teleop"),
];

/// Hand control of the arm.
pub struct TeleopPlugin;

impl Plugin for TeleopPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<TeleopState>().add_systems(
            Update,
            (
                teleop_input.before(super::shortcuts::viewer_shortcuts),
                joint_panel_follows_arm,
            ),
        );
    }
}

/// Unless a person jogs by joint, the joint panel shows where the arm's joints are (live, or at
/// the replay cursor), so a first drag starts from the arm and not from zeros.
pub fn joint_panel_follows_arm(
    mut state: ResMut<TeleopState>,
    snap: Res<LatestSnapshot>,
    loaded: Res<LoadedScene>,
) {
    if snap.0.annotations.joint_jog {
        return;
    }
    for (t, j) in state.joints.iter_mut().zip(&loaded.handles.joints) {
        if let Some(q) = snap.0.qpos.get(j.qpos_adr) {
            *t = *q;
        }
    }
}

/// Starts teleop from where the TCP is.
pub fn enter_teleop(state: &mut TeleopState, snap: &LatestSnapshot, loaded: &LoadedScene) {
    if let Some(p) = snap.0.site(loaded.handles.gripperframe_site) {
        state.target = p;
    }
    state.active = true;
}

/// Reads keys (and the first gamepad) in teleop mode, moves the goal, queues the command.
#[allow(
    clippy::too_many_arguments,
    reason = "input sources and the targets they drive"
)]
pub fn teleop_input(
    keys: Res<ButtonInput<KeyCode>>,
    pads: Query<&Gamepad>,
    time: Res<Time>,
    mut state: ResMut<TeleopState>,
    mut capture: ResMut<KeyCapture>,
    mut queue: ResMut<SimCommandQueue>,
) {
    capture.set_if_neq(KeyCapture(state.active));
    if !state.active {
        return;
    }
    if keys.just_pressed(KeyCode::Escape) {
        state.active = false;
        capture.0 = false;
        queue.push(SimCommand::SetDriver(DriverKind::Hold));
        return;
    }
    let fast = if keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]) {
        4.0
    } else {
        1.0
    };
    let discrete = state.discrete;
    let axis = |plus: KeyCode, minus: KeyCode| {
        let on = |k: KeyCode| {
            if discrete {
                keys.just_pressed(k)
            } else {
                keys.pressed(k)
            }
        };
        f64::from(u8::from(on(plus))) - f64::from(u8::from(on(minus)))
    };
    let mut v = [
        axis(KeyCode::KeyW, KeyCode::KeyS),
        axis(KeyCode::KeyA, KeyCode::KeyD),
        axis(KeyCode::KeyR, KeyCode::KeyF),
    ];
    let mut toggle = keys.just_pressed(KeyCode::Space);
    if let Some(pad) = pads.iter().next() {
        let dead = |x: f32| if x.abs() < 0.15 { 0.0 } else { f64::from(x) };
        v[0] += dead(pad.get(GamepadAxis::LeftStickY).unwrap_or(0.0));
        v[1] -= dead(pad.get(GamepadAxis::LeftStickX).unwrap_or(0.0));
        v[2] += dead(pad.get(GamepadAxis::RightStickY).unwrap_or(0.0));
        toggle |= pad.just_pressed(GamepadButton::South);
    }
    // A fixed step per frame at 60 fps when time does not advance (tests drive single updates).
    let dt = match time.delta_secs_f64() {
        d if d > 0.0 => d.min(0.1),
        _ => 1.0 / 60.0,
    };
    let step = if discrete {
        state.step_m * fast
    } else {
        state.speed_m_s * fast * dt
    };
    let before = (state.target, state.gripper_open);
    for (t, d) in state.target.iter_mut().zip(v) {
        *t += d.clamp(-1.0, 1.0) * step;
    }
    if toggle {
        state.gripper_open = !state.gripper_open;
    }
    if (state.target, state.gripper_open) != before || keys.just_pressed(KeyCode::KeyT) {
        queue.push(SimCommand::Teleop {
            target: state.target,
            gripper: if state.gripper_open { 1.0 } else { -1.0 },
        });
    }
}

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
            enter_teleop(state, snap, loaded);
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
