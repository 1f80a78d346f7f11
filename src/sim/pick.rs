//! Pointing at the scene: the first visible geom along a ray (MuJoCo's `mj_ray`, on the exact
//! meshes), with the hit point in the world and in the gripper body's frame, for calibration.

use mujoco_rs::prelude::MjtObjBase;
use nalgebra::Vector3;
use serde::Serialize;

use super::Sim;

/// What a ray hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RayHit {
    /// Geom id.
    pub geom: usize,
    /// Geom name (empty when unnamed).
    pub geom_name: String,
    /// Name of the geom's body.
    pub body_name: String,
    /// Hit point, world frame, metres.
    pub world: [f64; 3],
    /// Hit point in the gripper body's frame (where `gripperframe`, `graspframe` and the static
    /// pad are set), metres.
    pub in_gripper: [f64; 3],
    /// Distance from the ray's origin, metres.
    pub distance: f64,
}

impl Sim {
    /// The first geom of the visible groups (0, 1, 2, as MuJoCo's viewer shows them) hit by
    /// the ray from `from` along `dir` (any length), or `None`.
    pub fn ray_pick(&mut self, from: [f64; 3], dir: [f64; 3]) -> Option<RayHit> {
        let d = Vector3::from(dir).try_normalize(1e-12)?;
        let groups = crate::scene::visual::DEFAULT_VISIBLE_GROUPS.map(u8::from);
        let (geom, distance) =
            self.data_mut()
                .ray(&from, &d.into(), Some(&groups), true, None, None);
        let geom = geom.filter(|_| distance >= 0.0)?;
        let world = Vector3::from(from) + distance * d;
        let g = self.body_pose(self.handles().gripper_body);
        let in_gripper = g.rot.transpose() * (world - g.pos);
        let model = self.model();
        let body = usize::try_from(model.geom_bodyid()[geom]).unwrap_or(0);
        let name = |kind, id| model.id_to_name(kind, id).unwrap_or("").to_owned();
        Some(RayHit {
            geom,
            geom_name: name(MjtObjBase::mjOBJ_GEOM, geom),
            body_name: name(MjtObjBase::mjOBJ_BODY, body),
            world: world.into(),
            in_gripper: in_gripper.into(),
            distance,
        })
    }
}
