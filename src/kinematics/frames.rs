//! Frame definitions shared by the IK, the task, the scripted pick and the overlays.
//!
//! `gripperframe` is the TCP between the fingertips; `graspframe` sits ~6 cm back between the
//! fingers. Both sites are oriented so that their **x axis points out of the fingers** (the
//! approach direction): a top-down grasp has that axis along world -z.

use nalgebra::Vector3;

use crate::sim::{Pose, Sim};

/// Column of a site's rotation matrix that points along the fingers.
pub const APPROACH_AXIS: usize = 0;
/// Column of a site's rotation matrix that points from the static jaw toward the moving jaw.
pub const CLOSING_AXIS: usize = 2;

/// TCP pose (`gripperframe`).
pub fn tcp(sim: &Sim) -> Pose {
    sim.site_pose(sim.handles().gripperframe_site)
}

/// Grasp-point pose (`graspframe`).
pub fn grasp_point(sim: &Sim) -> Pose {
    sim.site_pose(sim.handles().graspframe_site)
}

/// Approach direction (out of the fingers) of a site pose, world frame.
pub fn approach_dir(pose: &Pose) -> Vector3<f64> {
    pose.rot.column(APPROACH_AXIS).into_owned()
}

/// Angle between the approach direction and straight down, radians.
pub fn top_down_error(pose: &Pose) -> f64 {
    approach_dir(pose)
        .dot(&-Vector3::z())
        .clamp(-1.0, 1.0)
        .acos()
}

/// World poses of the static and moving pads (geom frames).
pub fn pad_poses(sim: &Sim) -> [Pose; 2] {
    let h = sim.handles();
    let data = sim.data();
    let pose = |g: usize| Pose {
        pos: Vector3::from(data.geom_xpos()[g]),
        rot: nalgebra::Matrix3::from_row_slice(&data.geom_xmat()[g]),
    };
    [pose(h.static_pad_geom), pose(h.moving_pad_geom)]
}
