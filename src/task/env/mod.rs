//! `TaskEnv`: one environment for every task config (lift, place, ...) with a Gymnasium-style
//! API. Cartesian actions through one DLS step per env step, the version's reward term by term,
//! the task's success predicate, truncation, three reset modes.

mod goal;
mod reset;

use std::collections::VecDeque;
use std::time::Instant;

use nalgebra::Vector3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{ResetMode, TaskConfig};
use super::dr::DrSample;
use super::image_obs::{ImagePipeline, ImageSpec};
use super::obs::{self, SpaceSpec};
pub use super::outcome::{EnvControllerState, EnvTimings, IkPreview, StepInfo, StepOutcome};
use super::reward::{self, RewardConfig, RewardInput, RewardState};
use crate::kinematics::{IkSolver, IkTarget};
use crate::render::RenderError;
use crate::scene::BuiltScene;
use crate::scene::names::{GRIPPER_INDEX, WRIST_ROLL_INDEX};
use crate::sim::{PhysicsEdits, Sim};

/// The task environment over one simulation.
#[derive(Debug)]
pub struct TaskEnv {
    sim: Sim,
    task: TaskConfig,
    reward: RewardConfig,
    ik: IkSolver,
    rng: ChaCha8Rng,
    target: Vector3<f64>,
    gripper_ctrl: f64,
    prev_action: [f64; 4],
    steps: usize,
    hold: usize,
    reward_state: RewardState,
    last_obs: Vec<f64>,
    obs_space: SpaceSpec,
    timings: EnvTimings,
    /// The scene as built; physics randomisation runs on copies of it.
    base_scene: BuiltScene,
    physics: PhysicsEdits,
    images: Option<ImagePipeline>,
    dr: Option<DrSample>,
    /// Actions waiting out the action latency, oldest first.
    pending: VecDeque<[f64; 4]>,
    /// Leave rendering to the caller (a `VecEnv` drawing all envs in one GPU batch).
    defer_images: bool,
    /// This episode's place target (x, y), for tasks with `[target]`.
    goal: Option<[f64; 2]>,
    /// The cube has been grasped and lifted this episode (the place predicate's carry check).
    carried: bool,
}

fn ik_solver(sim: &Sim, task: &TaskConfig) -> IkSolver {
    IkSolver::for_arm(sim, task.ik.clone())
}

impl TaskEnv {
    /// An environment on `scene`; call [`TaskEnv::reset`] before stepping.
    ///
    /// # Panics
    /// If `[obs.image]` names a camera the scene lacks. Configs from users go through
    /// [`TaskEnv::try_new`] (or `TaskConfig::check_scene` first), which reports that as an error.
    pub fn new(scene: BuiltScene, task: TaskConfig, reward: RewardConfig) -> Self {
        match Self::try_new(scene, task, reward) {
            Ok(env) => env,
            Err(e) => panic!("TaskEnv::new: {e} (use TaskEnv::try_new for user configs)"),
        }
    }

    /// An environment on `scene`, or why its image observation cannot be rendered.
    pub fn try_new(
        scene: BuiltScene,
        task: TaskConfig,
        reward: RewardConfig,
    ) -> Result<Self, RenderError> {
        let sim = Sim::new(scene.clone());
        let ik = ik_solver(&sim, &task);
        let obs_space = obs::observation_space(&task.obs);
        let images = match &task.obs.image {
            Some(config) => Some(ImagePipeline::new(&sim, config)?),
            None => None,
        };
        Ok(Self {
            sim,
            ik,
            base_scene: scene,
            physics: PhysicsEdits::default(),
            images,
            dr: None,
            pending: VecDeque::new(),
            defer_images: false,
            goal: None,
            carried: false,
            rng: ChaCha8Rng::seed_from_u64(0),
            target: Vector3::zeros(),
            gripper_ctrl: 0.0,
            prev_action: [0.0; 4],
            steps: 0,
            hold: 0,
            reward_state: RewardState::default(),
            last_obs: Vec::with_capacity(obs_space.dim()),
            obs_space,
            task,
            reward,
            timings: EnvTimings::default(),
        })
    }

    /// The image pipeline (tasks with `[obs.image]`).
    pub fn images(&self) -> Option<&ImagePipeline> {
        self.images.as_ref()
    }

    /// The layout of the image observation.
    pub fn image_spec(&self) -> Option<ImageSpec> {
        self.images.as_ref().map(|p| p.config().spec())
    }

    /// The current stacked image observation.
    pub fn pixels(&self) -> Option<&[u8]> {
        self.images.as_ref().map(ImagePipeline::observation)
    }

    /// This episode's domain randomisation sample (tasks with `[dr]`).
    pub fn dr_sample(&self) -> Option<&DrSample> {
        self.dr.as_ref()
    }

    /// Puts the world of `sample` in place: physics (a private copy of the model when anything
    /// changes), appearance and action latency. Resets use the seed's sample; replays apply the
    /// one recorded in the episode before restoring a state.
    pub fn apply_dr(&mut self, sample: &DrSample) {
        if sample.physics != self.physics {
            let scene = if sample.physics.is_identity() {
                self.base_scene.clone()
            } else {
                crate::sim::physics_variant(&self.base_scene, &sample.physics)
            };
            self.sim = Sim::new(scene);
            self.ik = ik_solver(&self.sim, &self.task);
            self.physics = sample.physics;
        }
        if let Some(images) = &mut self.images {
            images.set_look(sample.appearance);
        }
        self.dr = Some(*sample);
    }

    /// Whether `step` and `reset` leave the images to the caller ([`TaskEnv::image_pipeline_mut`]
    /// then takes frames rendered in a batch). Off by default.
    pub fn set_defer_images(&mut self, defer: bool) {
        self.defer_images = defer;
    }

    /// The image pipeline, mutable: for callers that render batches themselves.
    pub fn image_pipeline_mut(&mut self) -> Option<&mut ImagePipeline> {
        self.images.as_mut()
    }

    /// Renders the image observation now (after deferred steps, or to rebuild it).
    pub fn capture_images(&mut self, fresh: bool) {
        let start = Instant::now();
        if let Some(images) = &mut self.images {
            // The pipeline was built for this scene and its cameras (checked in try_new), and
            // physics variants keep every id, so rendering cannot fail here.
            let _ = images.capture(&self.sim, fresh);
            self.timings.render += start.elapsed();
        }
    }

    fn capture_unless_deferred(&mut self, fresh: bool) {
        if !self.defer_images {
            self.capture_images(fresh);
        }
    }

    fn pixels_unless_deferred(&self) -> Option<Vec<u8>> {
        if self.defer_images {
            None
        } else {
            self.pixels().map(<[u8]>::to_vec)
        }
    }

    fn neutral_action(&self) -> [f64; 4] {
        let r = self.sim.handles().gripper().ctrl_range;
        let g = 2.0 * (self.gripper_ctrl - r[0]) / (r[1] - r[0]) - 1.0;
        [0.0, 0.0, 0.0, g.clamp(-1.0, 1.0)]
    }

    /// The observation space (names, bounds, layout).
    pub fn observation_space(&self) -> &SpaceSpec {
        &self.obs_space
    }

    /// The action space.
    pub fn action_space(&self) -> SpaceSpec {
        obs::action_space()
    }

    /// The simulation (read-only: poses, contacts, state for recording).
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// The simulation, mutable: for perturbations (external wrenches) and tools. Changing the
    /// state here is outside the task's dynamics and is not recorded as an action.
    pub fn sim_mut(&mut self) -> &mut Sim {
        &mut self.sim
    }

    /// The task config.
    pub fn task(&self) -> &TaskConfig {
        &self.task
    }

    /// The reward version.
    pub fn reward_config(&self) -> &RewardConfig {
        &self.reward
    }

    /// Seconds of simulated time per env step (`substeps` physics steps).
    pub fn control_dt(&self) -> f64 {
        self.task().substeps as f64 * self.sim().timestep()
    }

    /// Steps taken in this episode.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The current TCP target.
    pub fn target(&self) -> Vector3<f64> {
        self.target
    }

    /// Starts an episode; the same seed gives the same start, bit for bit.
    pub fn reset(&mut self, seed: u64) -> Vec<f64> {
        self.reset_at(seed, None)
    }

    /// [`TaskEnv::reset`] with the cube placed at `placement` = (x, y, yaw in radians) instead
    /// of the seed's random placement (the seed still drives everything else).
    pub fn reset_at(&mut self, seed: u64, placement: Option<[f64; 3]>) -> Vec<f64> {
        if let Some(sample) = self.task.dr.as_ref().map(|dr| dr.sample(seed)) {
            self.apply_dr(&sample);
        }
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.sim.reset();
        self.steps = 0;
        self.hold = 0;
        self.prev_action = [0.0; 4];
        self.reward_state = RewardState::default();
        let t = &self.task;
        let x = t.cube_x[0] + self.rng.random_range(-1.0..=1.0) * t.cube_x[1];
        let y = t.cube_y[0] + self.rng.random_range(-1.0..=1.0) * t.cube_y[1];
        let yaw = self.rng.random_range(-1.0..=1.0) * t.cube_yaw_deg.to_radians();
        let [x, y, yaw] = placement.unwrap_or([x, y, yaw]);
        // The compiled cube, which domain randomisation may have resized.
        let half = self.cube_rest_z();
        self.sim.set_cube_pose([x, y, half], yaw);
        self.goal = self.task.target.map(|t| t.sample(&mut self.rng, [x, y]));
        self.carried = false;
        match self.task.reset_mode {
            ResetMode::Full => self.reset_full(),
            ResetMode::CubeInHand => self.reset_cube_in_hand(),
            ResetMode::Home => self.reset_home(),
        }
        let latency = self.dr.map_or(0, |d| d.latency_steps);
        self.pending = std::iter::repeat_n(self.neutral_action(), latency).collect();
        self.observe();
        self.capture_unless_deferred(true);
        self.last_obs.clone()
    }

    fn clamp_target(&self, p: Vector3<f64>) -> Vector3<f64> {
        let (lo, hi) = (self.task.target_min, self.task.target_max);
        Vector3::new(
            p.x.clamp(lo[0], hi[0]),
            p.y.clamp(lo[1], hi[1]),
            p.z.clamp(lo[2], hi[2]),
        )
    }

    /// Maps the gripper action in [-1, 1] linearly onto the gripper's control range.
    pub fn gripper_from_action(&self, a: f64) -> f64 {
        let r = self.sim.handles().gripper().ctrl_range;
        r[0] + (a.clamp(-1.0, 1.0) + 1.0) / 2.0 * (r[1] - r[0])
    }

    /// The observation another layout would see in the current state: a teacher's privileged
    /// view of the env a student acts in (distillation).
    pub fn observation_for(&self, cfg: &super::ObsConfig) -> Vec<f64> {
        let mut out = Vec::new();
        obs::write_observation(&self.sim, cfg, &self.obs_extras(), &mut out);
        out
    }

    fn obs_extras(&self) -> obs::ObsExtras {
        obs::ObsExtras {
            prev_action: self.prev_action,
            gripper_target: self.gripper_ctrl,
            goal: self.goal,
        }
    }

    fn observe(&mut self) {
        let mut buf = std::mem::take(&mut self.last_obs);
        obs::write_observation(&self.sim, &self.task.obs, &self.obs_extras(), &mut buf);
        self.last_obs = buf;
    }

    /// Applies an action: TCP target += 0.02 m x (dx, dy, dz) (clamped to the workspace), one
    /// IK step toward it, absolute gripper command; then the physics substeps.
    pub fn step(&mut self, action: &[f64; 4]) -> StepOutcome {
        let t0 = Instant::now();
        let a: [f64; 4] = std::array::from_fn(|i| {
            let v = action[i];
            if v.is_finite() {
                v.clamp(-1.0, 1.0)
            } else {
                0.0
            }
        });
        // With action latency the servos get the action of `latency` steps ago.
        let applied = if self.pending.is_empty() {
            a
        } else {
            self.pending.push_back(a);
            self.pending.pop_front().unwrap_or(a)
        };
        let delta = Vector3::new(applied[0], applied[1], applied[2]) * self.task.action_scale_m;
        self.target = self.clamp_target(self.target + delta);
        self.gripper_ctrl = self.gripper_from_action(applied[3]);
        self.apply_ik_step();
        let t1 = Instant::now();
        let previous_obs = self.last_obs.clone();
        self.sim.step_n(self.task.substeps);
        self.steps += 1;
        let t2 = Instant::now();
        self.timings.steps += 1;
        self.timings.ik += t1 - t0;
        self.timings.physics += t2 - t1;

        if self.sim.is_unstable() {
            // Never hand NaN to a learner: report, keep the last finite observation, truncate.
            let info = StepInfo {
                step: self.steps,
                unstable: true,
                ..StepInfo::default()
            };
            return StepOutcome {
                obs: previous_obs,
                reward: 0.0,
                terminated: false,
                truncated: true,
                info,
                pixels: self.pixels_unless_deferred(),
            };
        }
        let rendered = self.timings.render;
        let out = self.finish_step(a);
        self.timings.obs_reward += t2.elapsed().saturating_sub(self.timings.render - rendered);
        out
    }

    /// Returns and clears the accumulated step timings.
    pub fn take_timings(&mut self) -> EnvTimings {
        std::mem::take(&mut self.timings)
    }

    /// Where the arm would settle for TCP goal `goal`: the env's own IK (same joints, same
    /// orientation terms) solved to tolerance from the current joints, without moving anything.
    pub fn ik_preview(&mut self, goal: Vector3<f64>) -> IkPreview {
        let target = if self.task.top_down_ik {
            IkTarget::top_down(goal)
        } else {
            IkTarget::position(goal)
        };
        let mut q0 = self.sim.joint_positions();
        q0[WRIST_ROLL_INDEX] = self.task.wrist_roll_rad;
        let solution = self.ik.solve(self.sim.data(), q0, &target);
        let scratch = self.ik.scratch();
        IkPreview {
            solution,
            geom_pos: scratch.geom_xpos().to_vec(),
            geom_mat: scratch.geom_xmat().to_vec(),
        }
    }

    /// The current observation.
    pub fn observation(&self) -> &[f64] {
        &self.last_obs
    }

    /// Drives the servos straight to joint `targets` (jogging by joint) for one env step of
    /// substeps, with the task's gravity feed-forward. The IK target and gripper command then
    /// follow the arm, so a Cartesian driver or a policy can take over from where it stands.
    pub fn jog_joints(&mut self, targets: &[f64; 6]) {
        let mut ctrl = *targets;
        if self.task.gravity_feedforward > 0.0 {
            let offsets = self.sim.gravity_offsets();
            for (c, o) in ctrl.iter_mut().zip(offsets).take(WRIST_ROLL_INDEX) {
                *c += self.task.gravity_feedforward * o;
            }
        }
        self.sim.set_controls(&ctrl);
        self.sim.step_n(self.task.substeps);
        self.target = self.clamp_target(self.sim.tcp_pose().pos);
        self.gripper_ctrl = targets[GRIPPER_INDEX];
        self.observe();
        self.capture_unless_deferred(false);
    }

    fn apply_ik_step(&mut self) {
        let target = if self.task.top_down_ik {
            IkTarget::top_down(self.target)
        } else {
            IkTarget::position(self.target)
        };
        let step = self.ik.step(self.sim.data(), &target, self.task.ik.gain);
        let q = self.sim.joint_positions();
        let mut ctrl: [f64; 6] = std::array::from_fn(|i| q[i] + step.dq[i]);
        if self.task.gravity_feedforward > 0.0 {
            let offsets = self.sim.gravity_offsets();
            for (c, o) in ctrl.iter_mut().zip(offsets).take(WRIST_ROLL_INDEX) {
                *c += self.task.gravity_feedforward * o;
            }
        }
        ctrl[WRIST_ROLL_INDEX] = self.task.wrist_roll_rad;
        ctrl[GRIPPER_INDEX] = self.gripper_ctrl;
        self.sim.set_controls(&ctrl);
    }

    fn finish_step(&mut self, action: [f64; 4]) -> StepOutcome {
        let grasp = self.sim.grasp_state();
        let cube = self.sim.cube_pose();
        let tcp = self.sim.tcp_pose();
        let place = self.place_input(&grasp);
        self.hold = if self.goal_achieved(&grasp, place.as_ref()) {
            self.hold + 1
        } else {
            0
        };
        let success = self.hold >= self.task.success_hold_steps;
        let terms = reward::compute(
            &self.reward,
            &mut self.reward_state,
            &RewardInput {
                tcp_cube_dist: (tcp.pos - cube.pos).norm(),
                cube_z: cube.pos.z,
                grasping: grasp.grasping,
                success,
                action,
                prev_action: self.prev_action,
                lift_height_m: self.task.lift_height_m,
            },
            place.as_ref(),
        );
        self.prev_action = action;
        self.observe();
        self.capture_unless_deferred(false);
        let cq = cube.quat();
        let tq = tcp.quat();
        let info = StepInfo {
            step: self.steps,
            reward_terms: terms,
            grasping: grasp.grasping,
            static_pad_contact: grasp.static_pad_contact,
            moving_pad_contact: grasp.moving_pad_contact,
            cube_pos: cube.pos.into(),
            cube_quat: [cq.w, cq.i, cq.j, cq.k],
            tcp_pos: tcp.pos.into(),
            tcp_quat: [tq.w, tq.i, tq.j, tq.k],
            ik_target: self.target.into(),
            hold_count: self.hold,
            success,
            unstable: false,
            place: place.as_ref().map(|p| self.place_info(p)),
        };
        StepOutcome {
            obs: self.last_obs.clone(),
            reward: terms.total(),
            terminated: success,
            truncated: !success && self.steps >= self.task.max_episode_steps,
            info,
            pixels: self.pixels_unless_deferred(),
        }
    }

    /// The episode's mutable state beyond physics, for exact re-simulation from a saved state.
    pub fn controller_state(&self) -> EnvControllerState {
        EnvControllerState {
            target: self.target.into(),
            gripper_ctrl: self.gripper_ctrl,
            prev_action: self.prev_action,
            steps: self.steps,
            hold: self.hold,
            reward_state: self.reward_state,
            pending_actions: self.pending.iter().copied().collect(),
            goal: self.goal,
            carried: self.carried,
        }
    }

    /// Restores physics and controller state saved mid-episode.
    pub fn restore(
        &mut self,
        physics: &crate::sim::SimState,
        ctl: &EnvControllerState,
    ) -> Result<Vec<f64>, crate::sim::SimError> {
        self.sim.restore_state(physics)?;
        self.target = Vector3::from(ctl.target);
        self.gripper_ctrl = ctl.gripper_ctrl;
        self.prev_action = ctl.prev_action;
        self.steps = ctl.steps;
        self.hold = ctl.hold;
        self.reward_state = ctl.reward_state;
        self.pending = ctl.pending_actions.iter().copied().collect();
        self.goal = ctl.goal;
        self.carried = ctl.carried;
        self.observe();
        // The frame stack restarts at a restored state (a replay re-renders the earlier states
        // to rebuild it: see `Replay::render_stack`).
        self.capture_unless_deferred(true);
        Ok(self.last_obs.clone())
    }
}
