//! `Sim`: one MuJoCo simulation of a built scene. Owns the `MjData`; steps, resets, saves and
//! restores the full state, and reads poses, contacts and the grasp predicate by name handles.
//!
//! Invariant: between calls, the position- and velocity-dependent quantities (poses, contacts,
//! bias forces) belong to the *current* state. A plain `mj_step` leaves them one step stale, so
//! `step` runs `mj_step2` then `mj_step1` (the same physics, split). This is what makes a
//! restored state continue bit for bit: nothing the controllers read depends on history.

mod contacts;
mod grasp_inspect;
mod model_edit;
mod pick;
mod snapshot;

pub use contacts::{ContactInfo, GraspState};
pub use grasp_inspect::{
    CLIPPING_PENETRATION_M, GraspInspection, GraspVerdict, JawContact, SLIDING_CONE_USE,
    inspect_grasp,
};
pub use model_edit::{PhysicsEdits, physics_variant};
pub use pick::RayHit;
pub use snapshot::{Annotations, Ghost, PlaceMarker, SimSnapshot};

use std::sync::Arc;

use mujoco_rs::prelude::*;
use nalgebra::{Matrix3, UnitQuaternion, Vector3};

use crate::scene::{BuiltScene, SceneHandles};

/// Errors from state restore and instability checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A saved state does not fit this model.
    #[error(
        "saved state has {got} values, this scene needs {expected} (was it saved from another scene?)"
    )]
    StateSize {
        /// Values in the saved state.
        got: usize,
        /// Values this model's state has.
        expected: usize,
    },
    /// The saved state holds NaN or infinite values.
    #[error("saved state holds a non-finite value at index {index}")]
    NonFinite {
        /// First bad index.
        index: usize,
    },
}

/// A pose in the world frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// Position, metres.
    pub pos: Vector3<f64>,
    /// Orientation.
    pub rot: Matrix3<f64>,
}

impl Pose {
    /// Orientation as a unit quaternion.
    pub fn quat(&self) -> UnitQuaternion<f64> {
        UnitQuaternion::from_matrix(&self.rot)
    }
}

/// The full integration state (`mjSTATE_INTEGRATION`): enough to continue bit for bit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimState {
    /// MuJoCo's state vector, time first.
    pub values: Vec<f64>,
}

const STATE_SPEC: u32 = MjtState::mjSTATE_INTEGRATION as u32;

/// A running simulation of one scene.
#[derive(Debug)]
pub struct Sim {
    scene: BuiltScene,
    data: MjData<Arc<MjModel>>,
    split_step: bool,
}

impl Sim {
    /// A fresh simulation at the model's reference pose, kinematics computed.
    pub fn new(scene: BuiltScene) -> Self {
        let mut data = MjData::new(Arc::clone(&scene.model));
        data.forward();
        let split_step = scene.model.opt().integrator != MjtIntegrator::mjINT_RK4 as i32;
        Self {
            scene,
            data,
            split_step,
        }
    }

    /// The scene this simulation runs.
    pub fn scene(&self) -> &BuiltScene {
        &self.scene
    }

    /// The compiled model.
    pub fn model(&self) -> &MjModel {
        &self.scene.model
    }

    /// Name handles of the scene.
    pub fn handles(&self) -> &SceneHandles {
        &self.scene.handles
    }

    /// MuJoCo's data, read-only.
    pub fn data(&self) -> &MjData<Arc<MjModel>> {
        &self.data
    }

    /// MuJoCo's data, for the few callers that write raw state (IK scratch, resets).
    pub fn data_mut(&mut self) -> &mut MjData<Arc<MjModel>> {
        &mut self.data
    }

    /// Simulation time, seconds.
    pub fn time(&self) -> f64 {
        self.data.ffi().time
    }

    /// Physics timestep, seconds.
    pub fn timestep(&self) -> f64 {
        self.model().opt().timestep
    }

    /// Advances one physics step with the current controls.
    pub fn step(&mut self) {
        if self.split_step {
            self.data.step2();
            self.data.step1();
        } else {
            // RK4 has no split form: step, then refresh the derived quantities.
            self.data.step();
            self.data.step1();
        }
    }

    /// Advances `n` physics steps.
    pub fn step_n(&mut self, n: usize) {
        for _ in 0..n {
            self.step();
        }
    }

    /// Back to the model's reference configuration, zero velocity, zero controls.
    pub fn reset(&mut self) {
        self.data.reset();
        self.data.forward();
    }

    /// The six actuated joint positions, [`crate::scene::names::ALL_JOINTS`] order.
    pub fn joint_positions(&self) -> [f64; 6] {
        let qpos = self.data.qpos();
        std::array::from_fn(|i| qpos[self.handles().joints[i].qpos_adr])
    }

    /// The six actuated joint velocities.
    pub fn joint_velocities(&self) -> [f64; 6] {
        let qvel = self.data.qvel();
        std::array::from_fn(|i| qvel[self.handles().joints[i].dof_adr])
    }

    /// The six servo targets.
    pub fn controls(&self) -> [f64; 6] {
        let ctrl = self.data.ctrl();
        std::array::from_fn(|i| ctrl[self.handles().joints[i].actuator_id])
    }

    /// Sets the six servo targets, clamped to each servo's control range.
    pub fn set_controls(&mut self, targets: &[f64; 6]) {
        let joints = self.scene.handles.joints.clone();
        let ctrl = self.data.ctrl_mut();
        for (j, t) in joints.iter().zip(targets) {
            ctrl[j.actuator_id] = t.clamp(j.ctrl_range[0], j.ctrl_range[1]);
        }
    }

    /// Sets one servo target (index into [`crate::scene::names::ALL_JOINTS`]), clamped.
    pub fn set_control(&mut self, index: usize, target: f64) {
        let Some(j) = self.scene.handles.joints.get(index) else {
            return;
        };
        let (id, lo, hi) = (j.actuator_id, j.ctrl_range[0], j.ctrl_range[1]);
        self.data.ctrl_mut()[id] = target.clamp(lo, hi);
    }

    /// Servo-target offsets that cancel gravity and bias forces: `qfrc_bias / kp` per actuated
    /// joint (0 for the gripper). Adding them to position targets stops the weak SO-101 servos
    /// sagging below their targets.
    pub fn gravity_offsets(&self) -> [f64; 6] {
        let kp = self.scene.config.actuators.kp;
        let bias = self.data.qfrc_bias();
        let joints = &self.scene.handles.joints;
        std::array::from_fn(|i| {
            if i == crate::scene::names::GRIPPER_INDEX {
                0.0
            } else {
                bias[joints[i].dof_adr] / kp
            }
        })
    }

    /// Teleports the joints (and their servo targets) to `q` with zero velocity; recomputes
    /// kinematics.
    pub fn set_joint_positions(&mut self, q: &[f64; 6]) {
        let joints = self.scene.handles.joints.clone();
        for (j, v) in joints.iter().zip(q) {
            let v = v.clamp(j.range[0], j.range[1]);
            self.data.qpos_mut()[j.qpos_adr] = v;
            self.data.qvel_mut()[j.dof_adr] = 0.0;
        }
        self.set_controls(q);
        self.data.forward();
    }

    /// Places the cube at rest: centre `pos`, rotated `yaw` rad about z.
    pub fn set_cube_pose(&mut self, pos: [f64; 3], yaw: f64) {
        let (qa, da) = (self.handles().cube_qpos_adr, self.handles().cube_dof_adr);
        let (s, c) = (yaw / 2.0).sin_cos();
        let qpos = self.data.qpos_mut();
        qpos[qa..qa + 3].copy_from_slice(&pos);
        qpos[qa + 3..qa + 7].copy_from_slice(&[c, 0.0, 0.0, s]);
        self.data.qvel_mut()[da..da + 6].fill(0.0);
        self.data.forward();
    }

    /// Applies an external wrench (force x y z, torque x y z; world frame, at the body's centre
    /// of mass) to a body until changed; zero to release. Used for mouse perturbation.
    pub fn set_body_wrench(&mut self, body: usize, wrench: [f64; 6]) {
        if let Some(w) = self.data.xfrc_applied_mut().get_mut(body) {
            *w = wrench;
        }
    }

    /// Pose of a site by id.
    pub fn site_pose(&self, site: usize) -> Pose {
        pose_from(self.data.site_xpos()[site], self.data.site_xmat()[site])
    }

    /// Pose of a body by id.
    pub fn body_pose(&self, body: usize) -> Pose {
        pose_from(self.data.xpos()[body], self.data.xmat()[body])
    }

    /// The TCP (`gripperframe`) pose.
    pub fn tcp_pose(&self) -> Pose {
        self.site_pose(self.handles().gripperframe_site)
    }

    /// The cube's pose.
    pub fn cube_pose(&self) -> Pose {
        self.body_pose(self.handles().cube_body)
    }

    /// Linear speed of the cube's centre, m/s.
    pub fn cube_speed(&self) -> f64 {
        let da = self.handles().cube_dof_adr;
        let v = &self.data.qvel()[da..da + 3];
        (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
    }

    /// Angle between the cube's z axis and the world z axis, radians.
    pub fn cube_tilt(&self) -> f64 {
        let rot = self.cube_pose().rot;
        // Any cube face pointing up counts as upright, so take the most vertical axis.
        let max_up = (0..3).map(|i| rot[(2, i)].abs()).fold(0.0, f64::max);
        max_up.clamp(-1.0, 1.0).acos()
    }

    /// A name for every `qpos` element: the joint name, suffixed for free and ball joints.
    pub fn qpos_names(&self) -> Vec<String> {
        self.dof_names(true)
    }

    /// A name for every `qvel` element.
    pub fn qvel_names(&self) -> Vec<String> {
        self.dof_names(false)
    }

    fn dof_names(&self, positions: bool) -> Vec<String> {
        let m = self.model();
        let n = if positions { m.ffi().nq } else { m.ffi().nv } as usize;
        let mut names = vec![String::new(); n];
        for j in 0..m.ffi().njnt as usize {
            let name = m
                .id_to_name(MjtObjBase::mjOBJ_JOINT, j)
                .unwrap_or("joint")
                .to_owned();
            let adr = if positions {
                m.jnt_qposadr()[j]
            } else {
                m.jnt_dofadr()[j]
            };
            let suffixes: &[&str] = match (m.jnt_type()[j], positions) {
                (MjtJoint::mjJNT_FREE, true) => &["x", "y", "z", "qw", "qx", "qy", "qz"],
                (MjtJoint::mjJNT_FREE, false) => &["vx", "vy", "vz", "wx", "wy", "wz"],
                (MjtJoint::mjJNT_BALL, true) => &["qw", "qx", "qy", "qz"],
                (MjtJoint::mjJNT_BALL, false) => &["wx", "wy", "wz"],
                _ => &[""],
            };
            for (k, suffix) in suffixes.iter().enumerate() {
                if let Some(slot) = usize::try_from(adr).ok().and_then(|a| names.get_mut(a + k)) {
                    *slot = if suffix.is_empty() {
                        name.clone()
                    } else {
                        format!("{name}/{suffix}")
                    };
                }
            }
        }
        names
    }

    /// Saves the full integration state.
    pub fn save_state(&self) -> SimState {
        SimState {
            values: self.data.state(STATE_SPEC).into_vec(),
        }
    }

    /// Restores a state saved from a simulation of the same scene, then recomputes derived
    /// quantities so poses and contacts are current.
    pub fn restore_state(&mut self, state: &SimState) -> Result<(), SimError> {
        let expected = self.model().state_size(STATE_SPEC);
        if state.values.len() != expected {
            return Err(SimError::StateSize {
                got: state.values.len(),
                expected,
            });
        }
        if let Some(index) = state.values.iter().position(|v| !v.is_finite()) {
            return Err(SimError::NonFinite { index });
        }
        self.data
            .set_state(&state.values, STATE_SPEC)
            .map_err(|_| SimError::StateSize {
                got: state.values.len(),
                expected,
            })?;
        self.data.forward();
        Ok(())
    }

    /// True when MuJoCo flagged numerical trouble or the state went non-finite.
    pub fn is_unstable(&self) -> bool {
        let warnings = &self.data.ffi().warning;
        let bad = [
            MjtWarning::mjWARN_BADQACC,
            MjtWarning::mjWARN_BADQVEL,
            MjtWarning::mjWARN_BADQPOS,
        ];
        bad.iter().any(|w| warnings[*w as usize].number > 0)
            || self.data.qpos().iter().any(|v| !v.is_finite())
            || self.data.qvel().iter().any(|v| !v.is_finite())
    }
}

fn pose_from(pos: [f64; 3], xmat: [f64; 9]) -> Pose {
    // MuJoCo matrices are row-major.
    Pose {
        pos: Vector3::from(pos),
        rot: Matrix3::from_row_slice(&xmat),
    }
}
