//! The scripted top-down pick: above -> descend -> close until both pads touch -> tighten ->
//! lift -> hold, as a controller over `Sim` that exposes its phase and current TCP target.
//!
//! Arm servos get the IK solution plus gravity feed-forward (`qfrc_bias / kp`), so the weak
//! SO-101 position servos do not sag below the target.
//!
//! It works on the bare `Sim`, below the task env (whose cube-in-hand reset runs it); the
//! scripted policies in the env's action space are in `crate::scripted`.

mod config;
mod outcome;

pub use config::PickConfig;
pub use outcome::{
    FailureKind, PickOutcome, PickReport, PickRun, placement_for_seed, run_pick, run_picks,
};

use nalgebra::Vector3;

use crate::kinematics::frames::CLOSING_AXIS;
use crate::kinematics::{IkSolver, IkTarget};
use crate::scene::names::{GRIPPER_INDEX, WRIST_ROLL_INDEX};
use crate::sim::Sim;

/// Where the pick is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PickPhase {
    /// Move the TCP above the cube (gripper open).
    Above,
    /// Move straight down to the grasp height.
    Descend,
    /// Close until both pads touch the cube.
    Close,
    /// Close a fixed amount further to squeeze.
    Tighten,
    /// Raise the cube.
    Lift,
    /// Keep it up.
    Hold,
    /// Finished (hold complete).
    Done,
    /// Gave up: the close phase ended without both pads on the cube.
    Failed,
}

impl PickPhase {
    /// Lower-case name for logs and the UI.
    pub fn name(self) -> &'static str {
        match self {
            Self::Above => "above",
            Self::Descend => "descend",
            Self::Close => "close",
            Self::Tighten => "tighten",
            Self::Lift => "lift",
            Self::Hold => "hold",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// The pick controller. Call [`ScriptedPick::tick`] once per control period, then step the
/// simulation `config.control_substeps` times.
#[derive(Debug, Clone)]
pub struct ScriptedPick {
    config: PickConfig,
    ik: IkSolver,
    phase: PickPhase,
    ticks_in_phase: usize,
    q_arm: [f64; 6],
    wrist_roll: f64,
    grasp_point: Vector3<f64>,
    above_point: Vector3<f64>,
    lift_point: Vector3<f64>,
    target: Vector3<f64>,
    gripper_cmd: f64,
}

impl ScriptedPick {
    /// Plans a pick of the cube where it is now: the wrist roll (aligned with the cube's yaw
    /// modulo 90 degrees when enabled) and the above, grasp and lift points.
    pub fn plan(sim: &Sim, config: PickConfig) -> Self {
        let mut ik = pick_ik(sim, &config);
        let cube = sim.cube_pose();
        let cube_yaw = if config.align_wrist_to_yaw {
            yaw_of(&cube.rot)
        } else {
            0.0
        };
        let centre = cube.pos;
        let above = centre + Vector3::new(0.0, 0.0, config.above_height_m);

        // The gripper's yaw follows shoulder_pan + wrist_roll; iterate roll until the closing
        // axis lines up with a cube face (mod 90 degrees).
        let mut q = sim.joint_positions();
        q[WRIST_ROLL_INDEX] = config.wrist_roll_rad;
        let mut closing = Vector3::x();
        for _ in 0..3 {
            q = ik.solve(sim.data(), q, &IkTarget::top_down(above)).q;
            closing = closing_axis_at(&mut ik, sim, q);
            let psi = closing.y.atan2(closing.x);
            q[WRIST_ROLL_INDEX] += wrap(cube_yaw - psi, std::f64::consts::FRAC_PI_2);
            let r = &sim.handles().joints[WRIST_ROLL_INDEX].range;
            q[WRIST_ROLL_INDEX] = q[WRIST_ROLL_INDEX].clamp(r[0], r[1]);
        }
        q = ik.solve(sim.data(), q, &IkTarget::top_down(above)).q;
        let closing_xy = Vector3::new(closing.x, closing.y, 0.0)
            .try_normalize(1e-9)
            .unwrap_or(Vector3::x());
        // Shift toward the moving jaw so the static jaw clears the cube on the way down.
        let offset = -config.jaw_clearance_m * closing_xy;
        let grasp_point = centre + offset + Vector3::new(0.0, 0.0, config.grasp_height_m);
        let above_point = above + offset;
        let lift_point = lift_point(sim, &grasp_point, &config);
        Self {
            wrist_roll: q[WRIST_ROLL_INDEX],
            q_arm: q,
            phase: PickPhase::Above,
            ticks_in_phase: 0,
            target: above_point,
            gripper_cmd: config.gripper_open_rad,
            grasp_point,
            above_point,
            lift_point,
            config,
            ik,
        }
    }

    /// Teleports the arm to the planned above pose with the gripper open (the "full task"
    /// start), instead of driving there.
    pub fn teleport_above(&self, sim: &mut Sim) {
        let mut q = self.q_arm;
        q[GRIPPER_INDEX] = self.config.gripper_open_rad;
        sim.set_joint_positions(&q);
    }

    /// The same controller state, with its IK bound to `sim`'s model (after a state restore
    /// into a freshly built scene).
    pub fn rebind(mut self, sim: &Sim) -> Self {
        self.ik = pick_ik(sim, &self.config);
        self
    }

    /// The current phase.
    pub fn phase(&self) -> PickPhase {
        self.phase
    }

    /// The TCP target the arm is servoing to now, world frame.
    pub fn target(&self) -> Vector3<f64> {
        self.target
    }

    /// The gripper command now, rad.
    pub fn gripper_command(&self) -> f64 {
        self.gripper_cmd
    }

    /// The config in use.
    pub fn config(&self) -> &PickConfig {
        &self.config
    }

    /// Advances the phase logic and writes servo targets for the next control period.
    pub fn tick(&mut self, sim: &mut Sim) {
        let c = &self.config;
        let t = self.ticks_in_phase;
        let next = match self.phase {
            PickPhase::Above => {
                self.target = self.above_point;
                (t + 1 >= c.above_ticks).then_some(PickPhase::Descend)
            }
            PickPhase::Descend => {
                let s = ramp(t + 1, c.descend_ticks);
                self.target = self.above_point.lerp(&self.grasp_point, s);
                (t + 1 >= c.descend_ticks).then_some(PickPhase::Close)
            }
            PickPhase::Close => {
                let g = sim.grasp_state();
                if g.static_pad_contact && g.moving_pad_contact {
                    self.gripper_cmd -= c.tighten_rad;
                    Some(PickPhase::Tighten)
                } else if t >= c.close_max_ticks {
                    Some(PickPhase::Failed)
                } else {
                    self.gripper_cmd -= c.close_rate_rad_s * c.control_period(sim.timestep());
                    None
                }
            }
            PickPhase::Tighten => (t + 1 >= c.tighten_ticks).then_some(PickPhase::Lift),
            PickPhase::Lift => {
                let s = ramp(t + 1, c.lift_ticks);
                self.target = self.grasp_point.lerp(&self.lift_point, s);
                (t + 1 >= c.lift_ticks).then_some(PickPhase::Hold)
            }
            PickPhase::Hold => (t + 1 >= c.hold_ticks).then_some(PickPhase::Done),
            PickPhase::Done | PickPhase::Failed => None,
        };
        let range = sim.handles().gripper().ctrl_range;
        self.gripper_cmd = self.gripper_cmd.clamp(range[0], range[1]);
        if let Some(p) = next {
            self.phase = p;
            self.ticks_in_phase = 0;
        } else {
            self.ticks_in_phase += 1;
        }
        self.servo(sim);
    }

    fn servo(&mut self, sim: &mut Sim) {
        let sol = self
            .ik
            .solve(sim.data(), self.q_arm, &IkTarget::top_down(self.target));
        self.q_arm = sol.q;
        self.q_arm[WRIST_ROLL_INDEX] = self.wrist_roll;
        let mut ctrl = self.q_arm;
        let ff = self.config.gravity_feedforward;
        for (c, o) in ctrl.iter_mut().zip(sim.gravity_offsets()) {
            *c += ff * o;
        }
        ctrl[GRIPPER_INDEX] = self.gripper_cmd;
        sim.set_controls(&ctrl);
    }
}

/// The pick's IK: TCP position + top-down, over pan, lift, elbow and wrist flex (wrist roll is
/// planned separately and the gripper is not part of the arm).
fn pick_ik(sim: &Sim, config: &PickConfig) -> IkSolver {
    IkSolver::for_arm(sim, config.ik.clone())
}

/// Smooth 0..1 ramp reaching 1 at 80% of the phase, then holding.
fn ramp(tick: usize, ticks: usize) -> f64 {
    let span = (ticks as f64 * 0.8).max(1.0);
    (tick as f64 / span).min(1.0)
}

fn wrap(angle: f64, period: f64) -> f64 {
    (angle + period / 2.0).rem_euclid(period) - period / 2.0
}

fn yaw_of(rot: &nalgebra::Matrix3<f64>) -> f64 {
    rot[(1, 0)].atan2(rot[(0, 0)])
}

/// The closing axis of the TCP frame for arm configuration `q`, via the IK's kinematics.
fn closing_axis_at(ik: &mut IkSolver, sim: &Sim, q: [f64; 6]) -> Vector3<f64> {
    let pose = ik.forward(sim.data(), q, sim.handles().gripperframe_site);
    pose.rot.column(CLOSING_AXIS).into_owned()
}

/// Lift straight up, pulled radially toward the base when the reach would not allow a
/// top-down pose at the lift height.
fn lift_point(sim: &Sim, grasp: &Vector3<f64>, c: &PickConfig) -> Vector3<f64> {
    // The shoulder_pan axis: reach is measured from it.
    let pan = sim.data().xanchor()[sim.handles().joints[0].joint_id];
    let pan_xy = Vector3::new(pan[0], pan[1], 0.0);
    let mut h = Vector3::new(grasp.x, grasp.y, 0.0) - pan_xy;
    let r = h.norm();
    if r > c.lift_max_radius_m && r > 1e-9 {
        h *= c.lift_max_radius_m / r;
    }
    let xy = pan_xy + h;
    Vector3::new(xy.x, xy.y, c.lift_height_m)
}
