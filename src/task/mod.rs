//! The task environment (lift, place, ... as configurations): observation layout, versioned
//! rewards and success predicates looked up by name, batched stepping.

mod config;
pub mod dr;
mod env;
pub mod image_obs;
pub mod inputs;
pub mod obs;
mod outcome;
pub mod place;
pub mod reward;
mod summary;
mod vec_env;

pub use config::{
    ObsConfig, ResetMode, SuccessPredicate, TaskConfig, check_task_scene, load_reward_for,
};
pub use dr::{DrConfig, DrSample};
pub use env::{EnvControllerState, EnvTimings, IkPreview, StepInfo, StepOutcome, TaskEnv};
pub use image_obs::{ImageChannel, ImageObsConfig, ImagePipeline, ImageSpec};
pub use obs::SpaceSpec;
pub use outcome::PlaceInfo;
pub use place::{PlaceRewardConfig, PlaceState, TargetConfig};
pub use reward::{RewardConfig, RewardFunction, RewardTerms};
pub use summary::{EpisodeSummary, EpisodeTracker, FailureKind, GraspQuality, wilson95};
pub use vec_env::{VecEnv, VecStep};
