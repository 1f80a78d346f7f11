//! The integration tests, as one test binary.
//!
//! One binary instead of one per file: each links MuJoCo, libtorch's bindings and Bevy, so
//! thirty binaries took ~1.7 GB each in target/ (docs/development.md). The files are modules;
//! `cargo test --test it <module>::` runs one of them.

#[cfg(feature = "app")]
mod app_common;
mod common;

mod app_lod;
mod app_render;
mod app_systems;
mod app_teleop;
mod app_views;
mod bad_corpus;
mod bad_input;
mod cli;
mod cli_train;
mod configs;
mod determinism;
mod distill;
mod docs_commands;
mod env;
mod episodes;
mod exchange;
mod grasp_inspect;
mod ik;
mod image_obs;
mod install;
mod kill_resume;
mod layers;
mod lerobot;
mod pixel_sac;
mod render;
mod render_vs_mujoco;
mod rl;
mod sb3_interop;
mod scene;
mod scripted_pick;
mod session_overlay;
mod sweep;
