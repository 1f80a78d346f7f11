//! Frames on the hand (the one place that defines them) and the damped-least-squares IK.

pub mod frames;
mod ik;

pub use ik::{IkConfig, IkSolution, IkSolver, IkStep, IkTarget};
