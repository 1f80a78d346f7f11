//! The scripted pick-and-place, in the env's action space (TCP deltas + gripper): above the cube
//! -> descend -> close -> lift -> carry over the target -> settle -> lower -> open -> retreat.
//! Carrying and lowering aim the cube, not the TCP: the IK target goes to the cube goal plus the
//! measured offset between the IK target and the cube (grasp offset and servo sag), measured again
//! once settled over the target, so a grasp that held the cube off centre still lands it there.
//! The IK target moves as a set-point at bounded speed; feeding the cube's error back every step
//! instead oscillates, because the weak servos lag the target by several steps.

use nalgebra::Vector3;

use super::CartesianPickPolicy;
use crate::task::TaskEnv;

/// Stages after the pick's close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Pick,
    Lift,
    Carry,
    Settle,
    Lower,
    Open,
    Retreat,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Pick => "pick",
            Self::Lift => "lift",
            Self::Carry => "carry",
            Self::Settle => "settle",
            Self::Lower => "lower",
            Self::Open => "open",
            Self::Retreat => "retreat",
        }
    }
}

/// The scripted pick-and-place policy. Tasks without a target get the pick and lift only.
#[derive(Debug, Clone)]
pub struct CartesianPlacePolicy {
    pick: CartesianPickPolicy,
    stage: Stage,
    ticks: usize,
    /// IK target minus cube centre, measured when the lift starts and after settling.
    offset: Vector3<f64>,
    /// Where the current stage drives the IK target (for overlays).
    aim: Vector3<f64>,
    /// Cube height above resting while carrying, metres.
    pub carry_height_m: f64,
    /// Cube height above resting at which the gripper opens, metres.
    pub release_height_m: f64,
    /// Largest TCP move per step while carrying (action units).
    pub carry_speed: f64,
    /// Steps with the gripper opening before retreating.
    pub open_steps: usize,
    /// TCP rise of the retreat, metres.
    pub retreat_m: f64,
}

impl Default for CartesianPlacePolicy {
    fn default() -> Self {
        Self {
            pick: CartesianPickPolicy::new(),
            stage: Stage::Pick,
            ticks: 0,
            offset: Vector3::zeros(),
            aim: Vector3::zeros(),
            carry_height_m: 0.04,
            release_height_m: 0.002,
            carry_speed: 0.5,
            open_steps: 12,
            retreat_m: 0.05,
        }
    }
}

impl CartesianPlacePolicy {
    /// A fresh policy for a new episode.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current stage's name (for overlays and the timeline).
    pub fn stage_name(&self) -> &'static str {
        if self.stage == Stage::Pick {
            "pick"
        } else {
            self.stage.name()
        }
    }

    /// Where the current stage is driving the TCP, and the stage's name (for overlays).
    pub fn current_goal(&self, env: &TaskEnv) -> (Vector3<f64>, &'static str) {
        match self.stage {
            Stage::Pick => self.pick.current_goal(env),
            stage => (self.aim, stage.name()),
        }
    }

    /// The action for the env's current state.
    pub fn act(&mut self, env: &TaskEnv) -> [f64; 4] {
        let sim = env.sim();
        let Some(goal) = env.goal() else {
            return self.pick.act(env);
        };
        self.ticks += 1;
        let cube = sim.cube_pose().pos;
        let rest = env.cube_rest_z();
        let height = cube.z - rest;
        let target = env.target();
        let scale = env.task().action_scale_m;
        let offset = self.offset;
        // Moves the IK target toward where it must be for the cube to sit at `cube_goal`.
        let aim = std::cell::Cell::new(target);
        let toward = |cube_goal: Vector3<f64>, speed: f64| -> [f64; 3] {
            aim.set(cube_goal + offset);
            let d = (cube_goal + offset - target) / scale;
            std::array::from_fn(|i| d[i].clamp(-speed, speed))
        };
        let reached = |cube_goal: Vector3<f64>| (cube_goal + offset - target).norm() < 1e-3;
        let over = Vector3::new(goal[0], goal[1], rest + self.carry_height_m);
        let down = Vector3::new(goal[0], goal[1], rest + self.release_height_m);
        let (delta, gripper) = match self.stage {
            Stage::Pick => {
                let a = self.pick.act(env);
                if self.pick.lifting() {
                    self.offset = target - cube;
                    self.advance(Stage::Lift);
                }
                return a;
            }
            Stage::Lift => {
                let up = Vector3::new(cube.x, cube.y, rest + self.carry_height_m);
                // The servos sag under the load, so go by the set-point, not the cube height.
                if (reached(up) && self.ticks > 5) || self.ticks > 60 {
                    self.advance(Stage::Carry);
                }
                ([0.0, 0.0, toward(up, 0.5)[2]], -1.0)
            }
            Stage::Carry => {
                if reached(over) || self.ticks > 150 {
                    self.advance(Stage::Settle);
                }
                (toward(over, self.carry_speed), -1.0)
            }
            Stage::Settle => {
                if self.ticks >= 15 {
                    // Re-measure at rest: the lag is gone, what remains is the true offset.
                    self.offset = target - cube;
                    self.advance(Stage::Lower);
                }
                ([0.0; 3], -1.0)
            }
            Stage::Lower => {
                if height <= self.release_height_m + 0.002 || self.ticks > 80 {
                    self.advance(Stage::Open);
                }
                (toward(down, 0.25), -1.0)
            }
            Stage::Open => {
                if self.ticks >= self.open_steps {
                    self.advance(Stage::Retreat);
                }
                ([0.0; 3], 1.0)
            }
            Stage::Retreat => {
                let risen = self.ticks as f64 * 0.5 * scale;
                let rise = if risen < self.retreat_m { 0.5 } else { 0.0 };
                ([0.0, 0.0, rise], 1.0)
            }
        };
        self.aim = aim.get();
        [delta[0], delta[1], delta[2], gripper]
    }

    fn advance(&mut self, stage: Stage) {
        self.stage = stage;
        self.ticks = 0;
    }
}
