//! Observation layout (names, sizes, bounds) and its construction from the simulation. The
//! layout travels with every policy and episode file so a mismatch is caught, not guessed.

use nalgebra::Matrix3;
use serde::{Deserialize, Serialize};

use super::config::ObsConfig;
use crate::scene::names::ALL_JOINTS;
use crate::sim::Sim;

/// A box space: one name and bound per element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceSpec {
    /// Element names, e.g. `joint_pos/shoulder_pan`.
    pub names: Vec<String>,
    /// Lower bounds (-inf where unbounded).
    pub low: Vec<f64>,
    /// Upper bounds (+inf where unbounded).
    pub high: Vec<f64>,
    /// Entries a real robot cannot measure (the cube pose), per element. Empty in files written
    /// before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub privileged: Vec<bool>,
}

impl SpaceSpec {
    /// Number of elements.
    pub fn dim(&self) -> usize {
        self.names.len()
    }

    /// Whether element `i` is privileged (unknown = no).
    pub fn is_privileged(&self, i: usize) -> bool {
        self.privileged.get(i).copied().unwrap_or(false)
    }

    /// Names of the privileged elements.
    pub fn privileged_names(&self) -> Vec<&str> {
        (0..self.dim())
            .filter(|&i| self.is_privileged(i))
            .map(|i| self.names[i].as_str())
            .collect()
    }

    fn push(&mut self, name: String, low: f64, high: f64) {
        self.push_flagged(name, low, high, false);
    }

    fn push_flagged(&mut self, name: String, low: f64, high: f64, privileged: bool) {
        self.names.push(name);
        self.low.push(low);
        self.high.push(high);
        self.privileged.push(privileged);
    }

    fn empty() -> Self {
        Self {
            names: Vec::new(),
            low: Vec::new(),
            high: Vec::new(),
            privileged: Vec::new(),
        }
    }
}

/// True for observation names that only a simulator knows (the cube pose), whatever the layout
/// flags say: the guard for policies meant for the real robot.
pub fn is_privileged_name(name: &str) -> bool {
    name.starts_with("cube_pos/") || name.starts_with("cube_quat/")
}

/// The observation layout for an [`ObsConfig`].
pub fn observation_space(cfg: &ObsConfig) -> SpaceSpec {
    let mut s = SpaceSpec::empty();
    let inf = f64::INFINITY;
    for j in ALL_JOINTS {
        s.push(format!("joint_pos/{j}"), -inf, inf);
    }
    for j in ALL_JOINTS {
        s.push(format!("joint_vel/{j}"), -inf, inf);
    }
    for a in ["x", "y", "z"] {
        s.push(format!("tcp_pos/{a}"), -inf, inf);
    }
    if cfg.rot6d {
        for c in ["col0", "col1"] {
            for a in ["x", "y", "z"] {
                s.push(format!("tcp_rot/{c}_{a}"), -1.0, 1.0);
            }
        }
    } else {
        for a in ["roll", "pitch", "yaw"] {
            s.push(
                format!("tcp_rpy/{a}"),
                -std::f64::consts::PI,
                std::f64::consts::PI,
            );
        }
    }
    if cfg.privileged_state() {
        for a in ["x", "y", "z"] {
            s.push_flagged(format!("cube_pos/{a}"), -inf, inf, true);
        }
        if cfg.cube_quat {
            for a in ["w", "x", "y", "z"] {
                s.push_flagged(format!("cube_quat/{a}"), -1.0, 1.0, true);
            }
        }
    }
    if cfg.previous_action {
        for a in ACTION_NAMES {
            s.push(format!("prev_action/{a}"), -1.0, 1.0);
        }
    }
    if cfg.gripper_target {
        s.push("gripper_target".into(), -inf, inf);
    }
    if cfg.target_pos {
        for a in ["x", "y"] {
            s.push(format!("target_pos/{a}"), -inf, inf);
        }
    }
    s
}

/// Action element names.
pub const ACTION_NAMES: [&str; 4] = ["dx", "dy", "dz", "gripper"];

/// The action space: four floats in [-1, 1].
pub fn action_space() -> SpaceSpec {
    let mut s = SpaceSpec::empty();
    for a in ACTION_NAMES {
        s.push(a.to_owned(), -1.0, 1.0);
    }
    s
}

/// Roll, pitch, yaw (Z-Y-X convention: R = Rz(yaw) Ry(pitch) Rx(roll)) of a rotation matrix.
pub fn rpy(rot: &Matrix3<f64>) -> [f64; 3] {
    let roll = rot[(2, 1)].atan2(rot[(2, 2)]);
    let pitch = (-rot[(2, 0)]).atan2((rot[(2, 1)].powi(2) + rot[(2, 2)].powi(2)).sqrt());
    let yaw = rot[(1, 0)].atan2(rot[(0, 0)]);
    [roll, pitch, yaw]
}

/// Env state an observation reads beside the simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObsExtras {
    /// The previous action.
    pub prev_action: [f64; 4],
    /// The gripper servo target.
    pub gripper_target: f64,
    /// The place target (x, y), for tasks with one.
    pub goal: Option<[f64; 2]>,
}

/// Writes the observation into `out` (cleared first), in [`observation_space`] order.
pub fn write_observation(sim: &Sim, cfg: &ObsConfig, extras: &ObsExtras, out: &mut Vec<f64>) {
    out.clear();
    out.extend_from_slice(&sim.joint_positions());
    out.extend_from_slice(&sim.joint_velocities());
    let tcp = sim.tcp_pose();
    out.extend_from_slice(tcp.pos.as_slice());
    if cfg.rot6d {
        out.extend_from_slice(tcp.rot.column(0).as_slice());
        out.extend_from_slice(tcp.rot.column(1).as_slice());
    } else {
        out.extend_from_slice(&rpy(&tcp.rot));
    }
    if cfg.privileged_state() {
        let cube = sim.cube_pose();
        out.extend_from_slice(cube.pos.as_slice());
        if cfg.cube_quat {
            let q = cube.quat();
            out.extend_from_slice(&[q.w, q.i, q.j, q.k]);
        }
    }
    if cfg.previous_action {
        out.extend_from_slice(&extras.prev_action);
    }
    if cfg.gripper_target {
        out.push(extras.gripper_target);
    }
    if cfg.target_pos {
        // Validation ties target_pos to a [target] table, so the goal is set after a reset.
        out.extend_from_slice(&extras.goal.unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Rotation3;

    #[test]
    fn default_layout_is_the_reference_21() {
        let s = observation_space(&ObsConfig::default());
        assert_eq!(s.dim(), 21);
        assert_eq!(s.names[12], "tcp_pos/x");
        assert_eq!(s.names[15], "tcp_rpy/roll");
        assert_eq!(s.names[20], "cube_pos/z");
        let all = ObsConfig {
            rot6d: true,
            cube_quat: true,
            previous_action: true,
            gripper_target: true,
            target_pos: true,
            image: None,
        };
        let space = observation_space(&all);
        assert_eq!(space.dim(), 21 + 3 + 4 + 4 + 1 + 2);
        assert_eq!(space.names[space.dim() - 2], "target_pos/x");
        assert_eq!(space.privileged_names().len(), 7);
        // With images and no privileged state, the cube pose leaves the state vector.
        let seeing = ObsConfig {
            image: Some(super::super::ImageObsConfig::default()),
            ..all
        };
        let space = observation_space(&seeing);
        assert_eq!(space.dim(), 21 + 3 + 4 + 4 + 1 + 2 - 7);
        assert!(space.names.iter().all(|n| !is_privileged_name(n)));
    }

    #[test]
    fn rpy_inverts_zyx_rotation() {
        let (r, p, y) = (0.3, -0.7, 2.1);
        let rot = Rotation3::from_euler_angles(r, p, y);
        let got = rpy(rot.matrix());
        for (a, b) in got.iter().zip([r, p, y]) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}
