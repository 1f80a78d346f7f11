//! The built scene: pads, sites, collision set, effective contact parameters, export.

use crate::common;

use so101_lab::pick::{PickPhase, PickRun, placement_for_seed};
use so101_lab::scene::{effective_pad_cube_contact, export_xml};
use so101_lab::sim::Sim;

#[test]
fn pads_protrude_0_1_to_0_2_mm_beyond_the_jaw_meshes() {
    let scene = common::default_scene();
    let mut sim = Sim::new(scene);
    let [static_mm, moving_mm] = sim.pad_protrusions().map(|m| m * 1e3);
    println!("pad protrusion: static {static_mm:.3} mm, moving {moving_mm:.3} mm");
    for p in [static_mm, moving_mm] {
        assert!(
            (0.1..=0.2).contains(&p),
            "protrusion {p} mm outside 0.1..0.2 mm"
        );
    }
}

#[test]
fn sites_sit_where_they_should() {
    let scene = common::default_scene();
    let mut run = PickRun::start(&scene, &common::default_pick(), placement_for_seed(0, 0.0));
    while run.pick.phase() != PickPhase::Lift {
        run.advance();
    }
    let sim = &run.sim;
    let tcp = sim.tcp_pose().pos;
    let grasp = sim.site_pose(sim.handles().graspframe_site).pos;
    let pads = so101_lab::kinematics::frames::pad_poses(sim);
    let mid = (pads[0].pos + pads[1].pos) / 2.0;
    let cube = sim.cube_pose().pos;
    println!(
        "TCP-to-pad-midpoint {:.2} mm, TCP-to-cube {:.2} mm, graspframe-TCP {:.1} mm",
        (tcp - mid).norm() * 1e3,
        (tcp - cube).norm() * 1e3,
        (grasp - tcp).norm() * 1e3
    );
    // gripperframe: centred between the fingertips when closed on the cube.
    assert!((tcp - mid).norm() < 0.003);
    // graspframe: about 6 cm further back, straight above the TCP in a top-down grasp.
    let back = grasp - tcp;
    assert!((back.norm() - 0.06).abs() < 0.005);
    assert!(back.z > 0.055);
}

#[test]
fn robot_never_collides_with_itself_and_hand_uses_boxes() {
    let scene = common::default_scene();
    let m = &scene.model;
    let (contype, conaffinity) = (m.geom_contype(), m.geom_conaffinity());
    let body_of = m.geom_bodyid();
    let robot_bodies: Vec<usize> = so101_lab::scene::names::ALL_ROBOT_BODIES
        .iter()
        .map(|n| {
            m.name_to_id(mujoco_rs::prelude::MjtObjBase::mjOBJ_BODY, n)
                .expect("body")
        })
        .collect();
    let robot: Vec<usize> = (0..m.ffi().ngeom as usize)
        .filter(|&g| robot_bodies.contains(&(body_of[g] as usize)) && contype[g] != 0)
        .collect();
    assert!(robot.len() >= 10, "robot collision geoms: {}", robot.len());
    for &a in &robot {
        for &b in &robot {
            assert_eq!(
                (contype[a] & conaffinity[b]) | (contype[b] & conaffinity[a]),
                0
            );
        }
    }
    // No mesh on the hand collides: boxes and pads do.
    let hand = [scene.handles.gripper_body, scene.handles.moving_jaw_body];
    for &g in &robot {
        if hand.contains(&(body_of[g] as usize)) {
            assert_ne!(
                m.geom_type()[g],
                mujoco_rs::prelude::MjtGeomBase::mjGEOM_MESH
            );
        }
    }
}

#[test]
fn effective_pad_cube_parameters_match_a_real_contact() {
    let scene = common::default_scene();
    let expected = effective_pad_cube_contact(&scene);
    println!("{}\n{}", expected[0], expected[1]);
    let mut run = PickRun::start(&scene, &common::default_pick(), placement_for_seed(1, 0.0));
    while run.pick.phase() != PickPhase::Hold {
        run.advance();
    }
    let h = scene.handles.clone();
    let data = run.sim.data();
    let mut checked = 0;
    for c in data.contact() {
        let pair = |pad| {
            (c.geom1 as usize == pad && c.geom2 as usize == h.cube_geom)
                || (c.geom2 as usize == pad && c.geom1 as usize == h.cube_geom)
        };
        for (k, pad) in [h.static_pad_geom, h.moving_pad_geom]
            .into_iter()
            .enumerate()
        {
            if pair(pad) {
                let e = &expected[k];
                assert_eq!(c.dim, e.condim);
                assert!((c.friction[0] - e.friction[0]).abs() < 1e-12);
                for i in 0..2 {
                    assert!(
                        (c.solref[i] - e.solref[i]).abs() < 1e-12,
                        "solref {:?} vs {:?}",
                        c.solref,
                        e.solref
                    );
                }
                for i in 0..5 {
                    assert!((c.solimp[i] - e.solimp[i]).abs() < 1e-12);
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 2, "pad-cube contacts seen: {checked}");
    // The known trap: the cube's own friction 0.5 never applies against the pads.
    assert_eq!(expected[0].friction[0], 1.0);
}

#[test]
fn exported_scene_loads_standalone_in_mujoco() {
    let dir = std::env::temp_dir().join(format!("so101-export-{}", std::process::id()));
    let out = dir.join("scene.xml");
    export_xml(&common::default_scene().config, &out).expect("export");
    let model = mujoco_rs::prelude::MjModel::from_xml(&out).expect("exported MJCF loads");
    let original = common::default_scene();
    assert_eq!(model.ffi().nbody, original.model.ffi().nbody);
    assert_eq!(model.ffi().ngeom, original.model.ffi().ngeom);
    assert_eq!(model.ffi().nu, original.model.ffi().nu);
    assert!(
        model
            .name_to_id(mujoco_rs::prelude::MjtObjBase::mjOBJ_SITE, "graspframe")
            .is_some()
    );
}

#[test]
fn contact_forces_of_a_resting_cube_carry_its_weight() {
    let scene = common::default_scene();
    let mut sim = Sim::new(scene.clone());
    sim.set_cube_pose([0.3, 0.1, 0.015], 0.3);
    sim.step_n(500);
    let h = &scene.handles;
    let contacts: Vec<_> = sim
        .contacts()
        .into_iter()
        .filter(|c| c.is_between(h.cube_geom, h.floor_geom))
        .collect();
    assert!(
        contacts.len() >= 4,
        "box on plane gives 4 contacts, got {}",
        contacts.len()
    );
    let total: f64 = contacts.iter().map(|c| c.normal_force).sum();
    let weight = scene.config.cube.mass_kg * 9.81;
    println!(
        "cube-floor: {} contacts, normal force {total:.4} N (weight {weight:.4} N)",
        contacts.len()
    );
    assert!((total - weight).abs() < 0.01 * weight);
    for c in &contacts {
        assert_eq!((c.name1.as_str(), c.name2.as_str()), ("floor", "cube"));
        assert!(c.normal[2] > 0.99, "floor normal points up: {:?}", c.normal);
        // World force on the cube points up and carries a quarter of the weight.
        assert!(c.force_world[2] > 0.0);
        assert!(
            c.penetration < 5e-4,
            "soft default floor contact sinks {} m",
            c.penetration
        );
        assert!(c.cone_use() < 0.01);
    }
    assert!(!sim.grasp_state().grasping);
}

#[test]
fn calibration_round_trip_set_save_rebuild_and_the_site_is_where_it_was_put() {
    use so101_lab::config::SceneConfig;
    use so101_lab::config::calibration::{CalibrationPoint, save_calibration};
    let dir = common::temp_dir("so101-calib", "roundtrip");
    let path = dir.join("scene.toml");
    let original =
        std::fs::read_to_string(so101_lab::config::default_configs_dir().join("scene.toml"))
            .unwrap();
    std::fs::write(&path, &original).unwrap();
    let mut cfg = SceneConfig::load(&path).unwrap();
    let put = [0.0081, -0.0004, -0.0912];
    CalibrationPoint::Gripperframe.set(&mut cfg, put);
    CalibrationPoint::MovingPad.set(&mut cfg, [-0.0121, -0.0729, 0.0189]);
    let bak = save_calibration(&path, &cfg).unwrap().expect("a backup");
    // The old file is kept byte for byte; the new one keeps its comments.
    assert_eq!(std::fs::read_to_string(&bak).unwrap(), original);
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("# TCP: centred between the pads"), "{saved}");
    // Rebuilt from the file, the site sits exactly where it was put.
    let back = SceneConfig::load(&path).unwrap();
    assert_eq!(back, cfg);
    let scene = so101_lab::scene::build(&back).unwrap();
    let site = scene.handles.gripperframe_site;
    assert_eq!(scene.model.site_pos()[site], put);
    let mut sim = Sim::new(scene);
    sim.reset();
    let g = sim.body_pose(sim.handles().gripper_body);
    let world = sim.site_pose(site).pos;
    let local = g.rot.transpose() * (world - g.pos);
    for i in 0..3 {
        assert!((local[i] - put[i]).abs() < 1e-12, "{local:?} vs {put:?}");
    }
    // A second save keeps the first calibration too; a bad value names the field, writes nothing.
    assert_eq!(
        save_calibration(&path, &cfg).unwrap(),
        Some(dir.join("scene.toml.bak.2"))
    );
    CalibrationPoint::Graspframe.set(&mut cfg, [0.0, 0.0, 5.0]);
    let err = format!("{:#}", save_calibration(&path, &cfg).unwrap_err());
    assert!(err.contains("graspframe_pos"), "{err}");
    assert_eq!(SceneConfig::load(&path).unwrap(), back);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_ray_picks_the_cube_top_and_reports_it_in_the_gripper_frame() {
    let mut sim = Sim::new(common::default_scene());
    sim.reset();
    let cube = sim.cube_pose().pos;
    let hit = sim
        .ray_pick([cube.x, cube.y, cube.z + 0.3], [0.0, 0.0, -1.0])
        .expect("the cube is under the ray");
    assert_eq!(hit.geom, sim.handles().cube_geom);
    let half = sim.scene().config.cube.size_m / 2.0;
    assert!((hit.world[2] - (cube.z + half)).abs() < 1e-6, "{hit:?}");
    let g = sim.body_pose(sim.handles().gripper_body);
    let back = g.pos + g.rot * nalgebra::Vector3::from(hit.in_gripper);
    assert!((back - nalgebra::Vector3::from(hit.world)).norm() < 1e-9);
    // Straight up from the table: nothing.
    assert!(sim.ray_pick([0.6, 0.6, 0.01], [0.0, 0.0, 1.0]).is_none());
}

#[test]
fn the_calibration_overlay_draws_both_pad_boxes_and_the_wrist_frustum() {
    use so101_lab::overlay::{FrustumSpec, Primitive, calibration};
    let mut sim = Sim::new(common::default_scene());
    sim.reset();
    let snap = sim.snapshot();
    let h = sim.handles().clone();
    let wrist = h.cameras.iter().find(|(n, _)| *n == "wrist").unwrap().1;
    let half = sim.scene().config.pads.half_size_m;
    let spec = FrustumSpec {
        camera: wrist,
        fovy_deg: sim.model().cam_fovy()[wrist],
        aspect: 4.0 / 3.0,
    };
    let prims = calibration(&snap, &h, half, Some(spec));
    let lines = prims
        .iter()
        .filter(|p| matches!(p, Primitive::Line { .. }))
        .count();
    assert_eq!(lines, 2 * 12 + 8, "12 edges per pad box, 8 frustum edges");
    let labels: Vec<&str> = prims
        .iter()
        .filter_map(|p| match p {
            Primitive::Label { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    for want in [
        "gripperframe",
        "graspframe",
        "static pad",
        "moving pad",
        "wrist camera",
    ] {
        assert!(labels.contains(&want), "{want} in {labels:?}");
    }
}
