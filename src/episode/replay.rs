//! `Replay`: an episode opened for looking at: seek to any recorded state (exactly, by restoring
//! the stored physics state), find the moments that matter (grasp, lift, drop), and branch: an
//! env at step k whose physics and controller state equal the recording's, for a live session
//! to take over (`LiveSession::take_over`).

use std::path::{Path, PathBuf};

use super::{Episode, EpisodeError};
use crate::config::SceneConfig;
use crate::sim::SimSnapshot;
use crate::task::{RewardConfig, TaskConfig, TaskEnv};

/// Steps where something happened, for timeline markers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Markers {
    /// First step with the grasp predicate true.
    pub grasp: Option<usize>,
    /// First step with the cube above the task's lift height.
    pub lift: Option<usize>,
    /// First step where a grasp was lost after being made.
    pub drop: Option<usize>,
    /// Place tasks: first step with the cube carried (grasped and lifted).
    pub carry: Option<usize>,
    /// Place tasks: first step with the cube resting on the target.
    pub place: Option<usize>,
    /// Place tasks: first step with the cube on the target and the hand let go.
    pub release: Option<usize>,
    /// The task's lift height (the lift marker's threshold), metres.
    pub lift_height_m: f64,
    /// The task has a place target (carry, place and release apply; lift does not).
    pub place_task: bool,
}

impl Markers {
    /// Name and step of every marker that applies to the task, in timeline order.
    pub fn named(&self) -> Vec<(String, Option<usize>)> {
        let mut out = vec![("grasp".to_owned(), self.grasp)];
        if self.place_task {
            out.push(("carry".into(), self.carry));
            out.push(("place".into(), self.place));
            out.push(("release".into(), self.release));
        } else {
            out.push((format!("lift > {:.2} m", self.lift_height_m), self.lift));
        }
        out.push(("drop".into(), self.drop));
        out
    }
}

/// An episode with the scene it was recorded in, ready to seek.
#[derive(Debug)]
pub struct Replay {
    /// The recording.
    pub episode: Episode,
    /// Where it came from.
    pub path: PathBuf,
    env: TaskEnv,
    cursor: usize,
}

fn config_error(path: &Path, message: String) -> EpisodeError {
    EpisodeError::Config {
        path: path.to_owned(),
        message,
    }
}

/// The scene, task and reward recorded in `episode`, as a fresh env.
pub fn env_of(episode: &Episode, path: &Path) -> Result<TaskEnv, EpisodeError> {
    let c = &episode.header.config;
    let scene: SceneConfig =
        toml::from_str(&c.scene_toml).map_err(|e| config_error(path, e.to_string()))?;
    let task: TaskConfig =
        toml::from_str(&c.task_toml).map_err(|e| config_error(path, e.to_string()))?;
    task.validate()
        .map_err(|e| config_error(path, format!("task config: {e}")))?;
    let reward: RewardConfig =
        toml::from_str(&c.reward_toml).map_err(|e| config_error(path, e.to_string()))?;
    let scene = crate::scene::build(&scene).map_err(|e| config_error(path, e.to_string()))?;
    task.check_scene(&scene.model)
        .map_err(|e| config_error(path, format!("task config: {e}")))?;
    let mut env =
        TaskEnv::try_new(scene, task, reward).map_err(|e| config_error(path, e.to_string()))?;
    if let Some(dr) = &episode.header.dr {
        env.apply_dr(dr);
    }
    Ok(env)
}

impl Replay {
    /// Opens an episode file; the cursor starts at the initial state.
    pub fn open(path: &Path) -> Result<Self, EpisodeError> {
        Self::new(Episode::read(path)?, path)
    }

    /// A replay of an already loaded episode.
    pub fn new(episode: Episode, path: &Path) -> Result<Self, EpisodeError> {
        let env = env_of(&episode, path)?;
        let mut r = Self {
            episode,
            path: path.to_owned(),
            env,
            cursor: 0,
        };
        r.seek(0)?;
        Ok(r)
    }

    /// The env the replay restores states into (the recorded scene, task and reward).
    pub fn env(&self) -> &TaskEnv {
        &self.env
    }

    /// The simulation showing the cursor's state (for read-only queries that need `&mut`, like
    /// ray casts; stepping it would leave the recording).
    pub fn sim_mut(&mut self) -> &mut crate::sim::Sim {
        self.env.sim_mut()
    }

    /// Number of states: the initial one plus one per step.
    pub fn len(&self) -> usize {
        self.episode.steps.len() + 1
    }

    /// Never true: there is always the initial state.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The state index shown (0 = after reset, k = after step k).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Restores state `k` (clamped) into the replay's simulation.
    pub fn seek(&mut self, k: usize) -> Result<(), EpisodeError> {
        let k = k.min(self.len() - 1);
        let state = match k {
            0 => &self.episode.header.initial_state,
            _ => &self.episode.steps[k - 1].state,
        };
        self.env
            .sim_mut()
            .restore_state(state)
            .map_err(|e| config_error(&self.path, format!("state {k}: {e}")))?;
        self.cursor = k;
        Ok(())
    }

    /// The recorded physics state `k` (0 = after reset).
    pub fn state(&self, k: usize) -> &crate::sim::SimState {
        match k.min(self.len() - 1) {
            0 => &self.episode.header.initial_state,
            k => &self.episode.steps[k - 1].state,
        }
    }

    /// The recorded state observation at state `k`: exactly what the policy received.
    pub fn observation(&self, k: usize) -> &[f64] {
        match k.min(self.len() - 1) {
            0 => &self.episode.header.initial_obs,
            k => &self.episode.steps[k - 1].obs,
        }
    }

    /// Re-renders the image observation at state `k` into `pipeline`: the stacked frames of
    /// states `k - stack + 1 ..= k` (the first state repeated at the start of the episode, as
    /// the env does), in the episode's randomised appearance. Equal, bit for bit, to what the
    /// policy saw (`pixels_sha` of the recording).
    pub fn render_stack(
        &self,
        k: usize,
        pipeline: &mut crate::task::ImagePipeline,
    ) -> Result<(), EpisodeError> {
        let k = k.min(self.len() - 1);
        let stack = pipeline.config().frame_stack.max(1);
        let first = k.saturating_sub(stack - 1);
        if let Some(dr) = &self.episode.header.dr {
            pipeline.set_look(dr.appearance);
        }
        let mut scratch = crate::sim::Sim::new(self.env.sim().scene().clone());
        for (i, t) in (first..=k).enumerate() {
            scratch
                .restore_state(self.state(t))
                .map_err(|e| config_error(&self.path, format!("state {t}: {e}")))?;
            pipeline
                .capture(&scratch, i == 0)
                .map_err(|e| config_error(&self.path, e.to_string()))?;
        }
        Ok(())
    }

    /// The snapshot of the current cursor's state, with the recorded IK target.
    pub fn snapshot(&self) -> SimSnapshot {
        let mut snap = self.env.sim().snapshot();
        if self.cursor > 0 {
            snap.annotations.ik_target = Some(self.episode.steps[self.cursor - 1].info.ik_target);
        }
        let goal = self.episode.header.initial_controller.goal;
        snap.annotations.place_target = self.env.place_marker_at(goal);
        snap
    }

    /// Grasp, lift and drop steps of the recording.
    pub fn markers(&self) -> Markers {
        let lift_z = self.env.task().lift_height_m;
        let mut m = Markers {
            lift_height_m: lift_z,
            place_task: self.env.task().target.is_some(),
            ..Markers::default()
        };
        for (i, s) in self.episode.steps.iter().enumerate() {
            let k = i + 1;
            if s.info.grasping && m.grasp.is_none() {
                m.grasp = Some(k);
            }
            if s.info.cube_pos[2] > lift_z && m.lift.is_none() {
                m.lift = Some(k);
            }
            if m.grasp.is_some() && !s.info.grasping && m.drop.is_none() {
                m.drop = Some(k);
            }
            if let Some(p) = s.info.place {
                let first = |slot: &mut Option<usize>, now: bool| {
                    if now && slot.is_none() {
                        *slot = Some(k);
                    }
                };
                first(&mut m.carry, p.carried);
                first(&mut m.place, p.carried && p.on_target && p.resting);
                first(&mut m.release, p.on_target && p.resting && p.released);
            }
        }
        m
    }

    /// The grasp inspector's reading of every recorded state after a step (cursor positions
    /// 1..=steps, in order), each restored in a scratch simulation.
    pub fn inspections(&self) -> Result<Vec<crate::sim::GraspInspection>, EpisodeError> {
        let mut scratch = crate::sim::Sim::new(self.env.sim().scene().clone());
        (1..self.len())
            .map(|k| {
                scratch
                    .restore_state(self.state(k))
                    .map_err(|e| config_error(&self.path, format!("state {k}: {e}")))?;
                Ok(scratch.inspect_grasp())
            })
            .collect()
    }

    /// Every recorded state (cursor positions 1..=steps) whose grasp inspection is a fault
    /// (sliding or clipping), in order.
    pub fn grasp_faults(&self) -> Result<Vec<(usize, crate::sim::GraspVerdict)>, EpisodeError> {
        Ok(faults_of(&self.inspections()?))
    }

    /// A fresh env at state `k` and its observation there, to continue from: the recorded
    /// scene, task and reward, the initial state restored and the first `k` actions
    /// re-simulated, so physics and the env's controller state (IK target, hold count, reward
    /// memory) equal the recording's at `k`.
    pub fn env_at(&self, k: usize) -> Result<(TaskEnv, Vec<f64>), EpisodeError> {
        let k = k.min(self.len() - 1);
        let mut env = env_of(&self.episode, &self.path)?;
        let h = &self.episode.header;
        let mut obs = env
            .restore(&h.initial_state, &h.initial_controller)
            .map_err(|e| config_error(&self.path, e.to_string()))?;
        for step in &self.episode.steps[..k] {
            obs = env.step(&step.action).obs;
        }
        let recorded = match k {
            0 => &h.initial_state,
            _ => &self.episode.steps[k - 1].state,
        };
        let now = env.sim().save_state();
        let same = now.values.len() == recorded.values.len()
            && now
                .values
                .iter()
                .zip(&recorded.values)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if !same {
            return Err(config_error(
                &self.path,
                format!("re-simulating to step {k} does not reproduce the recorded state"),
            ));
        }
        Ok((env, obs))
    }
}

/// The sliding and clipping states among `inspections` (index 0 = cursor position 1).
pub fn faults_of(
    inspections: &[crate::sim::GraspInspection],
) -> Vec<(usize, crate::sim::GraspVerdict)> {
    inspections
        .iter()
        .enumerate()
        .filter(|(_, g)| g.verdict.is_fault())
        .map(|(i, g)| (i + 1, g.verdict))
        .collect()
}
