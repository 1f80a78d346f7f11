//! The lift task: environment, observation layout, versioned reward, batched stepping.

mod config;
mod env;
pub mod obs;
pub mod reward;
mod vec_env;

pub use config::{ObsConfig, ResetMode, RewardConfig, TaskConfig};
pub use env::{EnvControllerState, EnvTimings, IkPreview, LiftEnv, StepInfo, StepOutcome};
pub use obs::SpaceSpec;
pub use reward::RewardTerms;
pub use vec_env::{VecEnv, VecStep};
