//! Reinforcement learning on tch (libtorch): SAC, its replay buffer, normalisers, seeded
//! randomness, and (in later modules) checkpoints and the training loop.

pub mod config;
pub mod nets;
pub mod normalize;
pub mod replay;
pub mod rng;
pub mod sac;

pub use config::{EntCoef, SacConfig};
pub use sac::{ActOutput, Sac, UpdateStats};

#[cfg(test)]
mod tests;
