//! The other way: one episode of a LeRobot SO-101 dataset (joint positions recorded at the
//! dataset's fps) as servo targets at the control rate, and the sim driven along them.

use std::path::Path;

use super::{LeRobotError, LeRobotUnits, motor_features, run_script};
use crate::task::TaskEnv;

/// The frame rates a recording may have (outside them the resampling is nonsense or huge).
const FPS_RANGE: std::ops::RangeInclusive<f64> = 1.0..=1000.0;
/// The longest recording imported, seconds (an hour of control steps is ~180k targets).
const MAX_SECONDS: f64 = 3600.0;

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
    /// The six motor positions per frame in [`crate::scene::names::ALL_JOINTS`] order, found
    /// by name.
    pub fn motor_positions(&self, dataset: &Path) -> Result<Vec<[f64; 6]>, LeRobotError> {
        let bad = |message: String| LeRobotError::Dataset {
            path: dataset.to_owned(),
            message,
        };
        let mut index = [0usize; 6];
        for (slot, name) in index.iter_mut().zip(motor_features()) {
            *slot = self
                .state_names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(|| {
                    bad(format!(
                        "observation.state has no `{name}` (it names {:?}); an SO-101 follower \
                         dataset is expected",
                        self.state_names
                    ))
                })?;
        }
        self.state
            .iter()
            .enumerate()
            .map(|(frame, row)| {
                let mut out = [0.0; 6];
                for (o, &i) in out.iter_mut().zip(&index) {
                    *o = row
                        .get(i)
                        .copied()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            bad(format!(
                                "frame {frame}: observation.state[{i}] missing or not finite"
                            ))
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
    let bad = |message: String| LeRobotError::Dataset {
        path: dataset.to_owned(),
        message,
    };
    let k = k.to_string();
    let line = run_script(
        python,
        &["read".as_ref(), dataset.as_os_str(), k.as_ref()],
        &[],
        dataset,
    )?;
    let ep: RecordedEpisode = serde_json::from_str(&line)
        .map_err(|e| bad(format!("unexpected reply from the dataset script: {e}")))?;
    if !FPS_RANGE.contains(&ep.fps) || ep.state.is_empty() {
        return Err(bad(format!(
            "episode has {} frames at {} fps (expected frames at 1-1000 fps)",
            ep.state.len(),
            ep.fps
        )));
    }
    if ep.state.len() as f64 / ep.fps > MAX_SECONDS {
        return Err(bad(format!(
            "episode is {:.0} s long; at most {MAX_SECONDS} s is imported",
            ep.state.len() as f64 / ep.fps
        )));
    }
    Ok(ep)
}

/// Episode `k` of `dataset` as joint angles (rad) per frame, with its fps.
fn episode_frames(
    dataset: &Path,
    k: usize,
    python: &Path,
    units: &LeRobotUnits,
) -> Result<(Vec<[f64; 6]>, RecordedEpisode), LeRobotError> {
    let recorded = read_episode(dataset, k, python)?;
    let frames = recorded
        .motor_positions(dataset)?
        .iter()
        .map(|v| units.from_lerobot(v))
        .collect();
    Ok((frames, recorded))
}

/// A recorded episode ready to drive a sim.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeTargets {
    /// The first frame's pose, rad: where the arm starts.
    pub start: [f64; 6],
    /// Servo targets per control step, rad (see [`resample`]).
    pub targets: Vec<[f64; 6]>,
    /// The recording they came from.
    pub recorded: RecordedEpisode,
}

/// Episode `k` of `dataset` ready to drive a sim at `dt` seconds per step.
pub fn episode_targets(
    dataset: &Path,
    k: usize,
    python: &Path,
    units: &LeRobotUnits,
    dt: f64,
) -> Result<EpisodeTargets, LeRobotError> {
    let (frames, recorded) = episode_frames(dataset, k, python, units)?;
    Ok(EpisodeTargets {
        start: frames[0],
        targets: resample(&frames, recorded.fps, dt),
        recorded,
    })
}

/// `frames` (recorded at `fps`; not empty) linearly interpolated at `t` seconds, held at the
/// ends.
fn sample_at(frames: &[[f64; 6]], fps: f64, t: f64) -> [f64; 6] {
    let last = frames.len().saturating_sub(1);
    let x = (t * fps).clamp(0.0, last as f64);
    let i = (x.floor() as usize).min(last);
    let j = (i + 1).min(last);
    let w = x - i as f64;
    std::array::from_fn(|k| frames[i][k] + (frames[j][k] - frames[i][k]) * w)
}

/// `frames` (recorded at `fps`) resampled at the control rate: the target of control step `k` is
/// the recording at `(k + 1) dt`, the time that step ends, until the step that reaches the
/// recording's end.
pub fn resample(frames: &[[f64; 6]], fps: f64, dt: f64) -> Vec<[f64; 6]> {
    if frames.is_empty() || !(fps > 0.0 && dt > 0.0) {
        return Vec::new();
    }
    let duration = (frames.len() - 1) as f64 / fps;
    // The tolerance keeps a duration that is a whole number of steps from losing its last one
    // to rounding (e.g. 79 frames at 50 fps over 0.02 s steps).
    let steps = ((duration / dt) - 1e-9).ceil().max(0.0) as usize;
    (0..steps.max(1))
        .map(|k| sample_at(frames, fps, (k + 1) as f64 * dt))
        .collect()
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
    pub fn errors(&self) -> Vec<[f64; 6]> {
        self.target
            .iter()
            .zip(&self.reached)
            .map(|(t, r)| std::array::from_fn(|i| t[i] - r[i]))
            .collect()
    }
}

/// Root-mean-square per joint of `errors` (zeros when there are none).
pub fn rms(errors: &[[f64; 6]]) -> [f64; 6] {
    let n = errors.len().max(1) as f64;
    let mut sum = [0.0; 6];
    for e in errors {
        for (s, v) in sum.iter_mut().zip(e) {
            *s += v * v;
        }
    }
    sum.map(|s| (s / n).sqrt())
}

/// Largest absolute value per joint of `errors`.
pub fn max_abs(errors: &[[f64; 6]]) -> [f64; 6] {
    errors.iter().fold([0.0; 6], |m, e| {
        std::array::from_fn(|i| m[i].max(e[i].abs()))
    })
}

/// Drives `env`'s servos along `targets` (rad, one per control step, e.g. from [`resample`])
/// from `start`: each env step jogs the joints to the next target the way the app's "recorded
/// joints" driver does (`TaskEnv::jog_joints`, with the task's gravity feed-forward).
pub fn track(env: &mut TaskEnv, start: &[f64; 6], targets: &[[f64; 6]]) -> Tracking {
    let dt = env.control_dt();
    env.sim_mut().set_joint_positions(start);
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
        // 1 s at 30 fps (31 frames) at 50 Hz: 50 control steps, the last one ending at 1 s.
        let frames: Vec<[f64; 6]> = (0..31).map(|i| [i as f64; 6]).collect();
        let r = resample(&frames, 30.0, 0.02);
        assert_eq!(r.len(), 50);
        assert!(
            (r[0][0] - 0.6).abs() < 1e-12,
            "step 0 ends at 0.02 s = frame 0.6"
        );
        assert_eq!(r[49][2], 30.0);
        // The control rate itself: one target per frame after the first.
        let same: Vec<[f64; 6]> = (0..80).map(|i| [i as f64; 6]).collect();
        let r = resample(&same, 50.0, 0.02);
        assert_eq!(r.len(), 79);
        assert!((r[78][0] - 79.0).abs() < 1e-9);
        assert_eq!(resample(&frames[..1], 30.0, 0.02).len(), 1);
        assert!(resample(&[], 30.0, 0.02).is_empty());
        assert!(resample(&frames, 0.0, 0.02).is_empty());
    }

    #[test]
    fn error_statistics_per_joint() {
        let e = [
            [0.5, -1.0, 0.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0, 0.0, 2.0],
        ];
        let r = rms(&e);
        assert!((r[0] - 0.125f64.sqrt()).abs() < 1e-12);
        assert_eq!(r[1], 1.0);
        assert_eq!(max_abs(&e), [0.5, 1.0, 0.0, 0.0, 0.0, 2.0]);
        assert_eq!(rms(&[]), [0.0; 6]);
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
