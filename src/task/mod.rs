//! The lift task: environment, observation layout, versioned reward, batched stepping.

mod config;
pub mod dr;
mod env;
pub mod image_obs;
pub mod inputs;
pub mod obs;
mod outcome;
pub mod reward;
mod summary;
mod vec_env;

pub use config::{ObsConfig, ResetMode, RewardConfig, TaskConfig};
pub use dr::{DrConfig, DrSample};
pub use env::{EnvControllerState, EnvTimings, IkPreview, LiftEnv, StepInfo, StepOutcome};
pub use image_obs::{ImageChannel, ImageObsConfig, ImagePipeline, ImageSpec};
pub use obs::SpaceSpec;
pub use reward::RewardTerms;
pub use summary::{EpisodeSummary, EpisodeTracker, FailureKind, GraspQuality};
pub use vec_env::{VecEnv, VecStep};
