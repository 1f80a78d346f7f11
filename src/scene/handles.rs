//! `SceneHandles`: the ids of every element the code uses, resolved by name once per model.

use mujoco_rs::prelude::*;

use super::error::SceneError;
use super::names;

/// One actuated joint: its ids, addresses and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct JointHandle {
    /// MJCF name (also the actuator's).
    pub name: &'static str,
    /// Joint id.
    pub joint_id: usize,
    /// Address in `qpos`.
    pub qpos_adr: usize,
    /// Address in `qvel`.
    pub dof_adr: usize,
    /// The position servo driving this joint.
    pub actuator_id: usize,
    /// Joint limits, rad.
    pub range: [f64; 2],
    /// Control range of the servo, rad.
    pub ctrl_range: [f64; 2],
}

/// Ids of the scene's named elements.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneHandles {
    /// The six actuated joints in [`names::ALL_JOINTS`] order.
    pub joints: Vec<JointHandle>,
    /// TCP site.
    pub gripperframe_site: usize,
    /// Grasp site.
    pub graspframe_site: usize,
    /// Static jaw pad.
    pub static_pad_geom: usize,
    /// Moving jaw pad.
    pub moving_pad_geom: usize,
    /// Cube geom.
    pub cube_geom: usize,
    /// Floor geom.
    pub floor_geom: usize,
    /// Cube body.
    pub cube_body: usize,
    /// Gripper body.
    pub gripper_body: usize,
    /// Moving jaw body.
    pub moving_jaw_body: usize,
    /// First `qpos` address of the cube's free joint (x y z qw qx qy qz).
    pub cube_qpos_adr: usize,
    /// First `qvel` address of the cube's free joint.
    pub cube_dof_adr: usize,
    /// Named cameras and their ids.
    pub cameras: Vec<(&'static str, usize)>,
}

fn id(
    model: &MjModel,
    kind: MjtObjBase,
    label: &'static str,
    name: &str,
) -> Result<usize, SceneError> {
    model
        .name_to_id(kind, name)
        .ok_or_else(|| SceneError::MissingElement {
            kind: label,
            name: name.to_owned(),
        })
}

impl SceneHandles {
    /// Looks every name up in `model`; a missing one is an error naming it.
    pub fn resolve(model: &MjModel) -> Result<Self, SceneError> {
        let obj_joint = MjtObjBase::mjOBJ_JOINT;
        let mut joints = Vec::with_capacity(names::ALL_JOINTS.len());
        for name in names::ALL_JOINTS {
            let joint_id = id(model, obj_joint, "joint", name)?;
            let actuator_id = id(model, MjtObjBase::mjOBJ_ACTUATOR, "actuator", name)?;
            joints.push(JointHandle {
                name,
                joint_id,
                qpos_adr: addr(model.jnt_qposadr()[joint_id]),
                dof_adr: addr(model.jnt_dofadr()[joint_id]),
                actuator_id,
                range: model.jnt_range()[joint_id],
                ctrl_range: model.actuator_ctrlrange()[actuator_id],
            });
        }
        let site = |n| id(model, MjtObjBase::mjOBJ_SITE, "site", n);
        let geom = |n| id(model, MjtObjBase::mjOBJ_GEOM, "geom", n);
        let body = |n| id(model, MjtObjBase::mjOBJ_BODY, "body", n);
        let cube_joint = id(model, obj_joint, "joint", names::CUBE_JOINT)?;
        let mut cameras = Vec::new();
        for name in names::CAMERAS {
            cameras.push((name, id(model, MjtObjBase::mjOBJ_CAMERA, "camera", name)?));
        }
        Ok(Self {
            joints,
            gripperframe_site: site(names::GRIPPERFRAME_SITE)?,
            graspframe_site: site(names::GRASPFRAME_SITE)?,
            static_pad_geom: geom(names::STATIC_PAD_GEOM)?,
            moving_pad_geom: geom(names::MOVING_PAD_GEOM)?,
            cube_geom: geom(names::CUBE_GEOM)?,
            floor_geom: geom(names::FLOOR_GEOM)?,
            cube_body: body(names::CUBE_BODY)?,
            gripper_body: body(names::GRIPPER_BODY)?,
            moving_jaw_body: body(names::MOVING_JAW_BODY)?,
            cube_qpos_adr: addr(model.jnt_qposadr()[cube_joint]),
            cube_dof_adr: addr(model.jnt_dofadr()[cube_joint]),
            cameras,
        })
    }

    /// A site id by name, for tools that take names from users.
    pub fn site_by_name(model: &MjModel, name: &str) -> Result<usize, SceneError> {
        model
            .name_to_id(MjtObjBase::mjOBJ_SITE, name)
            .ok_or_else(|| SceneError::MissingElement {
                kind: "site",
                name: name.to_owned(),
            })
    }

    /// The gripper joint.
    pub fn gripper(&self) -> &JointHandle {
        &self.joints[names::GRIPPER_INDEX]
    }
}

/// MuJoCo addresses are non-negative for the joints we resolve (all have qpos and dofs).
fn addr(a: i32) -> usize {
    usize::try_from(a).unwrap_or(0)
}
