//! Scripted policies in the task env's action space (TCP deltas + gripper), acting through
//! exactly the interface an agent has: the Cartesian pick and lift, the pick-and-place, and
//! runs of them judged by a task's own success predicate. The `Sim`-level pick controller is
//! `crate::pick`.

mod cartesian;
mod place;
mod task_run;

pub use cartesian::CartesianPickPolicy;
pub use place::CartesianPlacePolicy;
pub use task_run::{TaskPickReport, run_task_picks};
