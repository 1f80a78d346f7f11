//! Benchmarks behind `so101-lab bench`: what users wait on, measured reproducibly.

mod env;
mod physics;
mod render;
mod sac;

pub use env::{EnvBench, env};
pub use physics::{GraspedCase, PhysicsBench, free_arm_rate, grasped_rate, physics};
pub use render::{RenderBench, RenderCase, batch_rate, pick_states, render, single_rate};
pub use sac::{SacBench, sac, train_loop_rate};
