//! Damped least squares on MuJoCo's site Jacobian (`mj_jacSite`).
//!
//! Task: the site position, and optionally its approach axis pointing along a given direction
//! (two rotational rows: the rotation about the approach axis itself is left free, since with a
//! 5-DoF arm it is set by `shoulder_pan` and `wrist_roll`). Joints can be locked; steps are
//! clipped and joint limits respected.

use std::sync::Arc;

use mujoco_rs::prelude::*;
use mujoco_rs::wrappers::mj_model::traits::ModelType;
use nalgebra::{DMatrix, DVector, Vector3};
use serde::{Deserialize, Serialize};

use super::frames::APPROACH_AXIS;
use crate::scene::JointHandle;
use crate::scene::names::{GRIPPER_INDEX, WRIST_ROLL_INDEX};
use crate::sim::{Pose, Sim};

/// IK tuning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IkConfig {
    /// Damping lambda of DLS: dq = J^T (J J^T + lambda^2 I)^-1 e.
    pub damping: f64,
    /// Largest joint change per step, rad.
    pub max_step_rad: f64,
    /// Fraction of the DLS step applied per control step (1 = full step).
    pub gain: f64,
    /// Weight of the orientation rows relative to position (metres per radian).
    pub orientation_weight: f64,
    /// Position tolerance of `solve`, metres.
    pub tolerance_m: f64,
    /// Orientation tolerance of `solve`, radians.
    pub tolerance_rad: f64,
    /// Iteration cap of `solve`.
    pub max_iterations: usize,
}

impl Default for IkConfig {
    fn default() -> Self {
        Self {
            damping: 0.1,
            max_step_rad: 0.5,
            gain: 0.5,
            orientation_weight: 0.1,
            tolerance_m: 2e-4,
            tolerance_rad: 0.01,
            max_iterations: 400,
        }
    }
}

/// What the site should reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IkTarget {
    /// Site position, world frame.
    pub pos: Vector3<f64>,
    /// If set, the site's approach axis should point along this unit vector.
    pub approach: Option<Vector3<f64>>,
}

impl IkTarget {
    /// Position only.
    pub fn position(pos: Vector3<f64>) -> Self {
        Self {
            pos,
            approach: None,
        }
    }

    /// Position with the fingers pointing straight down.
    pub fn top_down(pos: Vector3<f64>) -> Self {
        Self {
            pos,
            approach: Some(-Vector3::z()),
        }
    }
}

/// One DLS step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IkStep {
    /// Joint change for the six actuated joints (zero for locked ones).
    pub dq: [f64; 6],
    /// Position error before the step, metres.
    pub pos_err: f64,
    /// Approach-axis error before the step, radians (0 without an orientation target).
    pub rot_err: f64,
}

/// Result of `solve`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IkSolution {
    /// Joint positions (six actuated joints).
    pub q: [f64; 6],
    /// Remaining position error, metres.
    pub pos_err: f64,
    /// Remaining approach-axis error, radians.
    pub rot_err: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Both tolerances met.
    pub converged: bool,
}

/// DLS IK for one site, with its own scratch `MjData` for solve-to-tolerance.
#[derive(Debug, Clone)]
pub struct IkSolver {
    config: IkConfig,
    site: usize,
    joints: Vec<JointHandle>,
    active: [bool; 6],
    scratch: MjData<Arc<MjModel>>,
}

impl IkSolver {
    /// IK at `site` over `joints` (the six actuated joints); `active[i]` false locks joint i.
    pub fn new(
        model: Arc<MjModel>,
        site: usize,
        joints: &[JointHandle],
        active: [bool; 6],
        config: IkConfig,
    ) -> Self {
        let scratch = MjData::new(model);
        Self {
            config,
            site,
            joints: joints.to_vec(),
            active,
            scratch,
        }
    }

    /// IK for `sim`'s TCP (`gripperframe`) over the four arm joints that place it (pan, lift,
    /// elbow, wrist flex): wrist roll and the gripper are set separately.
    pub fn for_arm(sim: &Sim, config: IkConfig) -> Self {
        let mut active = [true; 6];
        active[WRIST_ROLL_INDEX] = false;
        active[GRIPPER_INDEX] = false;
        Self::new(
            sim.scene().model.clone(),
            sim.handles().gripperframe_site,
            &sim.handles().joints,
            active,
            config,
        )
    }

    /// The tuning in use.
    pub fn config(&self) -> &IkConfig {
        &self.config
    }

    /// One DLS step from `data`'s current kinematics (needs `mj_kinematics` + `mj_comPos`,
    /// which `mj_step`/`mj_forward` leave in place). `gain` scales the step.
    pub fn step<M: ModelType>(&self, data: &MjData<M>, target: &IkTarget, gain: f64) -> IkStep {
        let cols: Vec<usize> = (0..6).filter(|&i| self.active[i]).collect();
        let (jacp, jacr) = data.jac_site(true, target.approach.is_some(), self.site);
        let nv = data.model().ffi().nv as usize;
        let site_pos = Vector3::from(data.site_xpos()[self.site]);
        let pos_err = target.pos - site_pos;
        let xmat = data.site_xmat()[self.site];
        let axis = Vector3::new(
            xmat[APPROACH_AXIS],
            xmat[3 + APPROACH_AXIS],
            xmat[6 + APPROACH_AXIS],
        );

        let rows = if target.approach.is_some() { 5 } else { 3 };
        let mut j = DMatrix::<f64>::zeros(rows, cols.len());
        let mut e = DVector::<f64>::zeros(rows);
        for r in 0..3 {
            e[r] = pos_err[r];
            for (c, &ji) in cols.iter().enumerate() {
                j[(r, c)] = jacp[r * nv + self.joints[ji].dof_adr];
            }
        }
        let mut rot_err = 0.0;
        if let Some(want) = target.approach {
            // Rotation taking the current axis onto the wanted one, expressed in two directions
            // perpendicular to the wanted axis (the spin about it stays free).
            let rotvec = axis.cross(&want);
            rot_err = axis.dot(&want).clamp(-1.0, 1.0).acos();
            let (b1, b2) = perpendicular_basis(&want);
            let w = self.config.orientation_weight;
            for (k, b) in [b1, b2].iter().enumerate() {
                e[3 + k] = w * b.dot(&rotvec);
                for (c, &ji) in cols.iter().enumerate() {
                    let d = self.joints[ji].dof_adr;
                    let jr = Vector3::new(jacr[d], jacr[nv + d], jacr[2 * nv + d]);
                    j[(3 + k, c)] = w * b.dot(&jr);
                }
            }
        }
        let lambda2 = self.config.damping * self.config.damping;
        let jjt = &j * j.transpose() + DMatrix::<f64>::identity(rows, rows) * lambda2;
        let sol = jjt.lu().solve(&e).unwrap_or_else(|| DVector::zeros(rows));
        let dq_active = j.transpose() * sol;
        let mut dq = [0.0; 6];
        for (c, &ji) in cols.iter().enumerate() {
            let step =
                (gain * dq_active[c]).clamp(-self.config.max_step_rad, self.config.max_step_rad);
            dq[ji] = if step.is_finite() { step } else { 0.0 };
        }
        IkStep {
            dq,
            pos_err: pos_err.norm(),
            rot_err,
        }
    }

    /// The scratch data: after [`IkSolver::solve`] or [`IkSolver::forward`] it holds the
    /// kinematics (every body, geom and site pose) of the last joint positions tried.
    pub fn scratch(&self) -> &MjData<Arc<MjModel>> {
        &self.scratch
    }

    /// Pose of `site` for joint positions `q` (rest of `qpos` from `data`), kinematics only.
    pub fn forward<M: ModelType>(&mut self, data: &MjData<M>, q: [f64; 6], site: usize) -> Pose {
        self.scratch.qpos_mut().copy_from_slice(data.qpos());
        for (jh, v) in self.joints.iter().zip(&q) {
            self.scratch.qpos_mut()[jh.qpos_adr] = *v;
        }
        self.scratch.kinematics();
        Pose {
            pos: Vector3::from(self.scratch.site_xpos()[site]),
            rot: nalgebra::Matrix3::from_row_slice(&self.scratch.site_xmat()[site]),
        }
    }

    /// Iterates DLS steps on the scratch data from `q0` (with the rest of `qpos` taken from
    /// `data`) until both tolerances are met or the iteration cap is reached.
    pub fn solve<M: ModelType>(
        &mut self,
        data: &MjData<M>,
        q0: [f64; 6],
        target: &IkTarget,
    ) -> IkSolution {
        self.scratch.qpos_mut().copy_from_slice(data.qpos());
        let mut q = q0;
        let mut last = IkStep {
            dq: [0.0; 6],
            pos_err: f64::INFINITY,
            rot_err: f64::INFINITY,
        };
        for it in 0..=self.config.max_iterations {
            for (jh, v) in self.joints.iter().zip(&q) {
                self.scratch.qpos_mut()[jh.qpos_adr] = *v;
            }
            self.scratch.kinematics();
            self.scratch.com_pos();
            last = self.step(&self.scratch, target, 1.0);
            let done = last.pos_err <= self.config.tolerance_m
                && (target.approach.is_none() || last.rot_err <= self.config.tolerance_rad);
            if done || it == self.config.max_iterations {
                return IkSolution {
                    q,
                    pos_err: last.pos_err,
                    rot_err: last.rot_err,
                    iterations: it,
                    converged: done,
                };
            }
            for (i, jh) in self.joints.iter().enumerate() {
                q[i] = (q[i] + last.dq[i]).clamp(jh.range[0], jh.range[1]);
            }
        }
        IkSolution {
            q,
            pos_err: last.pos_err,
            rot_err: last.rot_err,
            iterations: self.config.max_iterations,
            converged: false,
        }
    }
}

/// Two unit vectors perpendicular to `a` and to each other.
fn perpendicular_basis(a: &Vector3<f64>) -> (Vector3<f64>, Vector3<f64>) {
    let helper = if a.x.abs() < 0.9 {
        Vector3::x()
    } else {
        Vector3::y()
    };
    let b1 = a.cross(&helper).normalize();
    let b2 = a.cross(&b1);
    (b1, b2)
}
