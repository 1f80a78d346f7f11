//! `TaskConfig` (`configs/task.toml`) and the checks that pair it with a reward version and a
//! compiled scene.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dr::DrConfig;
use super::image_obs::ImageObsConfig;
use super::place::TargetConfig;
use super::reward::{RewardConfig, RewardFunction};
use crate::config::{Check, ConfigError, FieldError};
use crate::kinematics::IkConfig;

/// How an episode starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ResetMode {
    /// Gripper 3.5 cm above a randomly placed cube, partly open (the reference).
    Full,
    /// The scripted pick has closed on the cube; the episode starts with it grasped on the table.
    CubeInHand,
    /// Arm at its rest pose, cube anywhere in the placement range.
    Home,
}

/// The success predicates a task can name (`success = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuccessPredicate {
    /// Grasped with the cube centre above `lift_height_m`, for `success_hold_steps` in a row.
    #[default]
    LiftHold,
    /// On the target, resting upright, released (`[target]`), for `success_hold_steps` in a row.
    Place,
}

impl SuccessPredicate {
    /// The name used in config files.
    pub fn name(self) -> &'static str {
        match self {
            Self::LiftHold => "lift_hold",
            Self::Place => "place",
        }
    }
}

/// Extra observation terms and the orientation encoding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObsConfig {
    /// TCP orientation as the first two columns of its rotation matrix (6 floats, continuous)
    /// instead of roll/pitch/yaw (3 floats, gimbal-locked at the top-down pitch of ~90 deg).
    pub rot6d: bool,
    /// Append the cube orientation (quaternion w x y z).
    pub cube_quat: bool,
    /// Append the previous action (4).
    pub previous_action: bool,
    /// Append the gripper servo target (1).
    pub gripper_target: bool,
    /// Append the target's position on the table (x, y; tasks with `[target]`).
    pub target_pos: bool,
    /// Camera images (`[obs.image]`); absent = state only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageObsConfig>,
}

impl ObsConfig {
    /// Whether the state vector keeps privileged entries (the cube pose): always without images,
    /// and with images only when `[obs.image] privileged_state = true`.
    pub fn privileged_state(&self) -> bool {
        self.image.as_ref().is_none_or(|i| i.privileged_state)
    }
}

/// One task of the environment: reset distribution, success predicate, reward version,
/// observation terms and episode length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskConfig {
    /// Task name, shown in logs, episode files and the app.
    pub name: String,
    /// The success predicate, by name.
    pub success: SuccessPredicate,
    /// The task's reward version file, relative to this file; commands given `--reward` (or a
    /// training config's `reward`) use theirs. Absent: `configs/rewards/v11.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<std::path::PathBuf>,
    /// The place target (`[target]`): drawn per episode; required by the place predicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetConfig>,
    /// Physics steps per env step (10 x 2 ms = 50 Hz).
    pub substeps: usize,
    /// Steps before truncation.
    pub max_episode_steps: usize,
    /// Metres per unit of the dx, dy, dz action.
    pub action_scale_m: f64,
    /// TCP target bounds, min corner (x, y, z), metres.
    pub target_min: [f64; 3],
    /// TCP target bounds, max corner.
    pub target_max: [f64; 3],
    /// Wrist roll held during the episode, rad (pi/2: fingers along world y at pan 0).
    pub wrist_roll_rad: f64,
    /// Cube centre height that counts as lifted, metres.
    pub lift_height_m: f64,
    /// Consecutive lifted-and-grasped steps for success.
    pub success_hold_steps: usize,
    /// Fraction of the gravity torque fed forward to the arm servos (0 = reference). The SO-101
    /// servos are weak (kp 17.8): without it the TCP sags 5-15 mm below its target.
    pub gravity_feedforward: f64,
    /// Also hold the fingers pointing straight down in the per-step IK (two extra rows).
    /// Off = reference (position only; the wrist drifts, tilting the gripper up to ~30 deg).
    pub top_down_ik: bool,
    /// How episodes start.
    pub reset_mode: ResetMode,
    /// Cube x range centre and half-width, metres.
    pub cube_x: [f64; 2],
    /// Cube y range centre and half-width, metres.
    pub cube_y: [f64; 2],
    /// Cube yaw half-range, degrees.
    pub cube_yaw_deg: f64,
    /// Full reset: TCP height above the cube centre, metres.
    pub reset_height_m: f64,
    /// Full reset: shift of the TCP toward the moving jaw, metres.
    pub reset_jaw_clearance_m: f64,
    /// Full reset: gripper command (action units, -1 closed .. 1 open).
    pub reset_gripper: f64,
    /// Full reset: move the start a random horizontal distance in this range (min, max) from
    /// above the cube, in a random direction, metres; absent = straight above it (reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_offset_m: Option<[f64; 2]>,
    /// Full reset: settle substeps before the IK approach.
    pub reset_settle_substeps: usize,
    /// Full reset: IK approach substeps.
    pub reset_ik_substeps: usize,
    /// The per-step IK (position only, at `gripperframe`).
    pub ik: IkConfig,
    /// Observation options.
    pub obs: ObsConfig,
    /// Domain randomisation ranges (`[dr]`, or `--dr FILE`); absent = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dr: Option<DrConfig>,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            name: "lift".into(),
            success: SuccessPredicate::LiftHold,
            reward: None,
            target: None,
            substeps: 10,
            max_episode_steps: 300,
            action_scale_m: 0.02,
            target_min: [0.1, -0.3, 0.01],
            target_max: [0.5, 0.3, 0.4],
            wrist_roll_rad: std::f64::consts::FRAC_PI_2,
            lift_height_m: 0.08,
            success_hold_steps: 150,
            gravity_feedforward: 0.0,
            top_down_ik: false,
            reset_mode: ResetMode::Full,
            cube_x: [0.25, 0.02],
            cube_y: [0.0, 0.02],
            cube_yaw_deg: 0.0,
            reset_height_m: 0.035,
            reset_jaw_clearance_m: 0.003,
            reset_gripper: 0.3,
            reset_offset_m: None,
            reset_settle_substeps: 50,
            reset_ik_substeps: 100,
            ik: IkConfig {
                damping: 0.1,
                max_step_rad: 0.5,
                gain: 0.5,
                ..IkConfig::default()
            },
            obs: ObsConfig::default(),
            dr: None,
        }
    }
}

impl TaskConfig {
    /// The same task in its nominal world (domain randomisation off).
    pub fn without_dr(&self) -> Self {
        Self {
            dr: None,
            ..self.clone()
        }
    }

    /// Loads and validates `configs/task.toml`-style files.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::config::load_toml(path, Self::validate)
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), FieldError> {
        Check::int_range("substeps", self.substeps as i64, 1, 1000)?;
        Check::int_range(
            "max_episode_steps",
            self.max_episode_steps as i64,
            1,
            100_000,
        )?;
        Check::range("action_scale_m", self.action_scale_m, 1e-4, 0.2)?;
        Check::each("target_min", &self.target_min, -1.0, 1.0)?;
        Check::each("target_max", &self.target_max, -1.0, 1.0)?;
        for k in 0..3 {
            if self.target_min[k] >= self.target_max[k] {
                return Err(FieldError {
                    field: format!("target_min[{k}] / target_max[{k}]"),
                    value: format!("{} / {}", self.target_min[k], self.target_max[k]),
                    allowed: "target_min < target_max".into(),
                });
            }
        }
        Check::range("wrist_roll_rad", self.wrist_roll_rad, -2.74, 2.84)?;
        Check::range("lift_height_m", self.lift_height_m, 0.02, 0.4)?;
        Check::int_range(
            "success_hold_steps",
            self.success_hold_steps as i64,
            1,
            100_000,
        )?;
        Check::range("gravity_feedforward", self.gravity_feedforward, 0.0, 2.0)?;
        Check::range("cube_x[0]", self.cube_x[0], 0.1, 0.45)?;
        Check::range("cube_x[1]", self.cube_x[1], 0.0, 0.15)?;
        Check::range("cube_y[0]", self.cube_y[0], -0.3, 0.3)?;
        Check::range("cube_y[1]", self.cube_y[1], 0.0, 0.2)?;
        Check::range("cube_yaw_deg", self.cube_yaw_deg, 0.0, 180.0)?;
        Check::range("reset_height_m", self.reset_height_m, 0.0, 0.3)?;
        Check::range(
            "reset_jaw_clearance_m",
            self.reset_jaw_clearance_m,
            -0.03,
            0.03,
        )?;
        Check::range("reset_gripper", self.reset_gripper, -1.0, 1.0)?;
        if let Some(r) = self.reset_offset_m {
            Check::each("reset_offset_m", &r, 0.0, 0.3)?;
            if r[0] > r[1] {
                return Err(FieldError {
                    field: "reset_offset_m".into(),
                    value: format!("{r:?}"),
                    allowed: "[min, max] with min <= max".into(),
                });
            }
        }
        Check::int_range(
            "reset_settle_substeps",
            self.reset_settle_substeps as i64,
            0,
            100_000,
        )?;
        Check::int_range(
            "reset_ik_substeps",
            self.reset_ik_substeps as i64,
            0,
            100_000,
        )?;
        Check::range("ik.damping", self.ik.damping, 0.0, 10.0)?;
        Check::range("ik.max_step_rad", self.ik.max_step_rad, 0.001, 3.0)?;
        Check::range("ik.gain", self.ik.gain, 0.01, 1.0)?;
        if let Some(image) = &self.obs.image {
            image.validate("obs.image")?;
        }
        self.validate_goal()?;
        if let Some(dr) = &self.dr {
            dr.validate("dr.")?;
        }
        Ok(())
    }

    fn validate_goal(&self) -> Result<(), FieldError> {
        if self.name.is_empty() || self.name.len() > 64 {
            return Err(FieldError {
                field: "name".into(),
                value: format!("{:?}", self.name),
                allowed: "1 to 64 characters".into(),
            });
        }
        let needs_target = |field: &str, value: &str| FieldError {
            field: field.into(),
            value: value.into(),
            allowed: "only with a [target] table".into(),
        };
        match &self.target {
            Some(t) => t.validate("target.", self.target_min, self.target_max)?,
            None if self.success == SuccessPredicate::Place => {
                return Err(needs_target("success", "\"place\""));
            }
            None if self.obs.target_pos => return Err(needs_target("obs.target_pos", "true")),
            None => {}
        }
        Ok(())
    }

    /// Checks that `reward` suits this task: the place reward needs a target.
    pub fn check_reward(&self, reward: &RewardConfig) -> Result<(), FieldError> {
        if reward.function == RewardFunction::StagedPlace && self.target.is_none() {
            return Err(FieldError {
                field: "function".into(),
                value: format!("\"{}\" (reward {})", reward.function.name(), reward.name),
                allowed: format!(
                    "a task with a [target] table (task {:?} has none)",
                    self.name
                ),
            });
        }
        Ok(())
    }

    /// The reward version a command uses: `explicit` (`--reward`), else the task's own, else
    /// `configs/rewards/v11.toml`.
    pub fn reward_path_or_default(
        &self,
        explicit: Option<&Path>,
        path: &Path,
    ) -> std::path::PathBuf {
        explicit
            .map(Path::to_path_buf)
            .or_else(|| self.reward_path(path))
            .unwrap_or_else(|| crate::config::default_configs_dir().join("rewards/v11.toml"))
    }

    /// The task's own reward version file, resolved against the task file `path`.
    pub fn reward_path(&self, path: &Path) -> Option<std::path::PathBuf> {
        let reward = self.reward.as_ref()?;
        Some(match path.parent() {
            Some(dir) if reward.is_relative() => dir.join(reward),
            _ => reward.clone(),
        })
    }

    /// Checks what needs the compiled scene: the cameras `[obs.image]` names exist.
    pub fn check_scene(&self, model: &mujoco_rs::prelude::MjModel) -> Result<(), FieldError> {
        match &self.obs.image {
            Some(image) => image.check_cameras(model, "obs.image"),
            None => Ok(()),
        }
    }
}

/// Loads the reward version at `path` and checks it suits `task` (the place reward needs a
/// target), with errors naming the reward file and field.
pub fn load_reward_for(task: &TaskConfig, path: &Path) -> Result<RewardConfig, ConfigError> {
    let reward = RewardConfig::load(path)?;
    task.check_reward(&reward)
        .map_err(|e| out_of_range(path, e))?;
    Ok(reward)
}

/// The task's scene-dependent checks as a config error naming `path`.
pub fn check_task_scene(
    task: &TaskConfig,
    scene: &crate::scene::BuiltScene,
    path: &Path,
) -> Result<(), ConfigError> {
    task.check_scene(&scene.model)
        .map_err(|e| out_of_range(path, e))
}

fn out_of_range(path: &Path, e: FieldError) -> ConfigError {
    ConfigError::OutOfRange {
        path: path.to_owned(),
        field: e.field,
        value: e.value,
        allowed: e.allowed,
    }
}
