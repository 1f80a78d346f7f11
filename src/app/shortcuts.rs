//! `ShortcutsPlugin`: MuJoCo-viewer keys (Space, Right arrow, Backspace, `[` `]`) and our own
//! toggles. Keys are ignored while egui has keyboard focus (typing a seed must not reset).

use super::state::{
    CameraSettings, GroupVisibility, InputSystems, KeyCapture, LoadedScene, MeshDetailSettings,
    OpenPanels, OverlaySettings, SPEEDS, SimClock, SimCommand, SimCommandQueue,
};
use bevy::prelude::*;
use bevy_egui::input::EguiWantsInput;

/// Keyboard shortcuts of the viewer.
pub struct ShortcutsPlugin;

impl Plugin for ShortcutsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<KeyCapture>()
            .configure_sets(Update, InputSystems::Modes.before(InputSystems::Shortcuts))
            .add_systems(Update, viewer_shortcuts.in_set(InputSystems::Shortcuts));
    }
}

/// Everything the shortcuts change.
#[derive(bevy::ecs::system::SystemParam)]
pub struct ShortcutTargets<'w> {
    queue: ResMut<'w, SimCommandQueue>,
    cameras: ResMut<'w, CameraSettings>,
    overlays: ResMut<'w, OverlaySettings>,
    groups: ResMut<'w, GroupVisibility>,
    panels: ResMut<'w, OpenPanels>,
    clock: Res<'w, SimClock>,
    loaded: Res<'w, LoadedScene>,
    detail: Option<ResMut<'w, MeshDetailSettings>>,
}

/// Applies the viewer keys pressed this frame.
pub fn viewer_shortcuts(
    keys: Res<ButtonInput<KeyCode>>,
    wants: Option<Res<EguiWantsInput>>,
    capture: Res<KeyCapture>,
    mut t: ShortcutTargets,
) {
    if capture.0 || wants.is_some_and(|w| w.wants_keyboard_input()) {
        return;
    }
    for key in keys.get_just_pressed() {
        match key {
            KeyCode::Space => t.queue.push(SimCommand::TogglePause),
            KeyCode::ArrowRight => t.queue.push(SimCommand::StepOnce),
            KeyCode::Backspace => t.queue.push(SimCommand::Reset(None)),
            KeyCode::BracketLeft => t.cameras.step_mode(&t.loaded, -1),
            KeyCode::BracketRight => t.cameras.step_mode(&t.loaded, 1),
            KeyCode::Minus | KeyCode::Equal => {
                let i = SPEEDS
                    .iter()
                    .position(|s| (s - t.clock.speed).abs() < 1e-9)
                    .unwrap_or(4);
                let j = if *key == KeyCode::Minus {
                    i.saturating_sub(1)
                } else {
                    (i + 1).min(SPEEDS.len() - 1)
                };
                t.queue.push(SimCommand::SetSpeed(SPEEDS[j]));
            }
            KeyCode::KeyF => t.cameras.request_auto_frame(),
            KeyCode::KeyX => t.overlays.xray = !t.overlays.xray,
            KeyCode::KeyC => t.overlays.contacts = !t.overlays.contacts,
            KeyCode::KeyG => t.groups.groups[3] = !t.groups.groups[3],
            KeyCode::F1 => t.panels.help = !t.panels.help,
            KeyCode::KeyP => t.panels.plots = !t.panels.plots,
            KeyCode::KeyV => t.panels.policy_view = !t.panels.policy_view,
            KeyCode::KeyK => t.panels.calibration = !t.panels.calibration,
            KeyCode::KeyL => {
                if let Some(detail) = t.detail.as_mut() {
                    detail.toggle();
                }
            }
            _ => {}
        }
    }
}
