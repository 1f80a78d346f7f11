//! `TeleopPlugin`: moving the arm by hand. A joint panel (servo targets with limit bars) jogs by
//! joint; teleop mode moves a TCP goal with the keyboard or a gamepad and the arm follows through
//! the env's own IK actions. While teleop is on it owns the keyboard: no viewer shortcut fires.

use bevy::prelude::*;

use super::state::{
    DriverKind, InputSystems, KeyCapture, LatestSnapshot, LoadedScene, SimCommand, SimCommandQueue,
    TeleopState,
};

/// Hand control of the arm.
pub struct TeleopPlugin;

impl Plugin for TeleopPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<TeleopState>()
            .configure_sets(Update, InputSystems::Modes.before(InputSystems::Shortcuts))
            .add_systems(
                Update,
                (
                    teleop_input.in_set(InputSystems::Modes),
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
