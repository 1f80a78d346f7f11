//! Moving the arm by hand in the headless app: teleop toward a goal, jogging by joint, the joint
//! panel following the arm, and teleop keys never firing viewer shortcuts.
#![cfg(feature = "app")]

use crate::app_common;

use app_common::{app, fixed_step, joints, push, tcp};
use bevy::ecs::system::RunSystemOnce;
use bevy::prelude::*;
use so101_lab::app::shortcuts;
use so101_lab::app::state::{SimCommand, SimCommandQueue};
use so101_lab::config::default_configs_dir;

#[test]
fn jogging_moves_the_target_and_the_arm_follows() {
    // The assisted task cancels servo sag (gravity feed-forward); the reference task sags 5-25 mm.
    let task = default_configs_dir().join("task_assisted.toml");
    let mut app = app(&["--task", task.to_str().expect("utf-8 path")]);
    let start = tcp(&app);
    let goal = [start[0] + 0.03, start[1] - 0.02, start[2] + 0.03];
    push(
        &mut app,
        SimCommand::Teleop {
            target: goal,
            gripper: 1.0,
        },
    );
    push(&mut app, SimCommand::SetPaused(false));
    for _ in 0..120 {
        fixed_step(&mut app);
    }
    let now = tcp(&app);
    let err = (0..3)
        .map(|i| (now[i] - goal[i]).powi(2))
        .sum::<f64>()
        .sqrt();
    println!(
        "teleop: TCP {:.2} mm from the goal after 120 steps",
        err * 1e3
    );
    assert!(err < 0.005, "TCP {:.1} mm from the teleop goal", err * 1e3);
    // Jog by joint: the servos take the arm to the sliders' targets.
    let mut targets = joints(&app);
    targets[0] += 0.3;
    targets[2] -= 0.2;
    push(&mut app, SimCommand::JogJoints(targets));
    for _ in 0..100 {
        fixed_step(&mut app);
    }
    let q = joints(&app);
    for i in [0, 2] {
        assert!(
            (q[i] - targets[i]).abs() < 0.03,
            "joint {i}: {:.3} rad, target {:.3}",
            q[i],
            targets[i]
        );
    }
}

#[test]
fn teleop_keys_never_fire_viewer_shortcuts() {
    use so101_lab::app::state::TeleopState;
    use so101_lab::app::teleop::teleop_input;
    let mut app = app(&[]);
    app.world_mut().resource_mut::<TeleopState>().active = true;
    {
        let mut keys = app.world_mut().resource_mut::<ButtonInput<KeyCode>>();
        keys.press(KeyCode::Space);
        keys.press(KeyCode::KeyW);
        keys.press(KeyCode::BracketRight);
    }
    let open_before = app.world().resource::<TeleopState>().gripper_open;
    app.world_mut()
        .run_system_once(teleop_input)
        .expect("teleop");
    app.world_mut()
        .run_system_once(shortcuts::viewer_shortcuts)
        .expect("shortcuts");
    let queued = app.world().resource::<SimCommandQueue>().0.clone();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert!(
        matches!(queued[0], SimCommand::Teleop { gripper, .. } if gripper < 0.0),
        "Space should close the gripper, got {queued:?}"
    );
    assert_ne!(
        app.world().resource::<TeleopState>().gripper_open,
        open_before
    );
    let camera = app
        .world()
        .resource::<so101_lab::app::state::CameraSettings>()
        .mode
        .clone();
    assert_eq!(
        camera,
        so101_lab::app::state::ViewMode::Free,
        "] switched the camera"
    );
}

#[test]
fn the_joint_panel_shows_the_arms_joints_until_a_person_jogs_by_joint() {
    use so101_lab::app::state::TeleopState;
    use so101_lab::app::teleop::joint_panel_follows_arm;
    let mut app = app(&[]);
    fixed_step(&mut app);
    app.world_mut()
        .run_system_once(joint_panel_follows_arm)
        .expect("sync");
    let q = joints(&app);
    let shown = app.world().resource::<TeleopState>().joints;
    assert_eq!(shown, q, "the sliders do not show the arm");
    // wrist_roll is held at pi/2 by the task: not the 0.00 of an unsynced panel.
    assert!(
        (shown[4] - std::f64::consts::FRAC_PI_2).abs() < 0.05,
        "{shown:?}"
    );
    // Jogging by joint: the panel keeps the person's targets while the arm moves toward them.
    let mut targets = q;
    targets[0] += 0.3;
    app.world_mut().resource_mut::<TeleopState>().joints = targets;
    push(&mut app, SimCommand::JogJoints(targets));
    push(&mut app, SimCommand::SetPaused(false));
    for _ in 0..5 {
        fixed_step(&mut app);
        app.world_mut()
            .run_system_once(joint_panel_follows_arm)
            .expect("sync");
        assert_eq!(app.world().resource::<TeleopState>().joints, targets);
    }
}
