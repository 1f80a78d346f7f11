//! `PickConfig`: heights, gripper commands and phase durations of the scripted pick.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{Check, ConfigError, FieldError};
use crate::kinematics::IkConfig;

/// Scripted pick parameters (`configs/pick.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PickConfig {
    /// Physics steps per control period (IK update and servo targets).
    pub control_substeps: usize,
    /// TCP height above the cube centre in the above phase, metres.
    pub above_height_m: f64,
    /// TCP height above the cube centre when closing, metres.
    pub grasp_height_m: f64,
    /// Shift of the TCP toward the moving jaw, so the static jaw clears the cube, metres.
    pub jaw_clearance_m: f64,
    /// TCP height at the end of the lift, metres.
    pub lift_height_m: f64,
    /// Largest horizontal distance from the pan axis during the lift (keeps the top-down pose
    /// reachable at the lift height), metres.
    pub lift_max_radius_m: f64,
    /// Wrist roll before alignment, rad.
    pub wrist_roll_rad: f64,
    /// Turn the wrist so the jaws close on two faces of a yawed cube.
    pub align_wrist_to_yaw: bool,
    /// Gripper command while approaching, rad.
    pub gripper_open_rad: f64,
    /// Speed of the gripper command while closing, rad/s.
    pub close_rate_rad_s: f64,
    /// Extra closing after both pads touch, rad.
    pub tighten_rad: f64,
    /// Fraction of the gravity/bias torque added to the arm servo targets (0 = none).
    pub gravity_feedforward: f64,
    /// Control periods in the above phase.
    pub above_ticks: usize,
    /// Control periods of the descent.
    pub descend_ticks: usize,
    /// Longest close phase before giving up, control periods.
    pub close_max_ticks: usize,
    /// Control periods of the tighten phase.
    pub tighten_ticks: usize,
    /// Control periods of the lift.
    pub lift_ticks: usize,
    /// Control periods of the hold.
    pub hold_ticks: usize,
    /// IK used by the pick.
    pub ik: IkConfig,
}

impl Default for PickConfig {
    fn default() -> Self {
        Self {
            control_substeps: 10,
            above_height_m: 0.035,
            grasp_height_m: 0.0,
            jaw_clearance_m: 0.003,
            lift_height_m: 0.095,
            lift_max_radius_m: 0.175,
            wrist_roll_rad: 0.0,
            align_wrist_to_yaw: true,
            gripper_open_rad: 0.9,
            close_rate_rad_s: 0.6,
            tighten_rad: 0.1,
            gravity_feedforward: 1.0,
            above_ticks: 65,
            descend_ticks: 50,
            close_max_ticks: 150,
            tighten_ticks: 15,
            lift_ticks: 60,
            hold_ticks: 150,
            ik: IkConfig {
                damping: 0.02,
                max_step_rad: 0.2,
                gain: 1.0,
                orientation_weight: 0.3,
                tolerance_m: 1e-6,
                tolerance_rad: 1e-4,
                max_iterations: 50,
            },
        }
    }
}

impl PickConfig {
    /// Loads and validates a pick config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::config::load_toml(path, Self::validate)
    }

    /// Seconds per control period for a physics timestep.
    pub fn control_period(&self, timestep: f64) -> f64 {
        timestep * self.control_substeps as f64
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), FieldError> {
        Check::int_range("control_substeps", self.control_substeps as i64, 1, 100)?;
        Check::range("above_height_m", self.above_height_m, 0.0, 0.2)?;
        Check::range("grasp_height_m", self.grasp_height_m, -0.02, 0.05)?;
        Check::range("jaw_clearance_m", self.jaw_clearance_m, -0.03, 0.03)?;
        Check::range("lift_height_m", self.lift_height_m, 0.02, 0.35)?;
        Check::range("lift_max_radius_m", self.lift_max_radius_m, 0.05, 0.5)?;
        Check::range("wrist_roll_rad", self.wrist_roll_rad, -2.74, 2.84)?;
        Check::range("gripper_open_rad", self.gripper_open_rad, -0.17, 1.74)?;
        Check::range("close_rate_rad_s", self.close_rate_rad_s, 0.01, 20.0)?;
        Check::range("tighten_rad", self.tighten_rad, 0.0, 2.0)?;
        Check::range("gravity_feedforward", self.gravity_feedforward, 0.0, 2.0)?;
        for (name, v) in [
            ("above_ticks", self.above_ticks),
            ("descend_ticks", self.descend_ticks),
            ("close_max_ticks", self.close_max_ticks),
            ("tighten_ticks", self.tighten_ticks),
            ("lift_ticks", self.lift_ticks),
            ("hold_ticks", self.hold_ticks),
        ] {
            Check::int_range(name, v as i64, 1, 100_000)?;
        }
        Check::range("ik.damping", self.ik.damping, 0.0, 10.0)?;
        Check::range("ik.max_step_rad", self.ik.max_step_rad, 0.001, 3.0)?;
        Check::range("ik.gain", self.ik.gain, 0.01, 1.0)?;
        Check::range(
            "ik.orientation_weight",
            self.ik.orientation_weight,
            0.0,
            10.0,
        )?;
        Check::range("ik.tolerance_m", self.ik.tolerance_m, 1e-9, 0.01)?;
        Check::int_range(
            "ik.max_iterations",
            self.ik.max_iterations as i64,
            1,
            10_000,
        )?;
        Ok(())
    }
}
