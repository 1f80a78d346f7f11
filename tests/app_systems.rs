//! The app's systems driven headless (no window): pause and single step, scene reload keeping the
//! state, a bad scene keeping the last good one, and viewer shortcuts gated by key capture.
#![cfg(feature = "app")]

mod app_common;

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use so101_lab::app::shortcuts;
use so101_lab::app::state::{
    AppMessages, LatestSnapshot, LoadedScene, SimClock, SimCommand, SimCommandQueue, SimResource,
};
use so101_lab::config::{SceneConfig, default_configs_dir};

use app_common::{app, app_from, fixed_step, push};

fn time(app: &App) -> f64 {
    app.world().resource::<LatestSnapshot>().0.time
}

#[test]
fn paused_sim_moves_only_on_single_steps() {
    let mut app = app(&[]);
    let t0 = time(&app);
    fixed_step(&mut app);
    fixed_step(&mut app);
    assert_eq!(time(&app), t0, "paused physics advanced");
    push(&mut app, SimCommand::StepOnce);
    fixed_step(&mut app);
    let period = 10.0 * 0.002;
    assert!(
        (time(&app) - t0 - period).abs() < 1e-9,
        "one step advanced {} s, not one control period",
        time(&app) - t0
    );
    push(&mut app, SimCommand::SetPaused(false));
    fixed_step(&mut app);
    fixed_step(&mut app);
    assert!((time(&app) - t0 - 3.0 * period).abs() < 1e-9);
    assert_eq!(app.world().resource::<SimClock>().steps, 3);
}

#[test]
fn bad_scene_keeps_the_last_good_one() {
    let mut app = app(&[]);
    let generation = app.world().resource::<LoadedScene>().generation;
    let dir = std::env::temp_dir().join(format!("so101-app-sys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[cube]\nhalf_size_m = \"big\"\n").expect("write");
    push(&mut app, SimCommand::LoadScene(bad.clone()));
    push(&mut app, SimCommand::LoadScene(dir.join("missing.toml")));
    fixed_step(&mut app);
    let messages = &app.world().resource::<AppMessages>().items;
    let errors: Vec<&String> = messages
        .iter()
        .filter(|(_, e)| *e)
        .map(|(m, _)| m)
        .collect();
    assert_eq!(errors.len(), 2, "{messages:?}");
    assert!(errors[0].contains("bad.toml"), "{}", errors[0]);
    assert!(errors[1].contains("missing.toml"), "{}", errors[1]);
    assert_eq!(app.world().resource::<LoadedScene>().generation, generation);
}

#[test]
fn scene_edit_rebuilds_and_keeps_the_state() {
    let mut app = app(&[]);
    push(&mut app, SimCommand::SetPaused(false));
    for _ in 0..5 {
        fixed_step(&mut app);
    }
    let before = app.world().resource::<LatestSnapshot>().0.clone();
    let mut cfg = SceneConfig::load(&default_configs_dir().join("scene.toml")).expect("scene");
    cfg.cube.friction[0] *= 0.5;
    push(&mut app, SimCommand::SetPaused(true));
    push(
        &mut app,
        SimCommand::ApplySceneConfig(Box::new(cfg.clone())),
    );
    fixed_step(&mut app);
    let loaded = app.world().resource::<LoadedScene>();
    assert_eq!(loaded.generation, 1);
    assert_eq!(loaded.config.cube.friction[0], cfg.cube.friction[0]);
    let after = &app.world().resource::<LatestSnapshot>().0;
    assert_eq!(after.qpos, before.qpos, "the arm and cube moved on rebuild");
    assert_eq!(after.time, before.time);
    let sim = app.world().resource::<SimResource>();
    let model_friction = sim.session.env().sim().model().geom_friction()
        [sim.session.env().sim().handles().cube_geom][0];
    assert_eq!(
        model_friction, cfg.cube.friction[0],
        "the new model is in use"
    );
}

#[test]
fn viewer_keys_act_unless_captured() {
    let mut app = app(&[]);
    app.world_mut()
        .resource_mut::<ButtonInput<KeyCode>>()
        .press(KeyCode::Space);
    app.world_mut()
        .run_system_once(shortcuts::viewer_shortcuts)
        .expect("shortcuts");
    let queued = app.world().resource::<SimCommandQueue>().0.clone();
    assert_eq!(queued, vec![SimCommand::TogglePause]);
    app.world_mut().resource_mut::<SimCommandQueue>().0.clear();
    app.world_mut()
        .insert_resource(so101_lab::app::state::KeyCapture(true));
    app.world_mut()
        .run_system_once(shortcuts::viewer_shortcuts)
        .expect("shortcuts");
    assert!(
        app.world().resource::<SimCommandQueue>().0.is_empty(),
        "a viewer shortcut fired while keys were captured"
    );
}

/// Records `steps` live steps of the scripted pick (assisted task) into a fresh folder.
fn record_episode(steps: usize) -> std::path::PathBuf {
    use so101_lab::scripted::CartesianPickPolicy;
    use so101_lab::session::{Driver, LiveSession};
    use so101_lab::task::{LiftEnv, RewardConfig, TaskConfig};
    let cfg = default_configs_dir();
    let scene =
        so101_lab::scene::build(&SceneConfig::load(&cfg.join("scene.toml")).expect("scene"))
            .expect("builds");
    let task = TaskConfig::load(&cfg.join("task_assisted.toml")).expect("task");
    let reward = RewardConfig::load(&cfg.join("rewards/v11.toml")).expect("reward");
    let mut session = LiveSession::new(LiftEnv::new(scene, task, reward), 11);
    session.driver = Driver::Scripted(CartesianPickPolicy::new());
    let dir = std::env::temp_dir().join(format!("so101-app-replay-{}-{steps}", std::process::id()));
    session
        .start_recording(&dir, "scripted")
        .expect("recording starts");
    for _ in 0..steps {
        session.step();
    }
    session.stop_recording().expect("recording stops");
    session
        .recorded
        .last()
        .cloned()
        .expect("a file was written")
}

fn timeline(app: &mut App, cmd: so101_lab::app::state::TimelineCommand) {
    use so101_lab::app::replay::apply_timeline_commands;
    use so101_lab::app::state::TimelineQueue;
    app.world_mut().resource_mut::<TimelineQueue>().0.push(cmd);
    let w = app.world_mut();
    w.run_system_once(apply_timeline_commands)
        .expect("timeline");
    app.update();
}

#[test]
fn scrubbing_to_step_k_shows_exactly_state_k() {
    use so101_lab::app::state::TimelineCommand;
    let path = record_episode(120);
    let episode = so101_lab::episode::Episode::read(&path).expect("episode reads");
    let mut app = app(&[]);
    timeline(&mut app, TimelineCommand::Open(path.clone()));
    for k in [0usize, 1, 37, 88, 120] {
        timeline(&mut app, TimelineCommand::Seek(k));
        let snap = &app.world().resource::<LatestSnapshot>().0;
        let (qpos, qvel) = match k {
            0 => {
                let st = &episode.header.initial_state.values;
                let nq = snap.qpos.len();
                (
                    st[1..1 + nq].to_vec(),
                    st[1 + nq..1 + nq + snap.qvel.len()].to_vec(),
                )
            }
            _ => (
                episode.steps[k - 1].qpos.clone(),
                episode.steps[k - 1].qvel.clone(),
            ),
        };
        assert_eq!(snap.qpos, qpos, "qpos at step {k}");
        assert_eq!(snap.qvel, qvel, "qvel at step {k}");
        if k > 0 {
            assert_eq!(snap.time, episode.steps[k - 1].time, "time at step {k}");
        }
    }
    // The live simulation did not move while the replay owned the view.
    assert_eq!(app.world().resource::<SimClock>().steps, 0);
}

#[test]
fn a_branch_reopened_reproduces_its_recorded_states() {
    use so101_lab::app::state::DriverKind;
    use so101_lab::app::state::TimelineCommand;
    let path = record_episode(100);
    let original = so101_lab::episode::Episode::read(&path).expect("episode reads");
    let dir = path.parent().expect("folder").join("branches");
    let dir_arg = dir.to_string_lossy().into_owned();
    let mut app = app(&["--record-dir", &dir_arg]);
    timeline(&mut app, TimelineCommand::Open(path.clone()));
    let k = 60;
    timeline(&mut app, TimelineCommand::Seek(k));
    timeline(&mut app, TimelineCommand::TakeOver(DriverKind::Scripted));
    {
        let hist = app.world().resource::<so101_lab::app::state::PlotHistory>();
        assert_eq!(
            hist.comparison.len(),
            original.steps.len(),
            "original kept for comparison"
        );
        assert!(
            hist.samples.iter().all(|s| s.step <= k),
            "the branch keeps only steps <= {k}"
        );
    }
    for _ in 0..40 {
        fixed_step(&mut app);
    }
    push(&mut app, SimCommand::SetRecording(false));
    fixed_step(&mut app);
    let sim = app.world().resource::<SimResource>();
    let branch = sim
        .session
        .recorded
        .last()
        .cloned()
        .expect("branch recorded");
    assert!(
        branch.starts_with(&dir),
        "{} not in --record-dir",
        branch.display()
    );
    let episode = so101_lab::episode::Episode::read(&branch).expect("branch reads");
    assert_eq!(
        episode.header.initial_state,
        original.steps[k - 1].state,
        "the branch starts from the original's state {k}"
    );
    assert!(episode.steps.len() >= 40, "{} steps", episode.steps.len());
    let report = so101_lab::episode::resimulate(&episode, &branch).expect("resimulates");
    assert_eq!(
        report.first_divergence, None,
        "the branch does not reproduce"
    );
}

#[test]
fn policy_loads_from_a_file_samples_on_request_and_a_bad_file_is_an_error() {
    let mut app = app(&[]);
    let dir = std::env::temp_dir().join(format!("so101-app-pol-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("broken.safetensors");
    std::fs::write(&bad, b"\x00\x01 not tensors").expect("write");
    push(&mut app, SimCommand::LoadPolicy(bad));
    fixed_step(&mut app);
    let errors = app.world().resource::<AppMessages>().items.clone();
    assert!(
        errors
            .iter()
            .any(|(m, e)| *e && m.contains("broken.safetensors")),
        "{errors:?}"
    );
    assert_eq!(
        app.world().resource::<SimResource>().session.driver.name(),
        "hold"
    );
    // The bundled policy loads (the default task has its observation layout).
    let bundled = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/policies/lift_sac.safetensors");
    push(&mut app, SimCommand::LoadPolicy(bundled));
    push(&mut app, SimCommand::StepOnce);
    fixed_step(&mut app);
    let sim = app.world().resource::<SimResource>();
    assert_eq!(sim.session.driver.name(), "policy");
    let last = sim.session.last().expect("a policy step");
    let out = last.outputs.as_ref().expect("policy outputs");
    let mean: Vec<f64> = out.mean.iter().map(|m| m.tanh()).collect();
    let gap = |a: &[f64; 4], m: &[f64]| {
        a.iter()
            .zip(m)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    assert!(
        gap(&last.action, &mean) < 1e-6,
        "deterministic != tanh(mean)"
    );
    push(&mut app, SimCommand::SetSampled(true));
    push(&mut app, SimCommand::StepOnce);
    fixed_step(&mut app);
    let sim = app.world().resource::<SimResource>();
    let last = sim.session.last().expect("a policy step");
    let out = last.outputs.as_ref().expect("policy outputs");
    let mean: Vec<f64> = out.mean.iter().map(|m| m.tanh()).collect();
    assert!(
        gap(&last.action, &mean) > 1e-3,
        "sampled actions equal the mean"
    );
}

#[test]
fn policy_view_shows_the_input_live_and_at_the_replay_cursor() {
    use so101_lab::app::policy_view::PolicyView;
    use so101_lab::app::state::{ReplayTimeline, TimelineCommand};
    let refresh = |app: &App, view: &mut PolicyView| {
        let w = app.world();
        view.refresh(
            w.resource::<SimResource>(),
            w.resource::<ReplayTimeline>(),
            w.resource::<LoadedScene>().generation,
        );
    };
    let mut app = app(&[]);
    let mut view = PolicyView::default();
    refresh(&app, &mut view);
    // The default task has no image input: the view shows what a wrist-camera policy would see
    // (84x84 RGB, 3 frames) and the 21 state values with the cube pose marked privileged.
    assert!(view.summary.contains("would see"), "{}", view.summary);
    assert_eq!(view.tiles.len(), 3);
    assert!(view.tiles.iter().all(|t| (t.width, t.height) == (84, 84)));
    let lit = view.tiles[2].rgb.iter().filter(|&&v| v > 20).count();
    assert!(lit > 84 * 84, "the picture is dark: {lit} bright values");
    assert_eq!(view.state.len(), 21);
    let privileged: Vec<&str> = view
        .state
        .iter()
        .filter(|e| e.privileged)
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(privileged, ["cube_pos/x", "cube_pos/y", "cube_pos/z"]);
    // With a replay open it follows the cursor: the recorded observation at that state.
    let path = record_episode(40);
    let episode = so101_lab::episode::Episode::read(&path).expect("episode reads");
    timeline(&mut app, TimelineCommand::Open(path));
    for k in [0usize, 17, 40] {
        timeline(&mut app, TimelineCommand::Seek(k));
        refresh(&app, &mut view);
        let recorded = match k {
            0 => &episode.header.initial_obs,
            _ => &episode.steps[k - 1].obs,
        };
        let shown: Vec<f64> = view.state.iter().map(|e| e.raw).collect();
        assert_eq!(&shown, recorded, "state at cursor {k}");
        assert_eq!(view.tiles.len(), 3);
    }
    // Different cursors show different pictures.
    timeline(&mut app, TimelineCommand::Seek(0));
    refresh(&app, &mut view);
    let first = view.tiles[2].rgb.clone();
    timeline(&mut app, TimelineCommand::Seek(40));
    refresh(&app, &mut view);
    assert_ne!(view.tiles[2].rgb, first);
}

#[test]
fn the_pixel_policy_drives_live_shows_its_saliency_and_takes_over_a_replay() {
    use so101_lab::app::policy_view::PolicyView;
    use so101_lab::app::state::DriverKind;
    use so101_lab::app::state::{ReplayTimeline, TimelineCommand};
    let policy = default_configs_dir()
        .parent()
        .expect("repo")
        .join("assets/policies/lift_pixel.safetensors");
    let dir = std::env::temp_dir().join(format!("so101-app-pixel-{}", std::process::id()));
    let dir_arg = dir.to_string_lossy().into_owned();
    let args = [
        "view",
        "--driver",
        "policy",
        "--policy",
        policy.to_str().expect("utf-8"),
        "--paused",
        "--record-dir",
        &dir_arg,
    ];
    let mut app = app_from(&args);
    assert_eq!(
        app.world().resource::<SimResource>().session.driver.name(),
        "policy"
    );
    // Live: the policy acts on the images its own task renders.
    push(&mut app, SimCommand::SetRecording(true));
    for _ in 0..30 {
        push(&mut app, SimCommand::StepOnce);
        fixed_step(&mut app);
    }
    {
        let sim = app.world().resource::<SimResource>();
        assert_eq!(sim.session.last_error(), None);
        assert!(
            sim.session.env().pixels().is_some(),
            "its task renders images"
        );
        assert_eq!(sim.session.env().steps(), 30);
    }
    // The policy view adds where it looks.
    let mut view = PolicyView::default();
    {
        let w = app.world();
        view.refresh(
            w.resource::<SimResource>(),
            w.resource::<ReplayTimeline>(),
            w.resource::<LoadedScene>().generation,
        );
    }
    assert!(
        view.tiles.iter().any(|t| t.label.contains("saliency")),
        "{:?}",
        view.tiles.iter().map(|t| &t.label).collect::<Vec<_>>()
    );
    push(&mut app, SimCommand::SetRecording(false));
    fixed_step(&mut app);
    let recorded = app
        .world()
        .resource::<SimResource>()
        .session
        .recorded
        .last()
        .cloned()
        .expect("recorded");
    // Replay: take over at step 20 with the same policy; it keeps acting on re-rendered images.
    timeline(&mut app, TimelineCommand::Open(recorded));
    timeline(&mut app, TimelineCommand::Seek(20));
    timeline(&mut app, TimelineCommand::TakeOver(DriverKind::Policy));
    // Taking over runs on; pause to count steps one by one.
    push(&mut app, SimCommand::SetPaused(true));
    fixed_step(&mut app);
    let taken = app.world().resource::<SimResource>().session.env().steps();
    assert!(taken >= 20, "{taken}");
    for _ in 0..10 {
        push(&mut app, SimCommand::StepOnce);
        fixed_step(&mut app);
    }
    let sim = app.world().resource::<SimResource>();
    assert_eq!(sim.session.driver.name(), "policy");
    assert_eq!(sim.session.last_error(), None);
    assert_eq!(
        sim.session.env().steps(),
        taken + 10,
        "the policy steps on its own"
    );
}

#[test]
fn the_timeline_jumps_to_the_next_grasp_fault() {
    use so101_lab::app::state::ReplayTimeline;
    use so101_lab::sim::GraspVerdict;
    let mut timeline = ReplayTimeline::default();
    timeline.faults = vec![(12, GraspVerdict::Sliding), (40, GraspVerdict::Clipping)];
    assert_eq!(timeline.next_fault(0), Some((12, GraspVerdict::Sliding)));
    assert_eq!(timeline.next_fault(12), Some((40, GraspVerdict::Clipping)));
    assert_eq!(timeline.next_fault(40), None);
}

/// Runs `app` until `done` holds (at most `secs` seconds of wall time).
fn update_until(app: &mut App, secs: u64, mut done: impl FnMut(&App) -> bool) {
    let start = std::time::Instant::now();
    while !done(app) {
        assert!(start.elapsed().as_secs() < secs, "timed out");
        app.update();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn triage_opens_a_folder_and_a_row_opens_its_episode_at_the_moment_of_failure() {
    use so101_lab::app::state::{ReplayTimeline, TimelineCommand, TimelineQueue};
    use so101_lab::app::triage::{TriageTable, open_row_commands};
    let dir = std::env::temp_dir().join(format!("so101-app-triage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // The bundled policy on a 22-step lift task: every episode fails, in several ways.
    let text = std::fs::read_to_string(default_configs_dir().join("task.toml")).unwrap();
    let task = dir.join("task_22.toml");
    std::fs::write(
        &task,
        text.replace("max_episode_steps = 300", "max_episode_steps = 22"),
    )
    .unwrap();
    let episodes = dir.join("episodes");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_so101-lab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["eval", "--episodes", "8", "--task"])
        .arg(&task)
        .arg("--record")
        .arg(&episodes)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ep, rec) = (episodes.display().to_string(), dir.display().to_string());
    let mut app = app(&["--triage", &ep, "--record-dir", &rec]);
    update_until(&mut app, 120, |a| {
        a.world().resource::<TriageTable>().triage.is_some()
    });
    let table = app.world().resource::<TriageTable>();
    let rows = table.visible_rows();
    assert_eq!(rows.len(), 8);
    assert_eq!(table.triage.as_ref().unwrap().counts()["success"], 0);
    // Filtered to one outcome, the table shows only that outcome.
    let kind = rows[0].outcome().to_owned();
    let mut table = app.world_mut().resource_mut::<TriageTable>();
    table.outcome = Some(kind.clone());
    let filtered = table.visible_rows();
    assert!(!filtered.is_empty() && filtered.iter().all(|r| r.outcome() == kind));
    // Clicking a row: its episode, paused at the moment of failure.
    let row = filtered[0].clone();
    let at = row.summary.failure_step.expect("a failure has a moment");
    app.world_mut()
        .resource_mut::<TimelineQueue>()
        .0
        .extend(open_row_commands(&row));
    app.update();
    let timeline = app.world().resource::<ReplayTimeline>();
    let replay = timeline.replay.as_ref().expect("the row's episode is open");
    assert_eq!(replay.path, row.file);
    assert_eq!(replay.cursor(), at);
    assert!(!timeline.playing);
    // Export video of the open replay: written beside the recordings, reported when done.
    app.world_mut()
        .resource_mut::<TimelineQueue>()
        .0
        .push(TimelineCommand::ExportVideo);
    app.update();
    assert!(app.world().resource::<ReplayTimeline>().export.is_some());
    update_until(&mut app, 300, |a| {
        a.world().resource::<ReplayTimeline>().export.is_none()
    });
    let stem = row.file.file_stem().unwrap().to_string_lossy().into_owned();
    let video = dir.join(format!("{stem}.mp4"));
    assert!(video.is_file(), "{} written", video.display());
    let messages = &app.world().resource::<AppMessages>().items;
    assert!(
        messages
            .iter()
            .any(|(m, err)| !err && m.contains("22 frames")),
        "{messages:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_default_view_and_every_camera_keep_the_cube_in_view_for_300_steps_of_the_bundled_policy() {
    use so101_lab::app::cameras::subject_points;
    use so101_lab::app::state::{AutoFrame, CameraSettings, ViewMode};
    use so101_lab::render::CameraModel;
    // `view` with no arguments: the bundled policy drives, the free camera auto-frames.
    let mut app = app_from(&["view"]);
    let settings = app.world().resource::<CameraSettings>().clone();
    assert_eq!(settings.mode, ViewMode::Free);
    assert_eq!(settings.auto_frame, AutoFrame::Pending);
    let cube_body = app.world().resource::<LoadedScene>().handles.cube_body;
    let points = {
        let w = app.world();
        let task = w.resource::<SimResource>().session.env().task().clone();
        subject_points(&w.resource::<LatestSnapshot>().0, cube_body, &task)
    };
    // The 3D view's shape with the default panels at 1280x720, a full 16:9 window, a square.
    let views: Vec<CameraModel> = [(650u32, 545u32), (1280, 720), (800, 800)]
        .into_iter()
        .map(|(w, h)| {
            let o = settings
                .orbit
                .framing(&points, settings.free_fovy_deg, w as f32 / h as f32);
            let v = |p: [f32; 3]| nalgebra::Vector3::new(p[0] as f64, p[1] as f64, p[2] as f64);
            CameraModel::look_at(
                v(o.eye()),
                v(o.focus),
                f64::from(settings.free_fovy_deg),
                w,
                h,
            )
        })
        .collect();
    let gripperframe = app
        .world()
        .resource::<LoadedScene>()
        .handles
        .gripperframe_site;
    // Every MJCF camera, at the main view's narrowest shape, during the lift.
    let renderer = {
        let sim = &app.world().resource::<SimResource>().session;
        so101_lab::render::Renderer::new(
            sim.env().sim().model(),
            so101_lab::render::RenderOptions::for_size(650, 545),
        )
        .expect("renderer")
    };
    let mjcf: Vec<(&str, usize)> = ["front", "side", "top", "wrist"]
        .iter()
        .map(|n| (*n, renderer.camera_id(n).expect("camera")))
        .collect();
    let mut lifted_steps = 0;
    let mut peak = 0.0f64;
    for step in 1..=300 {
        fixed_step(&mut app);
        let snap = &app.world().resource::<LatestSnapshot>().0;
        let cube = snap.body_pos[cube_body];
        let tcp = snap.site(gripperframe).expect("tcp");
        peak = peak.max(cube[2]);
        if cube[2] > 0.03 {
            lifted_steps += 1;
            let sim = app.world().resource::<SimResource>().session.env().sim();
            for (name, id) in &mjcf {
                let cam = renderer.camera_model(sim, *id, &Default::default());
                let (u, v, _) = cam
                    .project(&nalgebra::Vector3::from(cube))
                    .unwrap_or_else(|| panic!("cube behind camera {name} at step {step}"));
                assert!(
                    (0.0..650.0).contains(&u) && (0.0..545.0).contains(&v),
                    "lifted cube at ({u:.0}, {v:.0}) outside camera {name} at step {step}"
                );
            }
        }
        for cam in &views {
            for (what, p) in [("cube", cube), ("tcp", tcp)] {
                let (u, v, _) = cam
                    .project(&nalgebra::Vector3::from(p))
                    .unwrap_or_else(|| panic!("{what} behind the camera at step {step}"));
                let (w, h) = (f64::from(cam.width), f64::from(cam.height));
                assert!(
                    (0.0..w).contains(&u) && (0.0..h).contains(&v),
                    "{what} at ({u:.0}, {v:.0}) outside {w}x{h} at step {step}"
                );
            }
        }
    }
    assert!(peak > 0.2, "the policy lifted the cube high ({peak:.3} m)");
    assert!(
        lifted_steps > 50,
        "{lifted_steps} steps with the cube lifted"
    );
}

#[test]
fn the_window_shrinks_to_fit_a_small_or_hidpi_screen_and_keeps_its_aspect() {
    use so101_lab::app::fit_window;
    assert_eq!(fit_window((1280.0, 720.0), (1600, 900), 1.0), None);
    assert_eq!(fit_window((1280.0, 720.0), (1280, 1024), 1.0), None);
    let (w, h) = fit_window((1280.0, 720.0), (1600, 900), 2.0).expect("too big at 2x");
    assert!(w * 2.0 <= 1600.0 && h * 2.0 <= 0.94 * 900.0, "{w}x{h}");
    assert!((w / h - 1280.0 / 720.0).abs() < 0.01);
    let (w, h) = fit_window((1920.0, 1080.0), (1366, 768), 1.0).expect("too big");
    assert!(w <= 1366.0 && h <= 0.94 * 768.0, "{w}x{h}");
}

#[test]
fn a_replays_grasp_history_plot_marks_the_faults_of_its_timeline() {
    use so101_lab::app::state::PlotHistory;
    use so101_lab::app::state::{ReplayTimeline, TimelineCommand};
    // The scripted pick of the assisted task, seed 11: it grasps within 160 steps.
    let path = record_episode(160);
    let mut app = app(&[]);
    timeline(&mut app, TimelineCommand::Open(path));
    let faults = app.world().resource::<ReplayTimeline>().faults.clone();
    let samples = &app.world().resource::<PlotHistory>().samples;
    assert_eq!(samples.len(), 160);
    let marked: Vec<usize> = samples
        .iter()
        .filter(|s| s.grasp.fault)
        .map(|s| s.step)
        .collect();
    let expected: Vec<usize> = faults.iter().map(|(k, _)| *k).collect();
    assert!(
        !expected.is_empty(),
        "the scripted hold clips (the inspector's finding)"
    );
    assert_eq!(marked, expected, "history and timeline agree on faults");
    let touching = samples
        .iter()
        .filter(|s| s.grasp.force_n.iter().any(|&f| f > 1.0));
    assert!(touching.count() > 10, "the hold shows jaw forces");
}

#[test]
fn a_calibrated_site_applied_in_the_app_moves_the_tcp_and_keeps_the_state() {
    use so101_lab::app::calibration::with_point;
    use so101_lab::config::calibration::CalibrationPoint;
    let mut app = app(&[]);
    fixed_step(&mut app);
    let before = app.world().resource::<LatestSnapshot>().0.qpos.clone();
    let config = app.world().resource::<LoadedScene>().config.clone();
    let put = [0.0079, -0.0002, -0.0940];
    let edited = with_point(&config, CalibrationPoint::Gripperframe, put);
    push(&mut app, SimCommand::ApplySceneConfig(Box::new(edited)));
    fixed_step(&mut app);
    let loaded = app.world().resource::<LoadedScene>();
    assert_eq!(loaded.config.sites.gripperframe_pos, put);
    let sim = &app.world().resource::<SimResource>().session;
    let s = sim.env().sim();
    let g = s.body_pose(loaded.handles.gripper_body);
    let tcp = s.site_pose(loaded.handles.gripperframe_site).pos;
    let local = g.rot.transpose() * (tcp - g.pos);
    assert!(
        (local - nalgebra::Vector3::from(put)).norm() < 1e-12,
        "{local:?}"
    );
    // The rebuild kept the arm where it was (paused: no step in between).
    assert_eq!(app.world().resource::<LatestSnapshot>().0.qpos, before);
}
