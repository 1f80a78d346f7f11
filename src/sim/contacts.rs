//! Contacts as users read them (geom names, position, normal, penetration, force) and the
//! grasp predicate built on them.

use mujoco_rs::prelude::*;
use nalgebra::{Matrix3, Vector3};

use super::Sim;

/// One active contact.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContactInfo {
    /// First geom id.
    pub geom1: usize,
    /// Second geom id.
    pub geom2: usize,
    /// First geom name.
    pub name1: String,
    /// Second geom name.
    pub name2: String,
    /// Contact point, world frame.
    pub pos: [f64; 3],
    /// Contact normal (from geom1 to geom2), world frame.
    pub normal: [f64; 3],
    /// Penetration depth, metres (0 when separated within the margin).
    pub penetration: f64,
    /// Signed distance MuJoCo reports (negative = penetrating).
    pub dist: f64,
    /// Contact force on geom2 from geom1 in the world frame, newtons.
    pub force_world: [f64; 3],
    /// Normal force, newtons.
    pub normal_force: f64,
    /// Tangential force magnitude, newtons.
    pub tangent_force: f64,
    /// Sliding friction coefficient in effect.
    pub mu: f64,
}

impl ContactInfo {
    /// Friction-cone use |f_t| / (mu f_n): 1 means on the verge of slipping.
    pub fn cone_use(&self) -> f64 {
        if self.normal_force <= 1e-12 || self.mu <= 0.0 {
            0.0
        } else {
            self.tangent_force / (self.mu * self.normal_force)
        }
    }

    /// Whether this contact is between `a` and `b` (either order).
    pub fn is_between(&self, a: usize, b: usize) -> bool {
        (self.geom1 == a && self.geom2 == b) || (self.geom1 == b && self.geom2 == a)
    }
}

/// Pad contact and gripper closure: the grasp predicate.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct GraspState {
    /// The static pad touches the cube.
    pub static_pad_contact: bool,
    /// The moving pad touches the cube.
    pub moving_pad_contact: bool,
    /// Gripper joint position, rad.
    pub gripper_q: f64,
    /// Both pads touch and the gripper is closed past the threshold.
    pub grasping: bool,
    /// Deepest penetration of any hand geom (pads, jaws) into the cube, metres.
    pub max_hand_penetration: f64,
}

impl Sim {
    /// Every active contact, in MuJoCo's order (deterministic).
    pub fn contacts(&self) -> Vec<ContactInfo> {
        let model = self.model();
        let data = self.data();
        let name = |g: usize| {
            model
                .id_to_name(MjtObjBase::mjOBJ_GEOM, g)
                .unwrap_or("")
                .to_owned()
        };
        data.contact()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let frame = Matrix3::from_row_slice(&c.frame);
                let f = data.contact_force(i);
                // Contact-frame force: normal along row 0, tangents along rows 1 and 2.
                let local = Vector3::new(f[0], f[1], f[2]);
                let world = frame.transpose() * local;
                let (g1, g2) = (c.geom1.max(0) as usize, c.geom2.max(0) as usize);
                ContactInfo {
                    geom1: g1,
                    geom2: g2,
                    name1: name(g1),
                    name2: name(g2),
                    pos: c.pos,
                    normal: [c.frame[0], c.frame[1], c.frame[2]],
                    penetration: (-c.dist).max(0.0),
                    dist: c.dist,
                    force_world: world.into(),
                    normal_force: f[0],
                    tangent_force: (f[1] * f[1] + f[2] * f[2]).sqrt(),
                    mu: c.friction[0],
                }
            })
            .collect()
    }

    /// The grasp predicate and pad/hand contact summary, without computing contact forces.
    pub fn grasp_state(&self) -> GraspState {
        let h = self.handles();
        let model = self.model();
        let body_of = model.geom_bodyid();
        let hand_bodies = [h.gripper_body, h.moving_jaw_body];
        let mut state = GraspState {
            gripper_q: self.joint_positions()[5],
            ..GraspState::default()
        };
        for c in self.data().contact() {
            let (g1, g2) = (c.geom1.max(0) as usize, c.geom2.max(0) as usize);
            let other = if g1 == h.cube_geom {
                g2
            } else if g2 == h.cube_geom {
                g1
            } else {
                continue;
            };
            if other == h.static_pad_geom {
                state.static_pad_contact = true;
            }
            if other == h.moving_pad_geom {
                state.moving_pad_contact = true;
            }
            let body = body_of[other].max(0) as usize;
            if hand_bodies.contains(&body) {
                state.max_hand_penetration = state.max_hand_penetration.max(-c.dist);
            }
        }
        state.grasping = state.static_pad_contact
            && state.moving_pad_contact
            && state.gripper_q < self.scene().config.grasp.closed_below_rad;
        state
    }
}

impl Sim {
    /// How far each pad face stands proud of its jaw's visual mesh (static, moving), metres,
    /// measured with `mj_ray` along the pad's outward normal through the pad centre: the ray
    /// starts 5 mm outside the pad face and is cast back toward the jaw against the visual
    /// meshes (group 2) only.
    pub fn pad_protrusions(&mut self) -> [f64; 2] {
        let h = self.handles().clone();
        let pads = &self.scene().config.pads;
        let normals = [pads.static_surface_normal, pads.moving_surface_normal];
        let half_depth = pads.half_size_m[2];
        let mut out = [f64::NAN; 2];
        for (k, (geom, body)) in [
            (h.static_pad_geom, h.gripper_body),
            (h.moving_pad_geom, h.moving_jaw_body),
        ]
        .into_iter()
        .enumerate()
        {
            let body_rot = Matrix3::from_row_slice(&self.data().xmat()[body]);
            let n = (body_rot * Vector3::from(normals[k])).normalize();
            let centre = Vector3::from(self.data().geom_xpos()[geom]);
            let start_off = 0.005;
            let origin = centre + n * (half_depth + start_off);
            let mut visual_only = [0u8; 6];
            visual_only[2] = 1;
            let (hit, dist) = self.data_mut().ray(
                &origin.into(),
                &(-n).into(),
                Some(&visual_only),
                true,
                None,
                None,
            );
            if hit.is_some() && dist >= 0.0 {
                out[k] = dist - start_off;
            }
        }
        out
    }
}
