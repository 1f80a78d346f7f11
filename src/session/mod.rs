//! `LiveSession`: the lift env driven live, one env step at a time, by whoever holds the arm
//! (nobody, the scripted pick, or a policy). The app shows a session; tests drive one headless.
//! It calls the same `task` functions as training, so a policy behaves here as in `eval`.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::episode::{
    EpisodeError, EpisodeRecorder, PolicyOutputs, Replay, header_for, step_record,
};
use crate::rl::ActOutput;
use crate::rl::policy::PolicyError;
use crate::scripted::CartesianPlacePolicy;
use crate::sim::SimSnapshot;
use crate::task::{StepOutcome, TaskEnv};

mod follow;
mod policy;
pub use follow::Follow;
pub use policy::LoadedPolicy;

/// Who chooses the actions.
#[derive(Debug)]
pub enum Driver {
    /// Hold the current IK target and gripper (the arm stays where it is).
    Hold,
    /// The scripted top-down pick, in the env's action space.
    Scripted(CartesianPlacePolicy),
    /// Teleoperation: the TCP is driven toward `target` through the env's own actions.
    Teleop {
        /// Where the TCP should go, world frame, metres.
        target: [f64; 3],
        /// Gripper action (-1 closed .. 1 open).
        gripper: f64,
    },
    /// Jogging by joint: servo targets set directly (no IK).
    Joints {
        /// Servo targets, [`crate::scene::names::ALL_JOINTS`] order, radians.
        targets: [f64; 6],
    },
    /// Recorded joint positions (a LeRobot episode), followed through the servos.
    Follow(Follow),
    /// A learned policy.
    Policy {
        /// The actor (in a mutex only so a session can be shared across threads: libtorch
        /// tensors are `Send` but not `Sync`; acting takes `&mut self`, so it never blocks).
        policy: std::sync::Mutex<LoadedPolicy>,
        /// Sample from the Gaussian instead of taking its mean.
        sampled: bool,
    },
}

impl Driver {
    /// A policy driver.
    pub fn policy(policy: LoadedPolicy, sampled: bool) -> Self {
        Self::Policy {
            policy: std::sync::Mutex::new(policy),
            sampled,
        }
    }

    /// Short name for the HUD.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hold => "hold",
            Self::Scripted(_) => "scripted pick",
            Self::Teleop { .. } => "teleop",
            Self::Joints { .. } => "joint jog",
            Self::Follow(_) => "recorded joints",
            Self::Policy { .. } => "policy",
        }
    }
}

/// A spring pulling a point of the cube toward a target (MuJoCo viewer's ctrl+drag).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Perturb {
    /// The grabbed point in the cube's frame, metres.
    pub local_point: [f64; 3],
    /// Where the point is pulled, world frame.
    pub target: [f64; 3],
}

/// A teleop goal counts as reachable when the IK solution gets the TCP this close, metres (the
/// 5-DoF arm cannot hold every orientation the IK asks for, so exact convergence is too strict).
pub const REACH_TOLERANCE_M: f64 = 0.005;

/// Spring natural frequency of [`Perturb`], rad/s (stiffness and damping scale with mass).
pub const PERTURB_OMEGA: f64 = 15.0;

/// The last step taken.
#[derive(Debug, Clone)]
pub struct LiveStep {
    /// The action applied.
    pub action: [f64; 4],
    /// The policy's outputs, when a policy chose the action.
    pub outputs: Option<ActOutput>,
    /// What the env returned.
    pub outcome: StepOutcome,
}

/// Counts over finished episodes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SessionStats {
    /// Episodes finished.
    pub episodes: usize,
    /// Of which successful.
    pub successes: usize,
    /// Sum of their returns.
    pub total_return: f64,
}

impl SessionStats {
    /// Success rate, 0 with no episodes.
    pub fn success_rate(&self) -> f64 {
        self.successes as f64 / self.episodes.max(1) as f64
    }

    /// Mean return, 0 with no episodes.
    pub fn mean_return(&self) -> f64 {
        self.total_return / self.episodes.max(1) as f64
    }
}

/// The lift env, its driver and its episode bookkeeping.
#[derive(Debug)]
pub struct LiveSession {
    env: TaskEnv,
    /// Who acts.
    pub driver: Driver,
    obs: Vec<f64>,
    seed: u64,
    episode_return: f64,
    /// The current episode has ended and been counted (a hand-driven session steps on past
    /// its end without a reset; it must not count an episode per step).
    episode_counted: bool,
    /// Counts over finished episodes.
    pub stats: SessionStats,
    /// Start the next seed when an episode ends.
    pub auto_reset: bool,
    last: Option<LiveStep>,
    rng: ChaCha8Rng,
    last_error: Option<String>,
    act_time: (std::time::Duration, u32),
    recording: Option<Recording>,
    perturb: Option<Perturb>,
    ghost: Option<crate::sim::Ghost>,
    /// Episode files finished by the recorder, oldest first.
    pub recorded: Vec<PathBuf>,
}

/// An episode being recorded from a live session.
#[derive(Debug)]
struct Recording {
    dir: PathBuf,
    label: String,
    recorder: Option<EpisodeRecorder>,
}

impl LiveSession {
    /// A session on `env`, reset with `seed`, holding the arm.
    pub fn new(mut env: TaskEnv, seed: u64) -> Self {
        let obs = env.reset(seed);
        Self::resume(env, seed, obs)
    }

    /// A session taking over a recording at state `k` ([`Replay::env_at`]), labelled with the
    /// recording's seed.
    pub fn take_over(replay: &Replay, k: usize) -> Result<Self, EpisodeError> {
        let (env, obs) = replay.env_at(k)?;
        Ok(Self::resume(env, replay.episode.header.seed, obs))
    }

    /// A session continuing `env` as it is (e.g. restored from a recording), whose current
    /// observation is `obs`; `seed` labels the episode.
    pub fn resume(env: TaskEnv, seed: u64, obs: Vec<f64>) -> Self {
        Self {
            env,
            driver: Driver::Hold,
            obs,
            seed,
            episode_return: 0.0,
            episode_counted: false,
            stats: SessionStats::default(),
            auto_reset: true,
            last: None,
            rng: ChaCha8Rng::seed_from_u64(seed),
            last_error: None,
            act_time: (std::time::Duration::ZERO, 0),
            recording: None,
            perturb: None,
            ghost: None,
            recorded: Vec::new(),
        }
    }

    /// Records every episode from the current state on into `dir` (one file per episode,
    /// named after `label`, the seed and the time; never overwriting a file).
    pub fn start_recording(&mut self, dir: &Path, label: &str) -> Result<(), EpisodeError> {
        self.stop_recording()?;
        let mut rec = Recording {
            dir: dir.to_owned(),
            label: label.to_owned(),
            recorder: None,
        };
        rec.recorder = Some(self.open_recorder(&rec)?);
        self.recording = Some(rec);
        Ok(())
    }

    /// Whether episodes are being recorded.
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Finishes the episode file being written (a partial episode is kept as it is).
    pub fn stop_recording(&mut self) -> Result<(), EpisodeError> {
        if let Some(rec) = self.recording.take()
            && let Some(r) = rec.recorder
            && r.steps() > 0
        {
            self.recorded.push(r.finish()?);
        }
        Ok(())
    }

    fn open_recorder(&self, rec: &Recording) -> Result<EpisodeRecorder, EpisodeError> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let name = format!("{}_seed{}_{stamp}.jsonl", rec.label, self.seed);
        let header = header_for(&self.env, self.seed, &rec.label, &self.obs);
        EpisodeRecorder::create(&rec.dir.join(name), &header)
    }

    /// The env.
    pub fn env(&self) -> &TaskEnv {
        &self.env
    }

    /// The env, for direct edits (jogging writes controls).
    pub fn env_mut(&mut self) -> &mut TaskEnv {
        &mut self.env
    }

    /// Follows recorded servo targets (rad, one per env step): the arm is put at the
    /// recording's start pose, then each step targets the next.
    pub fn follow(&mut self, follow: Follow) {
        self.env.sim_mut().set_joint_positions(&follow.start);
        self.obs = self.env.observation().to_vec();
        self.driver = Driver::Follow(follow);
    }

    /// The current observation.
    pub fn obs(&self) -> &[f64] {
        &self.obs
    }

    /// The seed of the current episode.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Return accumulated in the current episode.
    pub fn episode_return(&self) -> f64 {
        self.episode_return
    }

    /// The last step, if any since the last reset.
    pub fn last(&self) -> Option<&LiveStep> {
        self.last.as_ref()
    }

    /// The last policy failure, if acting failed (the step then held the arm).
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Starts, moves or (with `None`) ends a spring pull on the cube.
    pub fn set_perturb(&mut self, perturb: Option<Perturb>) {
        self.perturb = perturb;
        if perturb.is_none() {
            let body = self.env.sim().handles().cube_body;
            self.env.sim_mut().set_body_wrench(body, [0.0; 6]);
        }
    }

    /// The active spring pull, if any.
    pub fn perturb(&self) -> Option<Perturb> {
        self.perturb
    }

    /// World position of the grabbed point, if a pull is active.
    pub fn perturb_point(&self) -> Option<[f64; 3]> {
        let p = self.perturb?;
        let pose = self.env.sim().cube_pose();
        Some((pose.pos + pose.rot * nalgebra::Vector3::from(p.local_point)).into())
    }

    /// Sets the cube's applied wrench for the spring: critically damped, mass-scaled, carrying
    /// the cube's weight, applied
    /// at the grabbed point (MuJoCo applies `xfrc_applied` at the centre of mass, hence the
    /// torque term).
    fn apply_perturb(&mut self) {
        let (Some(p), Some(point)) = (self.perturb, self.perturb_point()) else {
            return;
        };
        let sim = self.env.sim();
        let h = sim.handles();
        let (body, dof) = (h.cube_body, h.cube_dof_adr);
        let mass = sim.model().body_mass()[body];
        let com = nalgebra::Vector3::from(sim.data().xipos()[body]);
        let qvel = sim.data().qvel();
        // Free joint: linear velocity in the world frame, angular velocity in the body frame.
        let lin = nalgebra::Vector3::new(qvel[dof], qvel[dof + 1], qvel[dof + 2]);
        let ang_local = nalgebra::Vector3::new(qvel[dof + 3], qvel[dof + 4], qvel[dof + 5]);
        let ang = sim.cube_pose().rot * ang_local;
        let k = mass * PERTURB_OMEGA * PERTURB_OMEGA;
        let c = 2.0 * mass * PERTURB_OMEGA;
        let point = nalgebra::Vector3::from(point);
        // Damp the grabbed point's velocity, rotation included, or the cube swings about it.
        let vel = lin + ang.cross(&(point - com));
        // Carrying the cube's weight makes it follow the mouse instead of hanging g/w^2 below.
        let gravity = nalgebra::Vector3::from(sim.model().opt().gravity);
        let f = k * (nalgebra::Vector3::from(p.target) - point) - c * vel - mass * gravity;
        let torque = (point - com).cross(&f);
        self.env
            .sim_mut()
            .set_body_wrench(body, [f.x, f.y, f.z, torque.x, torque.y, torque.z]);
    }

    /// Solves the IK for the teleop goal (only while teleoperating) for the ghost arm.
    fn update_ghost(&mut self) {
        let Driver::Teleop { target, .. } = self.driver else {
            self.ghost = None;
            return;
        };
        let preview = self.env.ik_preview(target.into());
        let joints = &self.env.sim().handles().joints;
        let at_limit = joints
            .iter()
            .enumerate()
            .filter(|(i, j)| {
                let q = preview.solution.q[*i];
                *i < crate::scene::names::WRIST_ROLL_INDEX
                    && (q - j.range[0] < 1e-3 || j.range[1] - q < 1e-3)
            })
            .map(|(i, _)| i)
            .collect();
        self.ghost = Some(crate::sim::Ghost {
            geom_pos: preview.geom_pos,
            geom_mat: preview.geom_mat,
            pos_err: preview.solution.pos_err,
            converged: preview.solution.converged || preview.solution.pos_err < REACH_TOLERANCE_M,
            at_limit,
        });
    }

    /// Mean time the policy took to choose an action (observation in, action out).
    pub fn mean_act_time(&self) -> Option<std::time::Duration> {
        let (total, n) = self.act_time;
        (n > 0).then(|| total / n)
    }

    /// Starts episode `seed`; a scripted driver starts over.
    pub fn reset(&mut self, seed: u64) {
        self.reset_at(seed, None);
    }

    /// Starts episode `seed` with the cube at (x, y, yaw radians) when given.
    pub fn reset_at(&mut self, seed: u64, placement: Option<[f64; 3]>) {
        self.seed = seed;
        self.obs = self.env.reset_at(seed, placement);
        self.episode_return = 0.0;
        self.episode_counted = false;
        self.last = None;
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        if let Driver::Scripted(p) = &mut self.driver {
            *p = CartesianPlacePolicy::new();
        }
        // A reset restarts a recording from its first pose, with a fresh error history.
        if let Driver::Follow(f) = &mut self.driver {
            f.errors.clear();
            self.env.sim_mut().set_joint_positions(&f.start);
            self.obs = self.env.observation().to_vec();
        }
    }

    /// Restores a saved physics and controller state (same scene layout), keeping the seed.
    pub fn restore(
        &mut self,
        physics: &crate::sim::SimState,
        controller: &crate::task::EnvControllerState,
    ) -> Result<(), crate::sim::SimError> {
        self.obs = self.env.restore(physics, controller)?;
        self.episode_counted = false;
        self.last = None;
        Ok(())
    }

    /// The action that holds the IK target and the gripper's current servo target.
    pub fn hold_action(&self) -> [f64; 4] {
        let (lo, hi) = (
            self.env.gripper_from_action(-1.0),
            self.env.gripper_from_action(1.0),
        );
        let ctrl = self.env.sim().controls()[crate::scene::names::GRIPPER_INDEX];
        let a = if (hi - lo).abs() < 1e-12 {
            0.0
        } else {
            2.0 * (ctrl - lo) / (hi - lo) - 1.0
        };
        [0.0, 0.0, 0.0, a.clamp(-1.0, 1.0)]
    }

    fn choose(&mut self) -> ([f64; 4], Option<ActOutput>) {
        let hold = self.hold_action();
        match &mut self.driver {
            Driver::Hold => (hold, None),
            Driver::Scripted(p) => (p.act(&self.env), None),
            Driver::Teleop { target, gripper } => {
                let scale = self.env.task().action_scale_m;
                let now = self.env.target();
                let d = |i: usize| ((target[i] - now[i]) / scale).clamp(-1.0, 1.0);
                ([d(0), d(1), d(2), gripper.clamp(-1.0, 1.0)], None)
            }
            Driver::Joints { .. } | Driver::Follow(_) => (hold, None),
            Driver::Policy { policy, sampled } => match policy
                .get_mut()
                .map_err(|_| PolicyError::Poisoned)
                .and_then(|p| p.act(&self.obs, self.env.pixels()))
            {
                Ok(mut out) => {
                    if *sampled && out.std.len() == out.mean.len() && !out.mean.is_empty() {
                        for (i, a) in out.action.iter_mut().enumerate() {
                            let eps: f64 = StandardNormal.sample(&mut self.rng);
                            *a = (out.mean[i] + out.std[i] * eps).tanh();
                        }
                    }
                    let action = std::array::from_fn(|i| out.action.get(i).copied().unwrap_or(0.0));
                    (action, Some(out))
                }
                Err(e) => {
                    self.last_error = Some(e.to_string());
                    (hold, None)
                }
            },
        }
    }

    /// Takes one env step with the driver's action; when the episode ends, counts it and
    /// (with `auto_reset`, and unless a person drives) starts the next seed. Returns the step
    /// taken; jogging by joint bypasses the env's action (and its reward), so returns `None`.
    pub fn step(&mut self) -> Option<&LiveStep> {
        self.apply_perturb();
        self.update_ghost();
        if let Driver::Joints { targets } = self.driver {
            self.env.jog_joints(&targets);
            self.obs = self.env.observation().to_vec();
            return None;
        }
        if let Driver::Follow(follow) = &mut self.driver {
            if let Some(target) = follow.next_target() {
                self.env.jog_joints(&target);
                follow.record(&target, &self.env.sim().joint_positions());
            }
            self.obs = self.env.observation().to_vec();
            return None;
        }
        let started = std::time::Instant::now();
        let (action, outputs) = self.choose();
        if matches!(self.driver, Driver::Policy { .. }) {
            self.act_time.0 += started.elapsed();
            self.act_time.1 += 1;
        }
        Some(self.step_with(action, outputs))
    }

    /// Takes one env step with a given action (teleop, tests).
    pub fn step_with(&mut self, action: [f64; 4], outputs: Option<ActOutput>) -> &LiveStep {
        let outcome = self.env.step(&action);
        if let Err(e) = self.record_step(&action, &outcome, outputs.as_ref()) {
            self.last_error = Some(e.to_string());
            self.recording = None;
        }
        self.episode_return += outcome.reward;
        self.obs.clone_from(&outcome.obs);
        let done = outcome.terminated || outcome.truncated;
        if done && !self.episode_counted {
            self.episode_counted = true;
            self.stats.episodes += 1;
            self.stats.successes += usize::from(outcome.info.success);
            self.stats.total_return += self.episode_return;
        }
        let step = LiveStep {
            action,
            outputs,
            outcome,
        };
        let hand_driven = matches!(
            self.driver,
            Driver::Teleop { .. } | Driver::Joints { .. } | Driver::Follow(_)
        );
        if done && self.auto_reset && !hand_driven {
            self.reset(self.seed + 1);
            if let Err(e) = self.reopen_recorder() {
                self.last_error = Some(e.to_string());
                self.recording = None;
            }
        }
        self.last.insert(step)
    }

    /// Appends the step to the episode being recorded; finishes the file when the episode ends.
    fn record_step(
        &mut self,
        action: &[f64; 4],
        outcome: &StepOutcome,
        outputs: Option<&ActOutput>,
    ) -> Result<(), EpisodeError> {
        let Some(rec) = self.recording.as_mut() else {
            return Ok(());
        };
        let Some(recorder) = rec.recorder.as_mut() else {
            return Ok(());
        };
        let policy = outputs.map(|o| PolicyOutputs {
            mean: o.mean.clone(),
            std: o.std.clone(),
            q: o.q.clone(),
            alpha: o.alpha,
        });
        recorder.record(&step_record(&self.env, action, outcome, policy))?;
        let done = outcome.terminated || outcome.truncated;
        if done && let Some(r) = rec.recorder.take() {
            self.recorded.push(r.finish()?);
        }
        Ok(())
    }

    fn reopen_recorder(&mut self) -> Result<(), EpisodeError> {
        let Some(rec) = self.recording.take() else {
            return Ok(());
        };
        let recorder = self.open_recorder(&rec)?;
        self.recording = Some(Recording {
            recorder: Some(recorder),
            ..rec
        });
        Ok(())
    }

    /// A snapshot of the current state with the IK target and the driver's annotations.
    pub fn snapshot(&self) -> SimSnapshot {
        let mut snap = self.env.sim().snapshot();
        snap.annotations.ik_target = Some(self.env.target().into());
        snap.annotations.place_target = self.env.place_marker();
        snap.annotations.joint_jog = matches!(self.driver, Driver::Joints { .. });
        if let Driver::Teleop { target, .. } = &self.driver {
            snap.annotations.teleop_target = Some(*target);
            snap.annotations.ghost.clone_from(&self.ghost);
        }
        if let (Some(p), Some(point)) = (self.perturb, self.perturb_point()) {
            snap.annotations.perturb = Some((point, p.target));
        }
        if let Driver::Scripted(p) = &self.driver {
            let (target, phase) = p.current_goal(&self.env);
            snap.annotations.pick_target = Some(target.into());
            snap.annotations.pick_phase = Some(phase.to_owned());
        }
        snap
    }
}
