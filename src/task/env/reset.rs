//! The three starts of an episode (reference, cube in hand, home), after the cube is placed.

use nalgebra::Vector3;
use rand::Rng;

use super::TaskEnv;
use crate::kinematics::IkTarget;
use crate::kinematics::frames::CLOSING_AXIS;
use crate::pick::{PickConfig, PickPhase, ScriptedPick};
use crate::scene::names::{GRIPPER_INDEX, WRIST_FLEX_INDEX, WRIST_ROLL_INDEX};

impl TaskEnv {
    /// Reference start: wrist flexed and rolled to pi/2, settle, then the TCP 3.5 cm above the
    /// cube (shifted toward the moving jaw), gripper partly open.
    pub(super) fn reset_full(&mut self) {
        let mut q = [0.0; 6];
        let wf = self.sim.handles().joints[WRIST_FLEX_INDEX].range;
        q[WRIST_FLEX_INDEX] = std::f64::consts::FRAC_PI_2.clamp(wf[0], wf[1]);
        q[WRIST_ROLL_INDEX] = self.task.wrist_roll_rad;
        self.gripper_ctrl = self.gripper_from_action(self.task.reset_gripper);
        q[GRIPPER_INDEX] = self.gripper_ctrl;
        self.sim.set_joint_positions(&q);
        self.sim.step_n(self.task.reset_settle_substeps);
        let cube = self.sim.cube_pose().pos;
        let closing = self.sim.tcp_pose().rot.column(CLOSING_AXIS).into_owned();
        let closing_xy = Vector3::new(closing.x, closing.y, 0.0)
            .try_normalize(1e-9)
            .unwrap_or(Vector3::x());
        let mut goal = cube + Vector3::new(0.0, 0.0, self.task.reset_height_m)
            - self.task.reset_jaw_clearance_m * closing_xy;
        if let Some([near, far]) = self.task.reset_offset_m {
            // Drawn only when set, so tasks without it keep their random stream.
            let r = near + self.rng.random::<f64>() * (far - near);
            let angle = self.rng.random::<f64>() * std::f64::consts::TAU;
            goal += Vector3::new(r * angle.cos(), r * angle.sin(), 0.0);
        }
        let sol = self.ik.solve(
            self.sim.data(),
            self.sim.joint_positions(),
            &IkTarget::top_down(goal),
        );
        let mut q = sol.q;
        q[WRIST_ROLL_INDEX] = self.task.wrist_roll_rad;
        q[GRIPPER_INDEX] = self.gripper_ctrl;
        self.sim.set_joint_positions(&q);
        self.target = self.clamp_target(goal);
        self.hold_servo_targets();
        self.sim.step_n(self.task.reset_ik_substeps);
    }

    /// The scripted pick runs until it has closed and tightened on the cube.
    pub(super) fn reset_cube_in_hand(&mut self) {
        let mut pick = ScriptedPick::plan(&self.sim, PickConfig::default());
        pick.teleport_above(&mut self.sim);
        let substeps = pick.config().control_substeps;
        while !matches!(pick.phase(), PickPhase::Lift | PickPhase::Failed) {
            pick.tick(&mut self.sim);
            self.sim.step_n(substeps);
        }
        self.gripper_ctrl = pick.gripper_command();
        self.target = self.clamp_target(self.sim.tcp_pose().pos);
    }

    /// Arm at its zero pose, gripper open.
    pub(super) fn reset_home(&mut self) {
        let mut q = [0.0; 6];
        q[WRIST_ROLL_INDEX] = self.task.wrist_roll_rad;
        self.gripper_ctrl = self.gripper_from_action(1.0);
        q[GRIPPER_INDEX] = self.gripper_ctrl;
        self.sim.set_joint_positions(&q);
        self.target = self.clamp_target(self.sim.tcp_pose().pos);
    }

    /// Servo targets = current joints plus full gravity feed-forward, so the reset pose is the
    /// commanded one (3.5 cm above the cube) rather than 1 cm lower after sagging.
    pub(super) fn hold_servo_targets(&mut self) {
        let mut ctrl = self.sim.joint_positions();
        let offsets = self.sim.gravity_offsets();
        for (c, o) in ctrl.iter_mut().zip(offsets).take(WRIST_ROLL_INDEX) {
            *c += o;
        }
        ctrl[WRIST_ROLL_INDEX] = self.task.wrist_roll_rad;
        ctrl[GRIPPER_INDEX] = self.gripper_ctrl;
        self.sim.set_controls(&ctrl);
    }
}
