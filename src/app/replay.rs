//! `ReplayPlugin`: an episode file on a timeline. While a replay is open the live physics stands
//! still and the view, the contact table and the plots show the recorded state at the cursor
//! (restored exactly from the file). "Take over" branches: a live session continues from the
//! cursor's state, recorded as a new episode.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bevy::prelude::*;

use super::state::{
    AppMessages, DriverKind, LatestSnapshot, LoadedScene, PlotHistory, PreviousSnapshot,
    RecordingsDir, ReplayTimeline, SimClock, SimResource, StepSample, TimelineCommand,
    TimelineQueue,
};
use crate::episode::Replay;
use crate::session::{Driver, LiveSession};

impl ReplayTimeline {
    /// Whether a replay is open.
    pub fn is_active(&self) -> bool {
        self.replay.is_some()
    }

    /// The first sliding or clipping step after `cursor`, if any.
    pub fn next_fault(&self, cursor: usize) -> Option<(usize, crate::sim::GraspVerdict)> {
        self.faults.iter().copied().find(|(k, _)| *k > cursor)
    }
}

/// Episode replay on a timeline.
pub struct ReplayPlugin {
    /// Episode to open at start.
    pub episode: Option<PathBuf>,
    /// Where recordings and branches go.
    pub recordings: PathBuf,
}

impl Plugin for ReplayPlugin {
    fn build(&self, app: &mut App) {
        let mut queue = TimelineQueue::default();
        if let Some(p) = &self.episode {
            queue.0.push(TimelineCommand::Open(p.clone()));
        }
        app.insert_resource(queue)
            .insert_resource(RecordingsDir(self.recordings.clone()))
            .insert_resource(ReplayTimeline {
                speed: 1.0,
                ..default()
            })
            .add_systems(
                Update,
                (
                    apply_timeline_commands,
                    advance_playback,
                    publish_replay,
                    poll_export,
                )
                    .chain(),
            );
    }
}

/// Everything timeline commands change.
#[derive(bevy::ecs::system::SystemParam)]
pub struct TimelineTargets<'w> {
    timeline: ResMut<'w, ReplayTimeline>,
    sim: ResMut<'w, SimResource>,
    clock: ResMut<'w, SimClock>,
    loaded: ResMut<'w, LoadedScene>,
    history: ResMut<'w, PlotHistory>,
    messages: ResMut<'w, AppMessages>,
    dir: Res<'w, RecordingsDir>,
}

/// Applies queued timeline commands.
pub fn apply_timeline_commands(mut queue: ResMut<TimelineQueue>, mut t: TimelineTargets) {
    for cmd in std::mem::take(&mut queue.0) {
        let result = match cmd {
            TimelineCommand::Open(path) => open(&mut t, path),
            TimelineCommand::Close => {
                close(&mut t);
                Ok(())
            }
            TimelineCommand::Play(p) => {
                t.timeline.playing = p;
                Ok(())
            }
            TimelineCommand::Seek(k) => seek(&mut t.timeline, k),
            TimelineCommand::StepBy(d) => {
                let k = t.timeline.replay.as_ref().map_or(0, |r| r.cursor());
                t.timeline.playing = false;
                seek(&mut t.timeline, k.saturating_add_signed(d))
            }
            TimelineCommand::SetSpeed(s) => {
                t.timeline.speed = s.clamp(1.0 / 16.0, 16.0);
                Ok(())
            }
            TimelineCommand::TakeOver(kind) => take_over(&mut t, kind),
            TimelineCommand::ExportVideo => export_video(&mut t),
        };
        if let Err(e) = result {
            t.messages.error(e);
        }
    }
}

/// `<dir>/<stem>.mp4`, or `<stem>-2.mp4`, ... : a name no file has yet.
fn fresh_video_path(dir: &Path, episode: &Path) -> PathBuf {
    let stem = episode
        .file_stem()
        .map_or("episode".into(), |s| s.to_string_lossy().into_owned());
    crate::fsutil::first_free(|i| match i {
        1 => dir.join(format!("{stem}.mp4")),
        i => dir.join(format!("{stem}-{i}.mp4")),
    })
}

fn export_video(t: &mut TimelineTargets) -> Result<(), String> {
    let Some(r) = t.timeline.replay.as_ref() else {
        return Err("open an episode to export its video".into());
    };
    if t.timeline.export.is_some() {
        return Err("a video is already being written".into());
    }
    let out = fresh_video_path(&t.dir.0, &r.path);
    let episode = r.path.clone();
    let slot: Arc<Mutex<Option<Result<crate::video::VideoReport, String>>>> = Arc::default();
    let result = Arc::clone(&slot);
    let target = out.clone();
    std::thread::spawn(move || {
        let opts = crate::video::VideoOptions {
            camera: None,
            width: 960,
            height: 720,
            overlays: crate::video::Overlay::DEFAULT.to_vec(),
            plots: true,
        };
        let r = crate::video::render_episode(&episode, &target, &opts, |_, _| {})
            .map_err(|e| format!("{e:#}"));
        if let Ok(mut s) = result.lock() {
            *s = Some(r);
        }
    });
    t.messages.info(format!("writing {} ...", out.display()));
    t.timeline.export = Some((out, slot));
    Ok(())
}

fn poll_export(mut timeline: ResMut<ReplayTimeline>, mut messages: ResMut<AppMessages>) {
    let done = match &timeline.export {
        Some((_, slot)) => slot.lock().ok().and_then(|mut s| s.take()),
        None => None,
    };
    match done {
        Some(Ok(report)) => messages.info(format!(
            "wrote {} ({} frames, {}x{})",
            report.path.display(),
            report.frames,
            report.width,
            report.height
        )),
        Some(Err(e)) => messages.error(format!("video export: {e}")),
        None => return,
    }
    timeline.export = None;
}

fn seek(timeline: &mut ReplayTimeline, k: usize) -> Result<(), String> {
    match timeline.replay.as_mut() {
        Some(r) => r.seek(k).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

fn open(t: &mut TimelineTargets, path: PathBuf) -> Result<(), String> {
    let replay = Replay::open(&path).map_err(|e| format!("{e}; staying live"))?;
    for w in &replay.episode.warnings {
        t.messages.info(w.clone());
    }
    t.clock.replaying = true;
    t.timeline.markers = replay.markers();
    let inspections = replay.inspections().map_err(|e| e.to_string())?;
    t.timeline.faults = crate::episode::faults_of(&inspections);
    t.timeline.playing = false;
    t.timeline.accumulated_steps = 0.0;
    t.timeline.shown = None;
    fill_history(&mut t.history, &replay, &inspections);
    show_scene_of(
        &mut t.loaded,
        replay.env().sim().scene(),
        Some(path.clone()),
    );
    t.timeline.replay = Some(replay);
    t.messages.info(format!("replaying {}", path.display()));
    Ok(())
}

fn close(t: &mut TimelineTargets) {
    if t.timeline.replay.take().is_some() {
        t.clock.replaying = false;
        t.history.samples.clear();
        let path = t.loaded.path.clone();
        show_scene_of(&mut t.loaded, t.sim.session.env().sim().scene(), path);
    }
}

fn show_scene_of(
    loaded: &mut LoadedScene,
    scene: &crate::scene::BuiltScene,
    path: Option<PathBuf>,
) {
    if loaded.config != scene.config
        || loaded.visuals.geoms.len() != scene.model.ffi().ngeom as usize
    {
        *loaded = LoadedScene::of(scene, path, loaded.generation + 1);
    }
}

fn fill_history(
    history: &mut PlotHistory,
    replay: &Replay,
    inspections: &[crate::sim::GraspInspection],
) {
    history.samples.clear();
    let mut cumulative = 0.0;
    for (s, grasp) in replay.episode.steps.iter().zip(inspections) {
        cumulative += s.reward;
        let mean_std = s
            .policy
            .as_ref()
            .map(|p| (p.mean.clone(), p.std.clone()))
            .unwrap_or_default();
        let q_alpha = s
            .policy
            .as_ref()
            .map(|p| (p.q.clone(), p.alpha))
            .unwrap_or_default();
        history.samples.push_back(
            StepSample::of(&s.info, s.reward, cumulative, s.action, mean_std, q_alpha)
                .with_grasp(grasp),
        );
    }
}

fn take_over(t: &mut TimelineTargets, kind: DriverKind) -> Result<(), String> {
    let Some(replay) = t.timeline.replay.as_ref() else {
        return Ok(());
    };
    let k = replay.cursor();
    let mut session = LiveSession::take_over(replay, k).map_err(|e| e.to_string())?;
    let source = replay.path.display().to_string();
    let old = std::mem::replace(&mut t.sim.session.driver, Driver::Hold);
    if matches!(old, Driver::Policy { .. }) {
        t.sim.parked_policy = Some(old);
    }
    session.driver = match kind {
        DriverKind::Hold => Driver::Hold,
        DriverKind::Scripted => Driver::Scripted(crate::scripted::CartesianPlacePolicy::new()),
        DriverKind::Policy => t.sim.parked_policy.take().unwrap_or(Driver::Hold),
    };
    let label = format!("branch_{}_step{k}", session.driver.name().replace(' ', "_"));
    session
        .start_recording(&t.dir.0, &label)
        .map_err(|e| e.to_string())?;
    session.auto_reset = false;
    t.sim.session = session;
    t.history.branch_at(k);
    t.timeline.replay = None;
    t.clock.replaying = false;
    t.clock.is_paused = false;
    show_scene_of(&mut t.loaded, t.sim.session.env().sim().scene(), None);
    t.messages.info(format!(
        "took over {source} at step {k}; recording the branch into {}",
        t.dir.0.display()
    ));
    Ok(())
}

fn advance_playback(time: Res<Time>, mut timeline: ResMut<ReplayTimeline>, sim: Res<SimResource>) {
    if !timeline.playing {
        return;
    }
    let period = sim.session.env().control_dt();
    let steps = timeline.accumulated_steps + time.delta_secs_f64() * timeline.speed / period;
    let whole = steps.floor();
    timeline.accumulated_steps = steps - whole;
    let Some(r) = timeline.replay.as_mut() else {
        return;
    };
    let target = r.cursor() + whole as usize;
    let _ = r.seek(target);
    if r.cursor() + 1 >= r.len() {
        timeline.playing = false;
    }
}

fn publish_replay(
    mut timeline: ResMut<ReplayTimeline>,
    mut latest: ResMut<LatestSnapshot>,
    mut previous: ResMut<PreviousSnapshot>,
) {
    let Some(r) = timeline.replay.as_ref() else {
        timeline.shown = None;
        return;
    };
    if timeline.shown == Some(r.cursor()) {
        return;
    }
    let snap = r.snapshot();
    let cursor = r.cursor();
    previous.0 = snap.clone();
    latest.0 = snap;
    timeline.shown = Some(cursor);
}
