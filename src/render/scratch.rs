//! What the plane and mesh passes of a software frame share: the reused per-frame buffers and a
//! geom's world pose.

use nalgebra::{Matrix3, Vector3};

use super::light::GeomLight;
use super::raster::{CameraVertex, ScreenVertex};
use crate::sim::Sim;

/// Reused per-frame buffers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    pub cam: Vec<CameraVertex>,
    pub screen: Vec<ScreenVertex>,
    pub front: Vec<bool>,
    pub lit: Vec<bool>,
    pub geom_lights: Vec<GeomLight>,
    pub poly: Vec<CameraVertex>,
    pub poly_screen: Vec<ScreenVertex>,
}

/// World rotation and position of `geom`.
pub(crate) fn pose(sim: &Sim, geom: usize) -> (Matrix3<f64>, Vector3<f64>) {
    let data = sim.data();
    (
        Matrix3::from_row_slice(&data.geom_xmat()[geom]),
        Vector3::from(data.geom_xpos()[geom]),
    )
}
