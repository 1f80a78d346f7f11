//! `SimSnapshot`: a plain-data copy of what renderers and panels read from one physics state
//! (poses of every geom, site, camera and light; contacts with forces; the grasp predicate).
//! The app never reads `MjData`: it draws snapshots, so replayed and live states look alike.

use serde::{Deserialize, Serialize};

use super::{ContactInfo, GraspState, Sim};

/// Extra facts a driver (task, scripted pick, jog) attaches to a snapshot for overlays.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Annotations {
    /// The IK target the arm is being driven to, world frame.
    pub ik_target: Option<[f64; 3]>,
    /// The scripted pick's current target, world frame.
    pub pick_target: Option<[f64; 3]>,
    /// The scripted pick's current phase name.
    pub pick_phase: Option<String>,
    /// Where a person teleoperating wants the TCP.
    #[serde(default)]
    pub teleop_target: Option<[f64; 3]>,
    /// A mouse spring on the cube: (grabbed point, where it is pulled), world frame.
    #[serde(default)]
    pub perturb: Option<([f64; 3], [f64; 3])>,
    /// The IK solution for the teleop goal ("ghost arm"), before the arm gets there.
    #[serde(default)]
    pub ghost: Option<Ghost>,
    /// The arm is jogged by joint: the joint panel shows its own targets, not the arm's joints.
    #[serde(default)]
    pub joint_jog: bool,
}

/// Geom poses of an IK solution not yet reached, with its residual error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ghost {
    /// World position of every geom.
    pub geom_pos: Vec<[f64; 3]>,
    /// World orientation of every geom, row-major.
    pub geom_mat: Vec<[f64; 9]>,
    /// Remaining TCP position error of the solution, metres.
    pub pos_err: f64,
    /// The goal is reachable (the solution's TCP error is within the reach tolerance).
    pub converged: bool,
    /// Joints of the solution at a limit (index into `ALL_JOINTS`).
    pub at_limit: Vec<usize>,
}

/// Everything the view shows about one physics state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimSnapshot {
    /// Simulation time, seconds.
    pub time: f64,
    /// Generalised positions.
    pub qpos: Vec<f64>,
    /// Generalised velocities.
    pub qvel: Vec<f64>,
    /// Actuator targets.
    pub ctrl: Vec<f64>,
    /// World position of every geom.
    pub geom_pos: Vec<[f64; 3]>,
    /// World orientation of every geom, row-major 3x3.
    pub geom_mat: Vec<[f64; 9]>,
    /// World position of every site.
    pub site_pos: Vec<[f64; 3]>,
    /// World orientation of every site, row-major.
    pub site_mat: Vec<[f64; 9]>,
    /// World position of every camera.
    pub cam_pos: Vec<[f64; 3]>,
    /// World orientation of every camera, row-major (camera looks along its -Z, up is +Y).
    pub cam_mat: Vec<[f64; 9]>,
    /// World position of every light.
    pub light_pos: Vec<[f64; 3]>,
    /// World direction of every light.
    pub light_dir: Vec<[f64; 3]>,
    /// World position of every body.
    pub body_pos: Vec<[f64; 3]>,
    /// Active contacts with forces.
    pub contacts: Vec<ContactInfo>,
    /// The grasp predicate.
    pub grasp: GraspState,
    /// The grasp inspector's reading of the hand-cube contacts.
    #[serde(default)]
    pub inspection: super::GraspInspection,
    /// Overlay facts from whoever drives the arm.
    pub annotations: Annotations,
}

impl Sim {
    /// Copies the current state into a snapshot.
    pub fn snapshot(&self) -> SimSnapshot {
        let d = self.data();
        let contacts = self.contacts();
        SimSnapshot {
            time: self.time(),
            qpos: d.qpos().to_vec(),
            qvel: d.qvel().to_vec(),
            ctrl: d.ctrl().to_vec(),
            geom_pos: d.geom_xpos().to_vec(),
            geom_mat: d.geom_xmat().to_vec(),
            site_pos: d.site_xpos().to_vec(),
            site_mat: d.site_xmat().to_vec(),
            cam_pos: d.cam_xpos().to_vec(),
            cam_mat: d.cam_xmat().to_vec(),
            light_pos: d.light_xpos().to_vec(),
            light_dir: d.light_xdir().to_vec(),
            body_pos: d.xpos().to_vec(),
            inspection: super::inspect_grasp(&contacts, self.handles(), self.model().geom_bodyid()),
            contacts,
            grasp: self.grasp_state(),
            annotations: Annotations::default(),
        }
    }
}

impl SimSnapshot {
    /// Position of site `id`, if it exists.
    pub fn site(&self, id: usize) -> Option<[f64; 3]> {
        self.site_pos.get(id).copied()
    }
}
