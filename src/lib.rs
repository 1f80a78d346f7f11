//! so101-lab: a simulator and debugger for reinforcement learning on the SO-101 arm in MuJoCo.
//!
//! Layers of the headless core (no Bevy anywhere in here):
//!
//! | module | owns |
//! |---|---|
//! | [`config`] | typed config files, defaults, validation |
//! | [`scene`] | building the lift scene (template + robot + MjSpec edits), name handles |
//! | [`sim`] | `Sim`: stepping, reset, full-state save/restore, contacts, grasp predicate |
//! | [`kinematics`] | site frames and the damped-least-squares IK |
//! | [`pick`] | the scripted top-down pick over `Sim`, and its acceptance runs |
//! | [`scripted`] | scripted pick and pick-and-place policies in the task env's action space |
//! | [`overlay`] | debug overlays as data (snapshot -> primitives) |
//! | [`render`] | headless RGB / depth / segmentation images of any MJCF camera |
//! | [`video`] | headless debug videos of episodes, triage reports with thumbnails |
//! | [`session`] | the lift env driven live by hold / scripted pick / policy |
//! | [`bench`] | physics benchmarks behind `so101-lab bench` |
//! | [`paths`] | where the bundled configs, assets and the set-up's cache are found at run time |
//! | [`alloc_tuning`] | glibc allocator settings for the training and benchmark hot loops |
//! | `app` | the Bevy app (feature `app`): one plugin per feature |
//!
//! Imports only point down: no module (and no file among its siblings) imports one that imports
//! it back, nothing outside `cli` imports `cli`, and nothing outside `app` and `cli` imports
//! `app` (`tests/it/layers.rs` checks).

pub mod alloc_tuning;
#[cfg(feature = "app")]
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod episode;
pub mod fsutil;
pub mod kinematics;
pub mod overlay;
pub mod paths;
pub mod pick;
pub mod render;
pub mod rl;
pub mod scene;
pub mod scripted;
pub mod session;
pub mod sim;
pub mod task;
pub mod video;
