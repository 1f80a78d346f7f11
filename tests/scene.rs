//! The built scene: pads, sites, collision set, effective contact parameters, export.

mod common;

use so101_lab::scene::{effective_pad_cube_contact, export_xml};
use so101_lab::scripted::{PickPhase, PickRun, placement_for_seed};
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
