//! Builds the lift scene: our template (`assets/so101_lift.xml`) around the pinned SO-101 model,
//! edited through MjSpec with the values of a [`SceneConfig`], compiled to one `MjModel`.
//!
//! The compiled model is the single source of truth: everything downstream looks elements up
//! by name through [`SceneHandles`].

mod build;
mod contact_params;
mod error;
mod handles;
pub mod names;
pub mod visual;

pub use build::{BuiltScene, build, build_spec, export_mjb, export_xml, template_path};
pub use contact_params::{EffectiveContact, effective_pad_cube_contact};
pub use error::SceneError;
pub use handles::{JointHandle, SceneHandles};
