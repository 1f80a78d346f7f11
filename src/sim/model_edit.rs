//! Physics variants of a scene (domain randomisation): a copy of the compiled model with the
//! cube's size, mass and friction and the servo gains changed, and MuJoCo's derived constants
//! recomputed (`mj_setConst`). The copy keeps every id, so handles stay valid.

use std::sync::Arc;

use mujoco_rs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::scene::BuiltScene;

/// Physics parameters to change (absent = the scene's own).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PhysicsEdits {
    /// Cube edge, metres.
    pub cube_size_m: Option<f64>,
    /// Cube mass, kg.
    pub cube_mass_kg: Option<f64>,
    /// Cube sliding friction.
    pub cube_friction: Option<f64>,
    /// Scale of every position servo's gain (kp and the matching bias).
    pub kp_scale: Option<f64>,
}

impl PhysicsEdits {
    /// True when nothing is changed.
    pub fn is_identity(&self) -> bool {
        *self == Self::default()
    }
}

/// `base` with `edits` applied to a private copy of its model.
pub fn physics_variant(base: &BuiltScene, edits: &PhysicsEdits) -> BuiltScene {
    let mut model: MjModel = (*base.model).clone();
    let h = &base.handles;
    let (geom, body) = (h.cube_geom, h.cube_body);
    let half_now = model.geom_size()[geom];
    let mass_now = model.body_mass()[body];
    let half = edits.cube_size_m.map_or(half_now, |s| [0.5 * s; 3]);
    let mass = edits.cube_mass_kg.unwrap_or(mass_now);
    if edits.cube_size_m.is_some() || edits.cube_mass_kg.is_some() {
        model.geom_size_mut()[geom] = half;
        let r = (half[0] * half[0] + half[1] * half[1] + half[2] * half[2]).sqrt();
        model.geom_rbound_mut()[geom] = r;
        let aabb = &mut model.geom_aabb_mut()[geom];
        aabb[3..6].copy_from_slice(&half);
        model.body_mass_mut()[body] = mass;
        // Solid box: I_xx = m (h_y^2 + h_z^2) / 3 with half extents h.
        model.body_inertia_mut()[body] = [
            mass * (half[1] * half[1] + half[2] * half[2]) / 3.0,
            mass * (half[0] * half[0] + half[2] * half[2]) / 3.0,
            mass * (half[0] * half[0] + half[1] * half[1]) / 3.0,
        ];
    }
    if let Some(mu) = edits.cube_friction {
        model.geom_friction_mut()[geom][0] = mu;
    }
    if let Some(k) = edits.kp_scale {
        for j in &h.joints {
            // SAFETY: one scalar of an existing actuator is scaled; array sizes, indices and the
            // gain type stay as compiled.
            unsafe {
                model.actuator_gainprm_mut()[j.actuator_id][0] *= k;
            }
            model.actuator_biasprm_mut()[j.actuator_id][1] *= k;
        }
    }
    {
        // Derived quantities (sub-tree masses, inertia at qpos0) follow the new mass.
        let mut data = MjData::new(&mut model);
        data.set_const();
    }
    BuiltScene {
        model: Arc::new(model),
        config: base.config.clone(),
        handles: base.handles.clone(),
    }
}
