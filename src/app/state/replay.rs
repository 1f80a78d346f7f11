//! The timeline's shared state (the open replay, its queue of commands, the recordings folder, a
//! video being written) and the per-step history the plots draw.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bevy::prelude::*;

use super::DriverKind;
use crate::episode::{Markers, Replay};

/// Folder live recordings and branches are written to (`--record-dir`, default `recordings`).
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct RecordingsDir(pub PathBuf);

impl Default for RecordingsDir {
    fn default() -> Self {
        Self(PathBuf::from("recordings"))
    }
}

/// Requests to the timeline.
#[derive(Debug, Clone, PartialEq)]
pub enum TimelineCommand {
    /// Open an episode file.
    Open(PathBuf),
    /// Back to the live session.
    Close,
    /// Play or pause.
    Play(bool),
    /// Jump to state k.
    Seek(usize),
    /// Move the cursor by a number of steps.
    StepBy(isize),
    /// Playback speed (1 = the recording's real time).
    SetSpeed(f64),
    /// Continue live from the cursor with this driver; the branch is recorded.
    TakeOver(DriverKind),
    /// Write the open episode's debug video (framing camera, overlays, plots) into the
    /// recordings folder, on a worker thread.
    ExportVideo,
}

/// A video being written: where, and the worker's result once done.
pub type VideoJob = (
    PathBuf,
    Arc<Mutex<Option<Result<crate::video::VideoReport, String>>>>,
);

/// Commands queued for the timeline.
#[derive(Resource, Debug, Default)]
pub struct TimelineQueue(pub Vec<TimelineCommand>);

/// The open replay and its playback state.
#[derive(Resource, Default)]
pub struct ReplayTimeline {
    /// The replay, when one is open.
    pub replay: Option<Replay>,
    /// Playing (else paused at the cursor).
    pub playing: bool,
    /// Playback speed.
    pub speed: f64,
    /// Grasp / lift / drop steps.
    pub markers: Markers,
    /// Steps whose grasp is sliding or clipping (the grasp inspector), in order.
    pub faults: Vec<(usize, crate::sim::GraspVerdict)>,
    /// The video export in progress.
    pub export: Option<VideoJob>,
    pub(crate) accumulated_steps: f64,
    pub(crate) shown: Option<usize>,
}

/// Samples kept (a full 300-step episode fits ten times over).
pub const HISTORY_LEN: usize = 3000;

/// One env step as the plots see it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSample {
    /// Step index within the episode.
    pub step: usize,
    /// Every reward term, [`RewardTerms::NAMES`] order.
    pub terms: [f64; 14],
    /// Reward of the step.
    pub total: f64,
    /// Return up to and including the step.
    pub cumulative: f64,
    /// Cube height, metres.
    pub cube_z: f64,
    /// Grasp predicate, static pad contact, moving pad contact.
    pub flags: [bool; 3],
    /// Action applied.
    pub action: [f64; 4],
    /// Policy mean and std (empty for non-policy drivers).
    pub mean: Vec<f64>,
    /// Policy std.
    pub std: Vec<f64>,
    /// Q1, Q2 of the action (learners loaded from a checkpoint only).
    pub q: Vec<f64>,
    /// Entropy coefficient (learners loaded from a checkpoint only).
    pub alpha: Option<f64>,
    /// The grasp inspector on the state after the step.
    pub grasp: GraspSample,
}

/// The grasp inspector's numbers of one step, for the history plot.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GraspSample {
    /// Normal force of the static and the moving jaw on the cube, newtons.
    pub force_n: [f64; 2],
    /// Highest friction-cone use of a hand contact (1 = sliding).
    pub cone_use: f64,
    /// Deepest hand penetration into the cube, millimetres.
    pub depth_mm: f64,
    /// The verdict is sliding or clipping.
    pub fault: bool,
}

impl GraspSample {
    /// The numbers of an inspection.
    pub fn of(g: &crate::sim::GraspInspection) -> Self {
        let jaws = [&g.static_jaw, &g.moving_jaw];
        Self {
            force_n: jaws.map(|j| j.normal_force),
            cone_use: jaws
                .iter()
                .filter(|j| j.touches())
                .map(|j| j.max_cone_use)
                .fold(0.0, f64::max),
            depth_mm: 1e3 * jaws.iter().map(|j| j.max_penetration).fold(0.0, f64::max),
            fault: g.verdict.is_fault(),
        }
    }
}

impl StepSample {
    /// A sample from a step's info, reward, action and (policy) mean and std.
    pub fn of(
        info: &crate::task::StepInfo,
        reward: f64,
        cumulative: f64,
        action: [f64; 4],
        mean_std: (Vec<f64>, Vec<f64>),
        q_alpha: (Vec<f64>, Option<f64>),
    ) -> Self {
        Self {
            step: info.step,
            terms: info.reward_terms.values(),
            total: reward,
            cumulative,
            cube_z: info.cube_pos[2],
            flags: [
                info.grasping,
                info.static_pad_contact,
                info.moving_pad_contact,
            ],
            action,
            mean: mean_std.0,
            std: mean_std.1,
            q: q_alpha.0,
            alpha: q_alpha.1,
            grasp: GraspSample::default(),
        }
    }

    /// The same sample with the grasp inspector's reading of the state after the step.
    pub fn with_grasp(mut self, g: &crate::sim::GraspInspection) -> Self {
        self.grasp = GraspSample::of(g);
        self
    }
}

/// The current episode's samples and the policy's inference times.
#[derive(Resource, Debug, Default)]
pub struct PlotHistory {
    /// Samples, oldest first.
    pub samples: VecDeque<StepSample>,
    /// The episode a live branch was taken from, drawn dashed for comparison.
    pub comparison: Vec<StepSample>,
    /// Steps seen (to notice new ones).
    pub(crate) seen_steps: u64,
}

impl PlotHistory {
    /// Starts a branch at step `k` of the samples shown: they become the comparison, and the
    /// first `k` stay as the branch's own past.
    pub fn branch_at(&mut self, k: usize) {
        self.comparison = self.samples.iter().cloned().collect();
        self.samples.retain(|s| s.step <= k);
    }
}
