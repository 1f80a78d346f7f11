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
    /// The place target and its success region (place tasks).
    #[serde(default)]
    pub place_target: Option<PlaceMarker>,
}

/// The place target on the table and its success region.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaceMarker {
    /// Target centre on the table, world.
    pub pos: [f64; 3],
    /// Success radius in x/y, metres.
    pub radius_m: f64,
    /// The cube centre is inside the region now.
    pub cube_inside: bool,
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

impl Ghost {
    /// How far geom `geom` of the ghost must be from the same geom of the arm (position,
    /// metres; rotation, radians) to be drawn: where they agree the ghost would only hide the
    /// arm.
    pub const SHOW_ABOVE: (f64, f64) = (0.002, 0.026);

    /// Whether geom `geom` of the ghost differs visibly from the arm's in `snap` (also true
    /// when either pose is missing).
    pub fn differs(&self, snap: &SimSnapshot, geom: usize) -> bool {
        let (Some(gp), Some(gm), Some(ap), Some(am)) = (
            self.geom_pos.get(geom),
            self.geom_mat.get(geom),
            snap.geom_pos.get(geom),
            snap.geom_mat.get(geom),
        ) else {
            return true;
        };
        let dist = (0..3).map(|i| (gp[i] - ap[i]).powi(2)).sum::<f64>().sqrt();
        // trace(A^T B) = 1 + 2 cos(angle) for the relative rotation.
        let trace: f64 = (0..9).map(|i| gm[i] * am[i]).sum();
        let angle = ((trace - 1.0) / 2.0).clamp(-1.0, 1.0).acos();
        dist > Self::SHOW_ABOVE.0 || angle > Self::SHOW_ABOVE.1
    }
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

#[cfg(test)]
mod tests {
    use super::{Ghost, SimSnapshot};

    #[test]
    fn a_ghost_geom_shows_only_where_it_differs_from_the_arm() {
        let eye = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let (c, sn) = (0.1f64.cos(), 0.1f64.sin());
        let turned = [c, -sn, 0.0, sn, c, 0.0, 0.0, 0.0, 1.0];
        let snap = SimSnapshot {
            geom_pos: vec![[0.0; 3]; 3],
            geom_mat: vec![eye; 3],
            ..SimSnapshot::default()
        };
        let ghost = Ghost {
            geom_pos: vec![[0.0005, 0.0, 0.0], [0.01, 0.0, 0.0], [0.0; 3]],
            geom_mat: vec![eye, eye, turned],
            ..Ghost::default()
        };
        assert!(!ghost.differs(&snap, 0), "0.5 mm apart: hidden");
        assert!(ghost.differs(&snap, 1), "1 cm apart: shown");
        assert!(ghost.differs(&snap, 2), "turned 0.1 rad: shown");
        assert!(ghost.differs(&snap, 7), "unknown geom: shown");
    }
}
