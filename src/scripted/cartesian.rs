//! The scripted pick as a policy in the lift env's action space (TCP deltas + gripper), for
//! recording demonstrations and episodes through exactly the interface an agent has.

use nalgebra::Vector3;

use crate::kinematics::frames::CLOSING_AXIS;
use crate::task::TaskEnv;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Align,
    Descend,
    Close,
    Lift,
}

/// Align above the cube -> descend to its centre -> close -> lift to `lift_z`, via env actions.
#[derive(Debug, Clone)]
pub struct CartesianPickPolicy {
    stage: Stage,
    ticks: usize,
    /// TCP height above the cube centre when aligning, metres.
    pub above_m: f64,
    /// Shift toward the moving jaw, metres.
    pub jaw_clearance_m: f64,
    /// Target TCP height of the lift, metres.
    pub lift_z: f64,
    /// Steps with the gripper closing before lifting.
    pub close_steps: usize,
}

impl Default for CartesianPickPolicy {
    fn default() -> Self {
        Self {
            stage: Stage::Align,
            ticks: 0,
            above_m: 0.035,
            jaw_clearance_m: 0.003,
            lift_z: 0.12,
            close_steps: 20,
        }
    }
}

impl CartesianPickPolicy {
    /// A fresh policy for a new episode.
    pub fn new() -> Self {
        Self::default()
    }

    /// The action for the env's current state.
    pub fn act(&mut self, env: &TaskEnv) -> [f64; 4] {
        let sim = env.sim();
        if self.stage == Stage::Align && self.ticks == 0 && sim.grasp_state().grasping {
            // Cube-in-hand start: already closed on the cube.
            self.stage = Stage::Lift;
        }
        self.ticks += 1;
        let grasp = self.grasp_point(env);
        let target = env.target();
        let scale = env.task().action_scale_m;
        let toward = |goal: Vector3<f64>, speed: f64| -> [f64; 3] {
            let d = (goal - target) / scale;
            std::array::from_fn(|i| d[i].clamp(-speed, speed))
        };
        let (delta, gripper) = match self.stage {
            Stage::Align => {
                let goal = grasp + Vector3::new(0.0, 0.0, self.above_m);
                if (goal - target).norm() < 1e-3 {
                    self.advance(Stage::Descend);
                }
                (toward(goal, 1.0), env.task().reset_gripper)
            }
            Stage::Descend => {
                if (grasp - target).norm() < 1e-3 && self.ticks > 5 {
                    self.advance(Stage::Close);
                }
                (toward(grasp, 0.5), env.task().reset_gripper)
            }
            Stage::Close => {
                if self.ticks >= self.close_steps {
                    self.advance(Stage::Lift);
                }
                ([0.0; 3], -1.0)
            }
            Stage::Lift => (
                toward(Vector3::new(target.x, target.y, self.lift_z), 0.5),
                -1.0,
            ),
        };
        [delta[0], delta[1], delta[2], gripper]
    }

    /// The current stage's name: align, descend, close or lift.
    pub fn stage_name(&self) -> &'static str {
        match self.stage {
            Stage::Align => "align",
            Stage::Descend => "descend",
            Stage::Close => "close",
            Stage::Lift => "lift",
        }
    }

    /// Whether the pick has closed on the cube and is lifting it.
    pub fn lifting(&self) -> bool {
        self.stage == Stage::Lift
    }

    /// Where the current stage is driving the TCP, and the stage's name (for overlays).
    pub fn current_goal(&self, env: &TaskEnv) -> (Vector3<f64>, &'static str) {
        let grasp = self.grasp_point(env);
        let target = env.target();
        match self.stage {
            Stage::Align => (grasp + Vector3::new(0.0, 0.0, self.above_m), "above"),
            Stage::Descend => (grasp, "descend"),
            Stage::Close => (target, "close"),
            Stage::Lift => (Vector3::new(target.x, target.y, self.lift_z), "lift"),
        }
    }

    /// The cube centre shifted toward the moving jaw (the static jaw must not hit the cube).
    fn grasp_point(&self, env: &TaskEnv) -> Vector3<f64> {
        let sim = env.sim();
        let closing = sim.tcp_pose().rot.column(CLOSING_AXIS).into_owned();
        let closing_xy = Vector3::new(closing.x, closing.y, 0.0)
            .try_normalize(1e-9)
            .unwrap_or(Vector3::x());
        sim.cube_pose().pos - self.jaw_clearance_m * closing_xy
    }

    fn advance(&mut self, stage: Stage) {
        self.stage = stage;
        self.ticks = 0;
    }
}
