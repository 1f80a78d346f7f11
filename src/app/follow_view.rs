//! `FollowViewPlugin`: while the arm follows recorded joints (`view --lerobot DATASET`), a window
//! with the recording's progress and the sim's tracking error per joint: RMS so far, the
//! latest step's error, and the error over time (degrees; the gripper in LeRobot's 0-100).

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use super::state::SimResource;
use crate::episode::lerobot::{ArmUnits, LeRobotUnits, motor_features};
use crate::session::{Driver, Follow};

/// The tracking window.
pub struct FollowViewPlugin;

impl Plugin for FollowViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(EguiPrimaryContextPass, follow_ui);
    }
}

/// One joint's tracking error in the units LeRobot reports it (degrees; gripper 0-100).
pub fn in_lerobot_units(units: &LeRobotUnits, joint: usize, error_rad: f64) -> f64 {
    error_rad * units.per_radian()[joint]
}

/// The lines of the error plot: per joint, (step, error in LeRobot units).
pub fn error_lines(follow: &Follow, units: &LeRobotUnits) -> Vec<(String, Vec<[f64; 2]>)> {
    motor_features()
        .into_iter()
        .enumerate()
        .map(|(j, name)| {
            let pts = follow
                .errors
                .iter()
                .enumerate()
                .map(|(k, e)| [k as f64, in_lerobot_units(units, j, e[j])])
                .collect();
            (name, pts)
        })
        .collect()
}

fn follow_ui(mut contexts: EguiContexts, sim: Res<SimResource>) -> Result {
    let Driver::Follow(follow) = &sim.session.driver else {
        return Ok(());
    };
    let units = LeRobotUnits::of(sim.session.env().sim(), ArmUnits::Degrees);
    let ctx = contexts.ctx_mut()?;
    egui::Window::new("Recorded joints")
        .default_pos([320.0, 420.0])
        .default_width(520.0)
        .show(ctx, |ui| {
            ui.label(&follow.source);
            ui.label(format!(
                "step {} of {}{}",
                follow.errors.len(),
                follow.targets.len(),
                if follow.finished() {
                    " (holding the last pose)"
                } else {
                    ""
                }
            ));
            let rms = follow.rms();
            let last = follow.errors.last().copied().unwrap_or([0.0; 6]);
            egui::Grid::new("follow_errors")
                .striped(true)
                .show(ui, |ui| {
                    ui.label("joint");
                    ui.label("RMS error");
                    ui.label("now");
                    ui.end_row();
                    for (j, name) in motor_features().iter().enumerate() {
                        ui.label(name);
                        ui.label(format!("{:.3}", in_lerobot_units(&units, j, rms[j])));
                        ui.label(format!("{:+.3}", in_lerobot_units(&units, j, last[j])));
                        ui.end_row();
                    }
                });
            ui.label("target - sim, degrees (gripper: 0-100)");
            Plot::new("follow_error_plot")
                .height(180.0)
                .legend(Legend::default())
                .allow_scroll(false)
                .show(ui, |p| {
                    for (name, pts) in error_lines(follow, &units) {
                        p.line(Line::new(name, PlotPoints::from(pts)));
                    }
                });
        });
    Ok(())
}
