//! Writing episodes step by step: each line is flushed as it is written, into `<file>.partial`,
//! renamed to `<file>` by `finish`. A crash leaves a `.partial` with every complete step; an
//! existing episode is never overwritten.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::EpisodeError;
use super::format::{
    ConfigIdentity, EpisodeHeader, EpisodeStep, FORMAT_TAG, FORMAT_VERSION, PolicyOutputs,
};
use crate::config::SceneConfig;
use crate::task::{RewardConfig, StepOutcome, TaskConfig, TaskEnv};

impl ConfigIdentity {
    /// The identity of a scene/task/reward combination.
    pub fn of(scene: &SceneConfig, task: &TaskConfig, reward: &RewardConfig) -> Self {
        let scene_toml = toml::to_string(scene).unwrap_or_default();
        let task_toml = toml::to_string(task).unwrap_or_default();
        let reward_toml = toml::to_string(reward).unwrap_or_default();
        let mut h = Sha256::new();
        for part in [&scene_toml, &task_toml, &reward_toml] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let hash = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Self {
            hash,
            scene_toml,
            task_toml,
            reward_toml,
        }
    }
}

/// The header of an episode that `env` has just been reset into with `seed`.
pub fn header_for(env: &TaskEnv, seed: u64, policy: &str, initial_obs: &[f64]) -> EpisodeHeader {
    EpisodeHeader {
        format: FORMAT_TAG.to_owned(),
        version: FORMAT_VERSION,
        writer: format!("so101-lab {}", env!("CARGO_PKG_VERSION")),
        config: ConfigIdentity::of(&env.sim().scene().config, env.task(), env.reward_config()),
        seed,
        reset_mode: env.task().reset_mode,
        policy: policy.to_owned(),
        qpos_names: env.sim().qpos_names(),
        qvel_names: env.sim().qvel_names(),
        obs_names: env.observation_space().names.clone(),
        action_names: env.action_space().names,
        reward_terms: env
            .reward_config()
            .function
            .term_names()
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        initial_state: env.sim().save_state(),
        initial_controller: env.controller_state(),
        initial_obs: initial_obs.to_vec(),
        obs_privileged: env.observation_space().privileged.clone(),
        image: env.image_spec(),
        dr: env.dr_sample().copied(),
        initial_pixels_sha: env.pixels().map(super::format::pixels_sha),
        render_backend: env.images().map(|p| p.renderer().backend_name()),
    }
}

/// The record of a step `env` has just taken.
pub fn step_record(
    env: &TaskEnv,
    action: &[f64; 4],
    out: &StepOutcome,
    policy: Option<PolicyOutputs>,
) -> EpisodeStep {
    let sim = env.sim();
    EpisodeStep {
        time: sim.time(),
        action: *action,
        state: sim.save_state(),
        qpos: sim.data().qpos().to_vec(),
        qvel: sim.data().qvel().to_vec(),
        ctrl: sim.data().ctrl().to_vec(),
        obs: out.obs.clone(),
        reward: out.reward,
        terminated: out.terminated,
        truncated: out.truncated,
        info: out.info.clone(),
        policy,
        pixels_sha: out.pixels.as_deref().map(super::format::pixels_sha),
    }
}

/// An episode being written.
#[derive(Debug)]
pub struct EpisodeRecorder {
    path: PathBuf,
    partial: PathBuf,
    writer: BufWriter<File>,
    steps: usize,
}

impl EpisodeRecorder {
    /// Starts `path` (written as `path.partial` until [`EpisodeRecorder::finish`]).
    pub fn create(path: &Path, header: &EpisodeHeader) -> Result<Self, EpisodeError> {
        if path.exists() {
            return Err(EpisodeError::Exists {
                path: path.to_owned(),
            });
        }
        let io = |source| EpisodeError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).map_err(io)?;
        let mut rec = Self {
            path: path.to_owned(),
            partial,
            writer: BufWriter::new(file),
            steps: 0,
        };
        rec.write_line(header)?;
        Ok(rec)
    }

    fn write_line<T: serde::Serialize>(&mut self, value: &T) -> Result<(), EpisodeError> {
        let io = |source| EpisodeError::Io {
            path: self.partial.clone(),
            source,
        };
        serde_json::to_writer(&mut self.writer, value).map_err(|e| io(std::io::Error::other(e)))?;
        self.writer.write_all(b"\n").map_err(io)?;
        self.writer.flush().map_err(io)
    }

    /// Appends one step (flushed before returning).
    pub fn record(&mut self, step: &EpisodeStep) -> Result<(), EpisodeError> {
        self.write_line(step)?;
        self.steps += 1;
        Ok(())
    }

    /// Steps written so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Syncs and moves the file into place; returns its path.
    pub fn finish(mut self) -> Result<PathBuf, EpisodeError> {
        let io = |source| EpisodeError::Io {
            path: self.path.clone(),
            source,
        };
        self.writer.flush().map_err(io)?;
        self.writer.get_ref().sync_all().map_err(io)?;
        if self.path.exists() {
            return Err(EpisodeError::Exists {
                path: self.path.clone(),
            });
        }
        std::fs::rename(&self.partial, &self.path).map_err(io)?;
        Ok(self.path)
    }
}
