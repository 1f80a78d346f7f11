//! Policies that see: the convolutional image encoder, DrQ's random-shift augmentation, the
//! pixel actor (encoder + MLP head over image features and state), its policy file, and pixel
//! SAC (DrQ-v2 style) for tasks without a teacher.

mod actor;
pub mod augment;
mod encoder;
mod policy;
mod sac;
mod train;

pub use crate::rl::config::EncoderConfig;
pub use actor::{ImageShape, PixelActor};
pub use augment::RandomShift;
pub use encoder::{ConvEncoder, images_tensor};
pub use policy::PixelPolicy;
pub use sac::{PixelReplay, PixelSac, PixelSacParams, PixelSacStats, Transition};
pub use train::{PixelProgress, PixelTrainConfig, PixelTrainReport, train_pixel};
