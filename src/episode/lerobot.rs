//! LeRobot datasets (format v3) out of our episodes and back into the sim: the SO-101 follower's
//! feature names and units, the frames of a recording, and a joint-target drive of the sim that
//! follows a recorded episode and measures how well it tracks.
//!
//! The dataset files themselves are written and read by LeRobot's own dataset class
//! (`tools/lerobot_io.py`, run in the set-up's venv), so they are exactly LeRobot's format.
//!
//! Units, as LeRobot's SO-101 follower reports them with `use_degrees=True`: the five arm joints
//! in degrees, the gripper from 0 (closed) to 100 (open). Our joint angles are MJCF radians about
//! the model's zero pose; the gripper maps linearly from its joint range (low = closed) onto
//! 0..100. A real arm's zero is its calibration's mid pose, so a dataset recorded on hardware
//! may carry per-joint offsets this conversion cannot know.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Episode, EpisodeError, env_of};
use crate::scene::names::{ALL_JOINTS, GRIPPER_INDEX};
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
        "cannot run {python} ({source}); tools/setup.sh installs the venv with LeRobot's dataset package"
    )]
    Python {
        /// The interpreter.
        python: PathBuf,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// LeRobot's dataset class rejected the input.
    #[error("{path}: {message}")]
    Dataset {
        /// The dataset folder.
        path: PathBuf,
        /// LeRobot's (or our script's) message.
        message: String,
    },
    /// Writing a temporary file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Converts between our joint angles and LeRobot's SO-101 units (module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeRobotUnits {
    /// The gripper joint's range, rad: (closed, open) = (0, 100).
    pub gripper_range: [f64; 2],
}

impl LeRobotUnits {
    /// The units of `sim`'s model (its gripper joint range).
    pub fn of(sim: &Sim) -> Self {
        Self {
            gripper_range: sim.handles().joints[GRIPPER_INDEX].range,
        }
    }

    /// Our six joint values (rad) in LeRobot's units.
    pub fn to_lerobot(&self, q: &[f64; 6]) -> [f64; 6] {
        let [lo, hi] = self.gripper_range;
        std::array::from_fn(|i| {
            if i == GRIPPER_INDEX {
                (q[i] - lo) / (hi - lo) * 100.0
            } else {
                q[i].to_degrees()
            }
        })
    }

    /// LeRobot units per radian, per joint: the conversion is linear, so a difference of joint
    /// angles (a tracking error) converts by this factor alone.
    pub fn per_radian(&self) -> [f64; 6] {
        let [lo, hi] = self.gripper_range;
        std::array::from_fn(|i| {
            if i == GRIPPER_INDEX {
                100.0 / (hi - lo)
            } else {
                1f64.to_degrees()
            }
        })
    }

    /// LeRobot's six motor values back to joint angles (rad).
    pub fn from_lerobot(&self, v: &[f64; 6]) -> [f64; 6] {
        let [lo, hi] = self.gripper_range;
        std::array::from_fn(|i| {
            if i == GRIPPER_INDEX {
                lo + v[i] / 100.0 * (hi - lo)
            } else {
                v[i].to_radians()
            }
        })
    }
}

/// One episode as dataset frames. Frame `t` holds the observation before action `t` and the
/// servo targets action `t` set (LeRobot's `action`: the commanded joint positions).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DatasetEpisode {
    /// The task text LeRobot stores per frame.
    pub task: String,
    /// `observation.state`: joint positions, LeRobot units.
    pub state: Vec<[f64; 6]>,
    /// `action`: servo targets, LeRobot units.
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
    let mut env = env_of(ep, path)?;
    let fps = 1.0 / env.control_dt();
    let task = task_text(env.task());
    let units = LeRobotUnits::of(env.sim());
    let bad = |e: crate::sim::SimError| EpisodeError::Config {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let sim = env.sim_mut();
    sim.restore_state(&ep.header.initial_state).map_err(bad)?;
    let mut out = DatasetEpisode {
        task,
        state: Vec::with_capacity(ep.steps.len()),
        action: Vec::with_capacity(ep.steps.len()),
        env_state: Vec::with_capacity(ep.steps.len()),
        reward: Vec::with_capacity(ep.steps.len()),
        success: Vec::with_capacity(ep.steps.len()),
    };
    for step in &ep.steps {
        out.state.push(units.to_lerobot(&sim.joint_positions()));
        out.env_state.push(cube_state(sim));
        sim.restore_state(&step.state).map_err(bad)?;
        out.action.push(units.to_lerobot(&sim.controls()));
        out.reward.push(step.reward);
        out.success.push(step.info.success);
    }
    Ok((out, fps))
}

/// The interpreter that runs `tools/lerobot_io.py`: `$SO101_PYTHON`, else the set-up's venv.
pub fn default_python() -> PathBuf {
    std::env::var_os("SO101_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("third_party/sb3-venv/bin/python")
        })
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/lerobot_io.py")
}

/// Runs the dataset script; its stdout on success, its last error line otherwise.
fn run_script(
    python: &Path,
    args: &[&std::ffi::OsStr],
    dataset: &Path,
) -> Result<Vec<u8>, LeRobotError> {
    let out = Command::new(python)
        .arg(script())
        .args(args)
        .output()
        .map_err(|source| LeRobotError::Python {
            python: python.to_owned(),
            source,
        })?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("the dataset script failed without a message")
        .trim_start_matches("error: ")
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
    fps: f64,
    robot_type: &'a str,
    repo_id: String,
    state_names: Vec<String>,
    env_state_names: &'a [&'a str],
    episodes: &'a [DatasetEpisode],
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
    let mut episodes = Vec::with_capacity(files.len());
    let mut fps = None;
    for file in files {
        let ep = Episode::read(file)?;
        let (frames, rate) = dataset_episode(&ep, file)?;
        if fps.is_some_and(|f: f64| f != rate) {
            return Err(EpisodeError::Config {
                path: file.clone(),
                message: format!(
                    "control rate {rate} Hz differs from the other episodes' {} Hz",
                    fps.unwrap_or(rate)
                ),
            }
            .into());
        }
        fps = Some(rate);
        episodes.push(frames);
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".into());
    let spec = Spec {
        fps: fps.unwrap_or(50.0).round(),
        robot_type: ROBOT_TYPE,
        repo_id: format!("so101-lab/{name}"),
        state_names: motor_features(),
        env_state_names: &CUBE_STATE_NAMES,
        episodes: &episodes,
    };
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = crate::fsutil::first_free(|i| parent.join(format!(".{name}.partial{i}")));
    let spec_path = tmp.with_extension("spec.json");
    let json = serde_json::to_vec(&spec).map_err(|e| LeRobotError::Dataset {
        path: out.to_owned(),
        message: e.to_string(),
    })?;
    std::fs::write(&spec_path, json).map_err(|source| LeRobotError::Io {
        path: spec_path.clone(),
        source,
    })?;
    let result = run_script(
        python,
        &["write".as_ref(), spec_path.as_os_str(), tmp.as_os_str()],
        out,
    )
    .and_then(|stdout| {
        serde_json::from_slice::<DatasetSummary>(&stdout).map_err(|e| LeRobotError::Dataset {
            path: out.to_owned(),
            message: format!("unexpected reply from the dataset script: {e}"),
        })
    })
    .and_then(|summary| {
        std::fs::rename(&tmp, out).map_err(|source| LeRobotError::Io {
            path: out.to_owned(),
            source,
        })?;
        Ok(summary)
    });
    let _ = std::fs::remove_file(&spec_path);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// One episode of a LeRobot SO-101 dataset, as recorded (LeRobot units).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct RecordedEpisode {
    /// Frames per second of the recording.
    pub fps: f64,
    /// Episodes in the dataset.
    pub total_episodes: usize,
    /// The names of `observation.state`'s entries.
    pub state_names: Vec<String>,
    /// `observation.state` per frame.
    pub state: Vec<Vec<f64>>,
}

impl RecordedEpisode {
    /// The six motor positions per frame in [`ALL_JOINTS`] order, found by name.
    pub fn motor_positions(&self, dataset: &Path) -> Result<Vec<[f64; 6]>, LeRobotError> {
        let wanted = motor_features();
        let mut index = [0usize; 6];
        for (slot, name) in index.iter_mut().zip(&wanted) {
            *slot = self
                .state_names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| LeRobotError::Dataset {
                    path: dataset.to_owned(),
                    message: format!(
                        "observation.state has no `{name}` (it names {:?}); an SO-101 follower \
                         dataset is expected",
                        self.state_names
                    ),
                })?;
        }
        self.state
            .iter()
            .enumerate()
            .map(|(frame, row)| {
                let get = |i: usize| row.get(i).copied().filter(|v| v.is_finite());
                let mut out = [0.0; 6];
                for (o, &i) in out.iter_mut().zip(&index) {
                    *o = get(i).ok_or_else(|| LeRobotError::Dataset {
                        path: dataset.to_owned(),
                        message: format!(
                            "frame {frame}: observation.state[{i}] missing or not finite"
                        ),
                    })?;
                }
                Ok(out)
            })
            .collect()
    }
}

/// Reads episode `k` of the LeRobot dataset at `dataset`.
pub fn read_episode(
    dataset: &Path,
    k: usize,
    python: &Path,
) -> Result<RecordedEpisode, LeRobotError> {
    let k = k.to_string();
    let stdout = run_script(
        python,
        &["read".as_ref(), dataset.as_os_str(), k.as_ref()],
        dataset,
    )?;
    let ep: RecordedEpisode =
        serde_json::from_slice(&stdout).map_err(|e| LeRobotError::Dataset {
            path: dataset.to_owned(),
            message: format!("unexpected reply from the dataset script: {e}"),
        })?;
    if !(ep.fps.is_finite() && ep.fps > 0.0) || ep.state.is_empty() {
        return Err(LeRobotError::Dataset {
            path: dataset.to_owned(),
            message: format!("episode has {} frames at {} fps", ep.state.len(), ep.fps),
        });
    }
    Ok(ep)
}

/// The sim following a recorded joint trajectory: targets and reached positions per control
/// step (rad).
#[derive(Debug, Clone, PartialEq)]
pub struct Tracking {
    /// Seconds per control step.
    pub dt: f64,
    /// The recording resampled at the control rate.
    pub target: Vec<[f64; 6]>,
    /// The sim's joint positions after each control step.
    pub reached: Vec<[f64; 6]>,
}

impl Tracking {
    /// Per-joint error, target minus reached, per step.
    pub fn errors(&self) -> impl Iterator<Item = [f64; 6]> + '_ {
        self.target
            .iter()
            .zip(&self.reached)
            .map(|(t, r)| std::array::from_fn(|i| t[i] - r[i]))
    }

    /// Root-mean-square error per joint.
    pub fn rms(&self) -> [f64; 6] {
        let n = self.target.len().max(1) as f64;
        let mut sum = [0.0; 6];
        for e in self.errors() {
            for (s, v) in sum.iter_mut().zip(e) {
                *s += v * v;
            }
        }
        sum.map(|s| (s / n).sqrt())
    }

    /// Largest absolute error per joint.
    pub fn max_abs(&self) -> [f64; 6] {
        self.errors().fold([0.0; 6], |m, e| {
            std::array::from_fn(|i| m[i].max(e[i].abs()))
        })
    }
}

/// `frames` (recorded at `fps`) linearly interpolated at `t` seconds, held at the ends.
pub fn sample_at(frames: &[[f64; 6]], fps: f64, t: f64) -> [f64; 6] {
    let last = frames.len().saturating_sub(1);
    let x = (t * fps).clamp(0.0, last as f64);
    let i = (x.floor() as usize).min(last);
    let j = (i + 1).min(last);
    let w = x - i as f64;
    std::array::from_fn(|k| frames[i][k] + (frames[j][k] - frames[i][k]) * w)
}

/// `frames` (recorded at `fps`) resampled at the control rate: the target of control step `k` is
/// the recording at `(k + 1) dt`, the time that step ends, up to the recording's last frame.
pub fn resample(frames: &[[f64; 6]], fps: f64, dt: f64) -> Vec<[f64; 6]> {
    let duration = frames.len().saturating_sub(1) as f64 / fps;
    let steps = (duration / dt).floor() as usize + 1;
    if frames.is_empty() {
        return Vec::new();
    }
    (0..steps)
        .map(|k| sample_at(frames, fps, (k + 1) as f64 * dt))
        .collect()
}

/// Drives `env`'s servos along `targets` (rad, one per control step, e.g. from [`resample`]):
/// the arm starts at the first target, then each env step jogs the joints to the next one the
/// way the app's "recorded joints" driver does (`TaskEnv::jog_joints`, with the task's gravity
/// feed-forward).
pub fn track(env: &mut crate::task::TaskEnv, targets: &[[f64; 6]]) -> Tracking {
    let dt = env.control_dt();
    if let Some(first) = targets.first() {
        env.sim_mut().set_joint_positions(first);
    }
    let reached = targets
        .iter()
        .map(|t| {
            env.jog_joints(t);
            env.sim().joint_positions()
        })
        .collect();
    Tracking {
        dt,
        target: targets.to_vec(),
        reached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_have_worked_values_and_round_trip() {
        let u = LeRobotUnits {
            gripper_range: [-0.2, 1.8],
        };
        let q = [std::f64::consts::FRAC_PI_2, -0.5, 0.0, 1.0, -3.0, 0.3];
        let v = u.to_lerobot(&q);
        assert!((v[0] - 90.0).abs() < 1e-12);
        assert!((v[1] - (-28.64788975654116)).abs() < 1e-9);
        assert_eq!(v[2], 0.0);
        // 0.3 rad is a quarter of the way from -0.2 (closed, 0) to 1.8 (open, 100).
        assert!((v[5] - 25.0).abs() < 1e-12);
        let back = u.from_lerobot(&v);
        for (a, b) in back.iter().zip(&q) {
            assert!((a - b).abs() < 1e-12, "{back:?} vs {q:?}");
        }
        assert_eq!(u.to_lerobot(&[0.0, 0.0, 0.0, 0.0, 0.0, -0.2])[5], 0.0);
        let k = u.per_radian();
        assert_eq!(k[5], 50.0, "100 over a 2 rad range");
        assert!((k[0] - 57.29577951308232).abs() < 1e-12);
        assert_eq!(u.to_lerobot(&[0.0, 0.0, 0.0, 0.0, 0.0, 1.8])[5], 100.0);
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

    #[test]
    fn resampling_interpolates_between_frames_and_holds_the_ends() {
        let frames = [[0.0; 6], [1.0; 6], [3.0; 6]];
        // 30 fps: frame 1 at 1/30 s, frame 2 at 2/30 s.
        assert_eq!(sample_at(&frames, 30.0, 0.0)[0], 0.0);
        assert!((sample_at(&frames, 30.0, 0.5 / 30.0)[3] - 0.5).abs() < 1e-12);
        assert!((sample_at(&frames, 30.0, 1.5 / 30.0)[0] - 2.0).abs() < 1e-12);
        assert_eq!(sample_at(&frames, 30.0, 10.0)[5], 3.0);
        assert_eq!(sample_at(&frames, 30.0, -1.0)[5], 0.0);
    }

    #[test]
    fn resampling_covers_the_recording_at_the_control_rate() {
        // 1 s at 30 fps (31 frames) at 50 Hz: 51 control steps, the last one held at the end.
        let frames: Vec<[f64; 6]> = (0..31).map(|i| [i as f64; 6]).collect();
        let r = resample(&frames, 30.0, 0.02);
        assert_eq!(r.len(), 51);
        assert!(
            (r[0][0] - 0.6).abs() < 1e-12,
            "step 0 ends at 0.02 s = frame 0.6"
        );
        assert_eq!(r[50][2], 30.0);
        assert!(resample(&[], 30.0, 0.02).is_empty());
    }

    #[test]
    fn recorded_state_is_read_by_motor_name_in_any_order() {
        let mut names = motor_features();
        names.reverse();
        let ep = RecordedEpisode {
            fps: 30.0,
            total_episodes: 1,
            state_names: names,
            state: vec![vec![6.0, 5.0, 4.0, 3.0, 2.0, 1.0]],
        };
        let rows = ep.motor_positions(Path::new("d")).expect("named");
        assert_eq!(rows, vec![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]);
        let missing = RecordedEpisode {
            state_names: vec!["a".into()],
            ..ep.clone()
        };
        let err = missing
            .motor_positions(Path::new("d"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("shoulder_pan.pos"), "{err}");
        let short = RecordedEpisode {
            state: vec![vec![1.0]],
            ..ep
        };
        let err = short
            .motor_positions(Path::new("d"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("frame 0"), "{err}");
    }
}
