//! The task's goal on each step: the place state the place predicate and reward read, and which
//! success predicate the task names.

use super::TaskEnv;
use crate::sim::GraspState;
use crate::task::SuccessPredicate;
use crate::task::outcome::PlaceInfo;
use crate::task::place::{PlaceInput, PlaceState};

/// Height above resting at which a grasped cube counts as carried, metres.
const CARRIED_ABOVE_M: f64 = 0.01;

impl TaskEnv {
    /// The cube centre's height when it rests on the table (its compiled half-size, which
    /// domain randomisation may change), metres.
    pub fn cube_rest_z(&self) -> f64 {
        self.sim.model().geom_size()[self.sim.handles().cube_geom][2]
    }

    /// This episode's place target (x, y), for tasks with `[target]`.
    pub fn goal(&self) -> Option<[f64; 2]> {
        self.goal
    }

    /// The place target and success region, for overlays (tasks with a target).
    pub fn place_marker(&self) -> Option<crate::sim::PlaceMarker> {
        self.place_marker_at(self.goal)
    }

    /// [`TaskEnv::place_marker`] for a given target (a replay's, recorded in its episode), with
    /// the cube where the simulation has it now.
    pub fn place_marker_at(&self, goal: Option<[f64; 2]>) -> Option<crate::sim::PlaceMarker> {
        let (target, [x, y]) = (self.task.target?, goal?);
        let cube = self.sim.cube_pose().pos;
        Some(crate::sim::PlaceMarker {
            pos: [x, y, 0.0],
            radius_m: target.radius_m,
            cube_inside: (cube.x - x).hypot(cube.y - y) <= target.radius_m,
        })
    }

    /// The place state now (tasks with a target), and the carry memory updated from it.
    pub(super) fn place_input(&mut self, grasp: &GraspState) -> Option<PlaceInput> {
        let (target, goal) = (self.task.target?, self.goal?);
        let state = PlaceState {
            cube: self.sim.cube_pose().pos,
            rest_z: self.cube_rest_z(),
            tilt_deg: self.sim.cube_tilt().to_degrees(),
            target: goal,
            gripper_q: grasp.gripper_q,
            pad_contact: grasp.static_pad_contact || grasp.moving_pad_contact,
        };
        self.carried |= grasp.grasping && state.cube.z - state.rest_z > CARRIED_ABOVE_M;
        Some(PlaceInput {
            state,
            target,
            cube_speed: self.sim.cube_speed(),
        })
    }

    /// The place state as the step reports it.
    pub(super) fn place_info(&self, p: &PlaceInput) -> PlaceInfo {
        let s = &p.state;
        PlaceInfo {
            target_pos: [s.target[0], s.target[1], 0.0],
            target_distance_m: s.target_distance(),
            on_target: s.on_target(&p.target),
            resting: s.resting(&p.target),
            released: s.released(&p.target),
            carried: self.carried,
        }
    }

    /// Whether this step counts toward the task's success hold.
    pub(super) fn goal_achieved(&self, grasp: &GraspState, place: Option<&PlaceInput>) -> bool {
        match self.task.success {
            SuccessPredicate::LiftHold => {
                grasp.grasping && self.sim.cube_pose().pos.z > self.task.lift_height_m
            }
            SuccessPredicate::Place => place.is_some_and(|p| {
                p.state.placed(&p.target) && (self.carried || !p.target.require_carry)
            }),
        }
    }
}
