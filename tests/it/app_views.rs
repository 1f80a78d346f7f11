//! The app as a grasp-debugging instrument, driven headless: the first view and every camera
//! keep the cube in view, the window fits the screen, failure triage opens an episode at its
//! moment of failure and exports its video, the grasp history agrees with the timeline, and a
//! calibrated site moves the TCP.
#![cfg(feature = "app")]

use crate::app_common;

use bevy::prelude::*;
use so101_lab::app::state::{AppMessages, LatestSnapshot, LoadedScene, SimCommand, SimResource};
use so101_lab::config::default_configs_dir;

use app_common::{app, app_from, fixed_step, push, record_episode, timeline};

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

/// `view --lerobot DATASET`: the arm follows a LeRobot episode's joints (one exported from a
/// recording here), the session keeps one tracking error per step for the window's plot, and a
/// dataset that is not there is a message in the app, not a failure.
#[test]
fn a_lerobot_episode_drives_the_arm_and_its_tracking_error_is_plotted() {
    use so101_lab::app::follow_view::error_lines;
    use so101_lab::episode::lerobot::{ArmUnits, LeRobotUnits, default_python, write_dataset};
    use so101_lab::session::Driver;
    let episode = record_episode(80);
    let ds = episode.with_file_name("lerobot_ds");
    let _ = std::fs::remove_dir_all(&ds);
    let written =
        write_dataset(std::slice::from_ref(&episode), &ds, &default_python()).expect("export");
    assert_eq!(written.episodes, 1);
    let ds_arg = ds.to_string_lossy().into_owned();
    // The recording's own task: its servo drive adds gravity feed-forward.
    let task = default_configs_dir().join("task_assisted.toml");
    let task_arg = task.to_string_lossy().into_owned();
    let mut live = app_from(&[
        "view",
        "--driver",
        "hold",
        "--task",
        &task_arg,
        "--lerobot",
        &ds_arg,
    ]);
    for _ in 0..60 {
        fixed_step(&mut live);
    }
    let sim = live.world().resource::<SimResource>();
    let Driver::Follow(f) = &sim.session.driver else {
        panic!("driver: {}", sim.session.driver.name());
    };
    assert_eq!(
        f.targets.len(),
        79,
        "80 frames at the control rate: a start pose, 79 targets"
    );
    assert_eq!(f.errors.len(), 60);
    assert!(f.source.contains("episode 0"), "{}", f.source);
    let units = LeRobotUnits::of(sim.session.env().sim(), ArmUnits::Degrees);
    let lines = error_lines(f, &units);
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().all(|(_, pts)| pts.len() == 60));
    assert_eq!(lines[0].0, "shoulder_pan.pos");
    let rms = f.rms();
    for (j, r) in rms.iter().enumerate().take(5) {
        assert!(r.to_degrees() < 2.0, "joint {j}: {} deg", r.to_degrees());
    }

    let missing = app(&["--lerobot", "/nonexistent/so101-dataset"]);
    let messages = &missing.world().resource::<AppMessages>().items;
    assert!(
        messages
            .iter()
            .any(|(m, err)| *err && m.contains("LeRobot episode not loaded")),
        "{messages:?}"
    );
    let _ = std::fs::remove_dir_all(&ds);
}
