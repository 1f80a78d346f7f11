//! The app's systems driven headless (no window): pause and single step, scene reload keeping the
//! state, a bad scene keeping the last good one, and viewer shortcuts gated by key capture.
#![cfg(feature = "app")]

use crate::app_common;

use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use so101_lab::app::shortcuts;
use so101_lab::app::state::{
    AppMessages, LatestSnapshot, LoadedScene, SimClock, SimCommand, SimCommandQueue, SimResource,
};
use so101_lab::config::{SceneConfig, default_configs_dir};

use app_common::{app, app_from, fixed_step, push, record_episode, timeline};

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

#[test]
fn the_place_task_opens_with_its_target_drawn_and_the_scripted_pick_and_place() {
    let task = default_configs_dir().join("tasks/place.toml");
    let task = task.to_string_lossy();
    let mut app = app_from(&["view", "--task", &task, "--driver", "scripted", "--paused"]);
    push(&mut app, SimCommand::SetPaused(false));
    let mut inside = false;
    for _ in 0..200 {
        fixed_step(&mut app);
        let snap = &app.world().resource::<LatestSnapshot>().0;
        let marker = snap
            .annotations
            .place_target
            .expect("the target is annotated");
        assert_eq!(marker.radius_m, 0.02);
        inside |= marker.cube_inside;
        if inside {
            break;
        }
    }
    assert!(
        inside,
        "the scripted pick-and-place sets the cube on the target"
    );
}
