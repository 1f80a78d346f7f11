//! Reinforcement learning on tch (libtorch): SAC, its replay buffer, normalisers, seeded
//! randomness, and (in later modules) checkpoints and the training loop.

pub mod checkpoint;
pub mod config;
pub mod critic_obs;
pub mod demos;
pub mod distill;
pub mod eval;
pub mod explore;
mod fused;
pub mod metrics;
pub mod nets;
pub mod normalize;
pub mod nstep;
pub mod pixel;
pub mod policy;
pub mod replay;
pub mod rng;
pub mod sac;
pub mod sweep;
pub mod tensors;
pub mod timing;
pub mod torchscript;
pub mod train;

pub use config::{EntCoef, SacConfig};
pub use sac::{ActOutput, Sac, UpdateStats};

#[cfg(test)]
mod tests;
