//! LeRobot datasets (format v3) out of our episodes and back into the sim: the SO-101 follower's
//! feature names and units, the frames of a recording ([`write_dataset`]), and a joint-target
//! drive of the sim that follows a recorded episode and measures how well it tracks
//! ([`import`]).
//!
//! The dataset files themselves are written and read by LeRobot's own dataset class
//! (`tools/lerobot_io.py`, run in the set-up's venv), so they are exactly LeRobot's format.
//!
//! Units. Exports use LeRobot's SO-101 follower with `use_degrees=True`: the five arm joints in
//! degrees, the gripper from 0 (closed) to 100 (open). Our joint angles are MJCF radians about
//! the model's zero pose; the gripper maps linearly from its joint range (low = closed) onto
//! 0..100. The follower's default (`use_degrees=False`) records the arm joints as -100..100 over
//! each joint's calibrated range; imports read that as -100..100 over the MJCF joint range
//! ([`ArmUnits::Range100`]). A real arm's zero and range come from its calibration, so a
//! dataset recorded on hardware may be offset from the sim by amounts no conversion can know.

mod import;

pub use import::{
    EpisodeTargets, RecordedEpisode, Tracking, episode_targets, max_abs, read_episode, resample,
    rms, track,
};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Episode, EpisodeError, env_of};
use crate::scene::names::{ALL_JOINTS, GRIPPER_INDEX, WRIST_ROLL_INDEX};
use crate::sim::Sim;

/// The robot type LeRobot records for this arm.
pub const ROBOT_TYPE: &str = "so101_follower";
/// The cube's pose in `observation.environment_state`: centre (m), then quaternion (w, x, y, z).
pub const CUBE_STATE_NAMES: [&str; 7] = [
    "cube.x", "cube.y", "cube.z", "cube.qw", "cube.qx", "cube.qy", "cube.qz",
];

/// LeRobot's names for the six motors' positions (`shoulder_pan.pos` ... `gripper.pos`), in
/// [`ALL_JOINTS`] order: our joints carry the follower's motor names.
pub fn motor_features() -> Vec<String> {
    ALL_JOINTS.iter().map(|j| format!("{j}.pos")).collect()
}

/// Everything that can go wrong exchanging LeRobot datasets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeRobotError {
    /// An episode could not be read or rebuilt.
    #[error(transparent)]
    Episode(#[from] EpisodeError),
    /// The output exists; datasets are never overwritten.
    #[error("{0} exists; a dataset is never overwritten (choose a new --out)")]
    Exists(PathBuf),
    /// No episode files were given.
    #[error("{0}: no episode files (*.jsonl)")]
    NoEpisodes(PathBuf),
    /// The Python side could not be started.
    #[error(
        "cannot run {python} ({source}); tools/setup.sh installs the venv with LeRobot's dataset \
         package"
    )]
    Python {
        /// The interpreter.
        python: PathBuf,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// LeRobot's dataset class rejected the input, or the input is not an SO-101 dataset.
    #[error("{path}: {message}")]
    Dataset {
        /// The dataset folder.
        path: PathBuf,
        /// LeRobot's (or our script's) message.
        message: String,
    },
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// How a dataset gives the five arm joints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ArmUnits {
    /// Degrees (the follower's `use_degrees=True`; what exports write).
    #[default]
    Degrees,
    /// -100..100 over the joint's range (the follower's default, `use_degrees=False`).
    Range100,
}

/// Converts between our joint angles and LeRobot's SO-101 units (module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeRobotUnits {
    /// How the arm joints are given.
    pub arm: ArmUnits,
    /// Each joint's range, rad ([`ALL_JOINTS`] order); the gripper's is (closed, open).
    pub ranges: [[f64; 2]; 6],
}

impl LeRobotUnits {
    /// The units of `sim`'s model with the arm in `arm` units.
    pub fn of(sim: &Sim, arm: ArmUnits) -> Self {
        Self {
            arm,
            ranges: std::array::from_fn(|i| sim.handles().joints[i].range),
        }
    }

    /// LeRobot units per radian, per joint. Every conversion here is affine, so a difference
    /// of joint angles (a tracking error) converts by this factor alone.
    pub fn per_radian(&self) -> [f64; 6] {
        std::array::from_fn(|i| {
            let [lo, hi] = self.ranges[i];
            match (i == GRIPPER_INDEX, self.arm) {
                (true, _) => 100.0 / (hi - lo),
                (false, ArmUnits::Degrees) => 1f64.to_degrees(),
                (false, ArmUnits::Range100) => 200.0 / (hi - lo),
            }
        })
    }

    /// A joint angle (rad) and the LeRobot value it maps to: with [`Self::per_radian`], the
    /// affine map of joint `i`.
    fn origin(&self, i: usize) -> (f64, f64) {
        match (i == GRIPPER_INDEX, self.arm) {
            (true, _) => (self.ranges[i][0], 0.0),
            (false, ArmUnits::Degrees) => (0.0, 0.0),
            (false, ArmUnits::Range100) => (self.ranges[i][0], -100.0),
        }
    }

    /// Our six joint values (rad) in LeRobot's units.
    pub fn to_lerobot(&self, q: &[f64; 6]) -> [f64; 6] {
        let k = self.per_radian();
        std::array::from_fn(|i| {
            let (rad, value) = self.origin(i);
            value + (q[i] - rad) * k[i]
        })
    }

    /// LeRobot's six motor values back to joint angles (rad).
    pub fn from_lerobot(&self, v: &[f64; 6]) -> [f64; 6] {
        let k = self.per_radian();
        std::array::from_fn(|i| {
            let (rad, value) = self.origin(i);
            rad + (v[i] - value) / k[i]
        })
    }
}

/// One episode as dataset frames. Frame `t` holds the observation before action `t` and the
/// joint positions action `t` commanded (LeRobot's `action`), without the servo-sag
/// feed-forward the assisted task adds to the servo targets.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DatasetEpisode {
    /// The task text LeRobot stores per frame.
    pub task: String,
    /// `observation.state`: joint positions, LeRobot units.
    pub state: Vec<[f64; 6]>,
    /// `action`: commanded joint positions, LeRobot units.
    pub action: Vec<[f64; 6]>,
    /// `observation.environment_state`: the cube pose ([`CUBE_STATE_NAMES`]).
    pub env_state: Vec<[f64; 7]>,
    /// `next.reward`.
    pub reward: Vec<f64>,
    /// `next.success`.
    pub success: Vec<bool>,
}

fn cube_state(sim: &Sim) -> [f64; 7] {
    let p = sim.cube_pose();
    let q = p.quat();
    [p.pos.x, p.pos.y, p.pos.z, q.w, q.i, q.j, q.k]
}

/// The task text for a recording, from its task's success predicate.
fn task_text(task: &crate::task::TaskConfig) -> String {
    match task.success {
        crate::task::SuccessPredicate::Place => {
            "Pick up the cube and place it on the target.".to_owned()
        }
        _ => "Pick up the cube and lift it.".to_owned(),
    }
}

/// The frames of a recorded episode (its scene is rebuilt from the header to read the joints,
/// the servo targets and the cube at every recorded state). Returns the frames and the control
/// rate in frames per second.
pub fn dataset_episode(ep: &Episode, path: &Path) -> Result<(DatasetEpisode, f64), EpisodeError> {
    let config = |message: String| EpisodeError::Config {
        path: path.to_owned(),
        message,
    };
    if ep.steps.is_empty() {
        return Err(config("the episode has no steps".into()));
    }
    let mut env = env_of(ep, path)?;
    let fps = 1.0 / env.control_dt();
    let task = task_text(env.task());
    let feedforward = env.task().gravity_feedforward;
    let units = LeRobotUnits::of(env.sim(), ArmUnits::Degrees);
    let sim = env.sim_mut();
    let bad = |e: crate::sim::SimError| config(e.to_string());
    sim.restore_state(&ep.header.initial_state).map_err(bad)?;
    let n = ep.steps.len();
    let mut out = DatasetEpisode {
        task,
        state: Vec::with_capacity(n),
        action: Vec::with_capacity(n),
        env_state: Vec::with_capacity(n),
        reward: Vec::with_capacity(n),
        success: Vec::with_capacity(n),
    };
    for step in &ep.steps {
        out.state.push(units.to_lerobot(&sim.joint_positions()));
        out.env_state.push(cube_state(sim));
        // The env added feed-forward * qfrc_bias / kp of this (pre-step) state to the arm's
        // targets; the command itself is the target without it.
        let offsets = sim.gravity_offsets();
        sim.restore_state(&step.state).map_err(bad)?;
        let mut command = sim.controls();
        for (c, o) in command.iter_mut().zip(offsets).take(WRIST_ROLL_INDEX) {
            *c -= feedforward * o;
        }
        out.action.push(units.to_lerobot(&command));
        out.reward.push(step.reward);
        out.success.push(step.info.success);
    }
    Ok((out, fps))
}

/// The interpreter that runs `tools/lerobot_io.py`: `$SO101_PYTHON`, else the set-up's venv.
pub fn default_python() -> PathBuf {
    std::env::var_os("SO101_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(crate::paths::venv_python)
}

/// Runs the dataset script with `stdin` fed to it. Returns the last line of its stdout on
/// success (LeRobot's own progress output can precede it), else its `error: ` line.
fn run_script(
    python: &Path,
    args: &[&std::ffi::OsStr],
    stdin: &[u8],
    dataset: &Path,
) -> Result<String, LeRobotError> {
    let script = crate::paths::tool_file("tools/lerobot_io.py");
    let spawn_err = |source| LeRobotError::Python {
        python: python.to_owned(),
        source,
    };
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    if let Some(mut pipe) = child.stdin.take() {
        // The script reads all of stdin before it writes much, so this cannot block on a full
        // output pipe; a script that exits early closes the pipe, and its status says why.
        let _ = pipe.write_all(stdin);
    }
    let out = child.wait_with_output().map_err(spawn_err)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        return Ok(stdout.lines().last().unwrap_or_default().to_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let message = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .or_else(|| lines.last().copied())
        .unwrap_or("the dataset script failed without a message")
        .to_owned();
    Err(LeRobotError::Dataset {
        path: dataset.to_owned(),
        message,
    })
}

/// The `*.jsonl` episodes a path names: the file itself, or a folder's files in name order.
pub fn episode_files(path: &Path) -> Result<Vec<PathBuf>, LeRobotError> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let files = super::jsonl_files(path).map_err(|source| LeRobotError::Io {
        path: path.to_owned(),
        source,
    })?;
    if files.is_empty() {
        return Err(LeRobotError::NoEpisodes(path.to_owned()));
    }
    Ok(files)
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct DatasetSummary {
    /// Episodes in the dataset.
    pub episodes: usize,
    /// Frames in the dataset.
    pub frames: usize,
}

#[derive(serde::Serialize)]
struct Spec<'a> {
    fps: u32,
    robot_type: &'a str,
    repo_id: String,
    state_names: Vec<String>,
    env_state_names: &'a [&'a str],
    episodes: &'a [DatasetEpisode],
}

/// The episodes of `files` as frames, with their common control rate (LeRobot stores an
/// integer fps).
fn frames_of(files: &[PathBuf]) -> Result<(Vec<DatasetEpisode>, u32), LeRobotError> {
    let mut episodes = Vec::with_capacity(files.len());
    let mut fps: Option<u32> = None;
    for file in files {
        let ep = Episode::read(file)?;
        let (frames, rate) = dataset_episode(&ep, file)?;
        let config = |message: String| EpisodeError::Config {
            path: file.clone(),
            message,
        };
        if (rate - rate.round()).abs() > 1e-6 || !(1.0..=10_000.0).contains(&rate) {
            return Err(config(format!(
                "control rate {rate} Hz: LeRobot datasets need a whole number of frames per second"
            ))
            .into());
        }
        let rate = rate.round() as u32;
        if let Some(f) = fps.filter(|&f| f != rate) {
            return Err(config(format!(
                "control rate {rate} Hz differs from the other episodes' {f} Hz"
            ))
            .into());
        }
        fps = Some(rate);
        episodes.push(frames);
    }
    Ok((episodes, fps.unwrap_or(50)))
}

/// Writes `files` as one LeRobot dataset in `out`. The dataset is built in a temporary sibling
/// folder and renamed into place, so a failure leaves nothing at `out`.
pub fn write_dataset(
    files: &[PathBuf],
    out: &Path,
    python: &Path,
) -> Result<DatasetSummary, LeRobotError> {
    if out.exists() {
        return Err(LeRobotError::Exists(out.to_owned()));
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| LeRobotError::Io {
        path: parent.to_owned(),
        source,
    })?;
    // Leftovers of killed exports (named like atomic writes' temps, by a dead pid).
    let _ = crate::fsutil::remove_stale_temps(parent);
    let (episodes, fps) = frames_of(files)?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".into());
    let spec = Spec {
        fps,
        robot_type: ROBOT_TYPE,
        repo_id: format!("so101-lab/{name}"),
        state_names: motor_features(),
        env_state_names: &CUBE_STATE_NAMES,
        episodes: &episodes,
    };
    let json = serde_json::to_vec(&spec).map_err(|e| LeRobotError::Dataset {
        path: out.to_owned(),
        message: e.to_string(),
    })?;
    let tmp = crate::fsutil::temp_path(out);
    let result = run_script(
        python,
        &["write".as_ref(), "-".as_ref(), tmp.as_os_str()],
        &json,
        out,
    )
    .and_then(|line| {
        serde_json::from_str::<DatasetSummary>(&line).map_err(|e| LeRobotError::Dataset {
            path: out.to_owned(),
            message: format!("unexpected reply from the dataset script ({e}): {line}"),
        })
    })
    .and_then(|summary| {
        std::fs::rename(&tmp, out).map_err(|source| LeRobotError::Io {
            path: out.to_owned(),
            source,
        })?;
        Ok(summary)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(arm: ArmUnits) -> LeRobotUnits {
        LeRobotUnits {
            arm,
            ranges: [
                [-2.0, 2.0],
                [-1.0, 3.0],
                [-1.5, 1.5],
                [-1.0, 1.0],
                [-3.0, 3.0],
                [-0.2, 1.8],
            ],
        }
    }

    #[test]
    fn units_have_worked_values_and_round_trip() {
        let u = units(ArmUnits::Degrees);
        let q = [std::f64::consts::FRAC_PI_2, -0.5, 0.0, 1.0, -3.0, 0.3];
        let v = u.to_lerobot(&q);
        assert!((v[0] - 90.0).abs() < 1e-12);
        assert!((v[1] - (-28.64788975654116)).abs() < 1e-9);
        assert_eq!(v[2], 0.0);
        // 0.3 rad is a quarter of the way from -0.2 (closed, 0) to 1.8 (open, 100).
        assert!((v[5] - 25.0).abs() < 1e-12);
        let k = u.per_radian();
        assert_eq!(k[5], 50.0, "100 over a 2 rad range");
        assert!((k[0] - 57.29577951308232).abs() < 1e-12);
        // Range100: shoulder_lift's [-1, 3] onto [-100, 100]: -0.5 rad is 1/8 of the way.
        let r = units(ArmUnits::Range100);
        let w = r.to_lerobot(&q);
        assert!((w[1] - (-75.0)).abs() < 1e-12, "{w:?}");
        assert!((w[0] - 78.53981633974483).abs() < 1e-9, "pi/2 of [-2, 2]");
        assert_eq!(w[5], v[5], "the gripper is 0-100 either way");
        assert_eq!(r.per_radian()[1], 50.0);
        for u in [u, r] {
            let back = u.from_lerobot(&u.to_lerobot(&q));
            for (a, b) in back.iter().zip(&q) {
                assert!((a - b).abs() < 1e-12, "{back:?} vs {q:?}");
            }
        }
    }

    #[test]
    fn motor_feature_names_are_the_followers() {
        assert_eq!(
            motor_features(),
            [
                "shoulder_pan.pos",
                "shoulder_lift.pos",
                "elbow_flex.pos",
                "wrist_flex.pos",
                "wrist_roll.pos",
                "gripper.pos"
            ]
        );
    }
}
