//! Headless rendering: geometry against an independent reprojection (MuJoCo's own ray casts and
//! a camera matrix built here from `mjData`), determinism, decimated silhouettes against the full
//! meshes, and the calibrated wrist camera.

use crate::common;

use nalgebra::{Matrix3, UnitQuaternion, Vector3};
use so101_lab::render::{Appearance, Frame, RenderOptions, Renderer, SegClass};
use so101_lab::scene::BuiltScene;
use so101_lab::scripted::CartesianPickPolicy;
use so101_lab::sim::Sim;
use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};

fn assisted() -> TaskConfig {
    TaskConfig {
        gravity_feedforward: 1.0,
        top_down_ik: true,
        ..TaskConfig::default()
    }
}

/// 20 seeded states along scripted picks: approach, closing, grasped and lifted.
fn states(scene: &BuiltScene) -> Vec<Sim> {
    let mut env = TaskEnv::new(scene.clone(), assisted(), RewardConfig::default());
    let mut out = Vec::new();
    for seed in 0..20u64 {
        env.reset(seed);
        let mut policy = CartesianPickPolicy::new();
        let steps = (seed * 13) % 140;
        for _ in 0..steps {
            let a = policy.act(&env);
            env.step(&a);
        }
        let mut sim = Sim::new(scene.clone());
        sim.restore_state(&env.sim().save_state())
            .expect("same scene");
        out.push(sim);
    }
    out
}

/// The camera as a plain pinhole built here from mjData: position, axes (columns of cam_xmat:
/// x right, y up, z backward) and the focal length from fovy.
struct Pinhole {
    pos: Vector3<f64>,
    rot: Matrix3<f64>,
    f: f64,
    w: f64,
    h: f64,
}

impl Pinhole {
    fn of(sim: &Sim, camera: usize, w: u32, h: u32) -> Self {
        let d = sim.data();
        let fovy = sim.model().cam_fovy()[camera].to_radians();
        Self {
            pos: Vector3::from(d.cam_xpos()[camera]),
            rot: Matrix3::from_row_slice(&d.cam_xmat()[camera]),
            f: 0.5 * f64::from(h) / (0.5 * fovy).tan(),
            w: f64::from(w),
            h: f64::from(h),
        }
    }

    /// (column, row, depth) of a world point.
    fn project(&self, p: &Vector3<f64>) -> (f64, f64, f64) {
        let c = self.rot.transpose() * (p - self.pos);
        let depth = -c.z;
        (
            self.w / 2.0 + self.f * c.x / depth,
            self.h / 2.0 - self.f * c.y / depth,
            depth,
        )
    }

    /// World direction through the centre of pixel (col, row), scaled to unit depth.
    fn ray(&self, col: u32, row: u32) -> Vector3<f64> {
        let x = (f64::from(col) + 0.5 - self.w / 2.0) / self.f;
        let y = -(f64::from(row) + 0.5 - self.h / 2.0) / self.f;
        self.rot * Vector3::new(x, y, -1.0)
    }
}

fn render(renderer: &Renderer, sim: &Sim, camera: usize) -> Frame {
    let mut frame = Frame::default();
    renderer
        .render(sim, camera, &Appearance::default(), &mut frame)
        .expect("render");
    frame
}

/// Casts MuJoCo's own ray through every `stride`-th pixel (visible groups only) and compares
/// the hit geom and its depth with the frame. Returns (pixels, same geom, same class, depth ok).
fn ray_agreement(
    sim: &mut Sim,
    frame: &Frame,
    cam: &Pinhole,
    stride: u32,
) -> (usize, usize, usize, usize) {
    let groups = [1u8, 1, 1, 0, 0, 0];
    let classes = {
        let r = Renderer::new(sim.model(), RenderOptions::for_size(2, 2)).expect("renderer");
        r.geom_classes().to_vec()
    };
    let (mut n, mut same_geom, mut same_class, mut depth_ok) = (0, 0, 0, 0);
    for row in (0..frame.height).step_by(stride as usize) {
        for col in (0..frame.width).step_by(stride as usize) {
            let ray = cam.ray(col, row);
            let pnt: [f64; 3] = cam.pos.into();
            let (geom, t) = sim
                .data_mut()
                .ray(&pnt, &ray.into(), Some(&groups), true, None, None);
            let i = frame.index(col, row);
            n += 1;
            let want_geom = geom.map_or(-1, |g| g as i32);
            let want_class = geom.map_or(SegClass::Background, |g| classes[g]);
            if frame.geom[i] == want_geom {
                same_geom += 1;
            }
            if frame.class[i] == want_class as u8 {
                same_class += 1;
                // mj_ray's distance is in units of the ray, which has unit depth.
                if geom.is_some() && (f64::from(frame.depth[i]) - t).abs() <= 1e-3 + 0.01 * t {
                    depth_ok += 1;
                }
                if geom.is_none() {
                    depth_ok += 1;
                }
            }
        }
    }
    (n, same_geom, same_class, depth_ok)
}

#[test]
fn depth_and_segmentation_agree_with_mujoco_ray_casts() {
    let scene = common::default_scene();
    let mut sims = states(&scene);
    for (name, full) in [("decimated", false), ("full meshes", true)] {
        let mut options = RenderOptions::for_size(128, 128);
        if full {
            options = options.full_meshes();
        }
        let renderer = Renderer::new(&scene.model, options).expect("renderer");
        for cam_name in ["wrist", "front"] {
            let camera = renderer.camera_id(cam_name).expect("camera");
            let mut totals = (0, 0, 0, 0);
            for sim in &mut sims {
                let frame = render(&renderer, sim, camera);
                let pin = Pinhole::of(sim, camera, 128, 128);
                let (n, g, c, d) = ray_agreement(sim, &frame, &pin, 2);
                totals = (totals.0 + n, totals.1 + g, totals.2 + c, totals.3 + d);
            }
            let (n, g, c, d) = totals;
            let frac = |k: usize| k as f64 / n as f64;
            println!(
                "{name}, {cam_name}: {n} pixels, geom {:.4}, class {:.4}, depth {:.4}",
                frac(g),
                frac(c),
                frac(d)
            );
            // Only pixels whose centre lies within a fraction of a pixel of a silhouette may
            // differ (the ray and the rasterizer round the edge differently).
            assert!(
                frac(c) > 0.985,
                "{name} {cam_name}: class agreement {}",
                frac(c)
            );
            assert!(
                frac(g) > 0.975,
                "{name} {cam_name}: geom agreement {}",
                frac(g)
            );
            assert!(
                frac(d) > 0.98,
                "{name} {cam_name}: depth agreement {}",
                frac(d)
            );
        }
    }
}

#[test]
fn cube_corners_and_tcp_project_onto_their_pixels() {
    let scene = common::default_scene();
    let mut sims = states(&scene);
    let renderer =
        Renderer::new(&scene.model, RenderOptions::for_size(128, 128)).expect("renderer");
    let groups = [1u8, 1, 1, 0, 0, 0];
    let mut checked_corners = 0;
    let mut checked_tcp = 0;
    for cam_name in ["wrist", "front"] {
        let camera = renderer.camera_id(cam_name).expect("camera");
        for sim in &mut sims {
            let frame = render(&renderer, sim, camera);
            let pin = Pinhole::of(sim, camera, 128, 128);
            let cube = sim.cube_pose();
            let half = Vector3::from(sim.model().geom_size()[sim.handles().cube_geom]);
            for corner in 0..8 {
                let sign = Vector3::new(
                    if corner & 1 == 0 { -1.0 } else { 1.0 },
                    if corner & 2 == 0 { -1.0 } else { 1.0 },
                    if corner & 4 == 0 { -1.0 } else { 1.0 },
                );
                let p = cube.pos + cube.rot * half.component_mul(&sign);
                let (u, v, depth) = pin.project(&p);
                if !(1.0..127.0).contains(&u) || !(1.0..127.0).contains(&v) {
                    continue;
                }
                // Visible when MuJoCo's ray toward the corner first meets the cube there.
                let dir = p - pin.pos;
                let (hit, t) = sim.data_mut().ray(
                    &pin.pos.into(),
                    &dir.into(),
                    Some(&groups),
                    true,
                    None,
                    None,
                );
                if hit != Some(sim.handles().cube_geom) || t < 0.995 {
                    continue;
                }
                let (c0, r0) = (u.floor() as i64, v.floor() as i64);
                let mut best = f64::INFINITY;
                for r in r0 - 1..=r0 + 1 {
                    for c in c0 - 1..=c0 + 1 {
                        if !(0..128).contains(&r) || !(0..128).contains(&c) {
                            continue;
                        }
                        let i = frame.index(c as u32, r as u32);
                        if frame.class[i] == SegClass::Cube as u8 {
                            best = best.min((f64::from(frame.depth[i]) - depth).abs());
                        }
                    }
                }
                // Depth is checked per pixel against MuJoCo's rays above; next to a corner a
                // face can be seen edge-on, where one pixel spans centimetres of depth.
                assert!(
                    best.is_finite(),
                    "{cam_name}: visible cube corner at ({u:.1}, {v:.1}) has no cube pixel within 1 px"
                );
                checked_corners += 1;
            }
            // The TCP lies between the pads: when the jaws hold the cube it is inside the cube,
            // so it projects onto cube or gripper pixels.
            if sim.grasp_state().grasping {
                let (u, v, _) = pin.project(&sim.tcp_pose().pos);
                let (c0, r0) = (u.floor() as i64, v.floor() as i64);
                let near = (r0 - 1..=r0 + 1).any(|r| {
                    (c0 - 1..=c0 + 1).any(|c| {
                        (0..128).contains(&r)
                            && (0..128).contains(&c)
                            && matches!(
                                frame.class_at(c as u32, r as u32),
                                SegClass::Cube | SegClass::Robot
                            )
                    })
                });
                assert!(
                    near,
                    "{cam_name}: TCP at ({u:.1}, {v:.1}) is not on cube or gripper pixels"
                );
                checked_tcp += 1;
            }
        }
    }
    println!("checked {checked_corners} visible cube corners, {checked_tcp} grasped TCPs");
    assert!(
        checked_corners >= 40,
        "too few visible corners: {checked_corners}"
    );
    assert!(checked_tcp >= 4, "too few grasped states: {checked_tcp}");
}

#[test]
fn same_state_gives_the_same_pixels() {
    let scene = common::default_scene();
    let sims = states(&scene);
    let renderer = Renderer::new(&scene.model, RenderOptions::for_size(84, 84)).expect("renderer");
    let other = Renderer::new(&scene.model, RenderOptions::for_size(84, 84)).expect("renderer");
    let camera = renderer.camera_id("wrist").expect("wrist");
    let refs: Vec<&Sim> = sims.iter().collect();
    let looks = vec![Appearance::default(); sims.len()];
    let mut batch = vec![Frame::default(); sims.len()];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    pool.install(|| renderer.render_batch(&refs, camera, &looks, &mut batch))
        .expect("batch");
    for (sim, b) in sims.iter().zip(&batch) {
        let a = render(&renderer, sim, camera);
        let c = render(&other, sim, camera);
        assert_eq!(a.rgb, b.rgb);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), c.fingerprint());
        let classes: std::collections::HashSet<u8> = a.class.iter().copied().collect();
        assert!(
            classes.contains(&(SegClass::Floor as u8)),
            "the wrist camera sees the floor"
        );
    }
}

#[test]
fn decimated_silhouettes_match_the_full_meshes() {
    let scene = common::default_scene();
    let sims = states(&scene);
    let fast = Renderer::new(&scene.model, RenderOptions::for_size(128, 128)).expect("renderer");
    let full = Renderer::new(
        &scene.model,
        RenderOptions::for_size(128, 128).full_meshes(),
    )
    .expect("renderer");
    println!(
        "triangles: {} decimated, {} full",
        fast.triangles(),
        full.triangles()
    );
    assert!(
        fast.triangles() * 5 < full.triangles(),
        "decimation cut less than 5x"
    );
    for cam_name in ["wrist", "front", "side"] {
        let camera = fast.camera_id(cam_name).expect("camera");
        let (mut inter, mut union) = (0usize, 0usize);
        for sim in &sims {
            let a = render(&fast, sim, camera);
            let b = render(&full, sim, camera);
            for (x, y) in a.class.iter().zip(&b.class) {
                let (ra, rb) = (*x == SegClass::Robot as u8, *y == SegClass::Robot as u8);
                inter += usize::from(ra && rb);
                union += usize::from(ra || rb);
            }
        }
        let iou = inter as f64 / union.max(1) as f64;
        println!("{cam_name}: robot silhouette IoU decimated vs full = {iou:.4} over {union} px");
        assert!(iou > 0.97, "{cam_name}: IoU {iou}");
    }
}

#[test]
fn the_wrist_camera_is_the_calibrated_real_mount() {
    let scene = common::default_scene();
    let w = scene
        .config
        .wrist_camera
        .clone()
        .expect("calibrated camera in configs/scene.toml");
    assert_eq!(w.pos, [0.008, -0.065, -0.019]);
    assert_eq!(w.fovy_deg, 70.5);
    assert_eq!((w.capture_width, w.capture_height), (640, 480));
    let m = &scene.model;
    let cam = scene
        .handles
        .cameras
        .iter()
        .find(|(n, _)| *n == "wrist")
        .expect("wrist")
        .1;
    assert_eq!(m.cam_bodyid()[cam] as usize, scene.handles.gripper_body);
    assert_eq!(m.cam_pos()[cam], w.pos);
    assert!((m.cam_fovy()[cam] - 70.5).abs() < 1e-12);
    // MJCF euler with the default sequence "xyz" (intrinsic): q = qx(a) qy(b) qz(c).
    let [a, b, c] = w.euler;
    let q = UnitQuaternion::from_axis_angle(&Vector3::x_axis(), a)
        * UnitQuaternion::from_axis_angle(&Vector3::y_axis(), b)
        * UnitQuaternion::from_axis_angle(&Vector3::z_axis(), c);
    let got = m.cam_quat()[cam];
    let dot = (q.w * got[0] + q.i * got[1] + q.j * got[2] + q.k * got[3]).abs();
    assert!(dot > 1.0 - 1e-9, "cam_quat {got:?} vs euler {:?}", q.coords);
}

#[test]
fn real_capture_preprocessing_matches_the_direct_render() {
    use so101_lab::render::preprocess;
    let scene = common::default_scene();
    let sims = states(&scene);
    let capture = Renderer::new(&scene.model, RenderOptions::for_size(640, 480)).expect("capture");
    let direct = Renderer::new(&scene.model, RenderOptions::for_size(84, 84)).expect("direct");
    let camera = direct.camera_id("wrist").expect("wrist");
    let (mut same, mut total) = (0usize, 0usize);
    for sim in &sims {
        let big = render(&capture, sim, camera);
        let small = render(&direct, sim, camera);
        let labels = preprocess::centre_crop_nearest(&big.class, 640, 480, 84, 84);
        same += labels
            .iter()
            .zip(&small.class)
            .filter(|(a, b)| a == b)
            .count();
        total += labels.len();
        let rgb = preprocess::centre_crop_resize(&big.rgb, 640, 480, 84, 84);
        assert_eq!(rgb.len(), small.rgb.len());
    }
    let frac = same as f64 / total as f64;
    println!("capture -> crop -> resize vs direct 84x84: {frac:.4} of labels agree");
    // Same field of view: only edge pixels differ (nearest sample of the capture vs the centre
    // of the small pixel).
    assert!(frac > 0.95, "{frac}");
}

#[test]
fn bad_camera_and_size_are_errors() {
    let scene = common::default_scene();
    let err = Renderer::new(&scene.model, RenderOptions::for_size(0, 84)).expect_err("zero");
    assert!(err.to_string().contains("0x84"), "{err}");
    let r = Renderer::new(&scene.model, RenderOptions::for_size(84, 84)).expect("renderer");
    let err = r.camera_id("nope").expect_err("unknown");
    let msg = err.to_string();
    assert!(
        msg.contains("nope") && msg.contains("wrist") && msg.contains("front"),
        "{msg}"
    );
}

#[cfg(feature = "gpu")]
#[test]
fn the_gpu_path_draws_the_same_geometry_deterministically() {
    use so101_lab::render::RenderBackend;
    let scene = common::default_scene();
    let sims = states(&scene);
    let sims = &sims[..8];
    let cpu = Renderer::new(&scene.model, RenderOptions::for_size(128, 128)).expect("cpu");
    let gpu = Renderer::new(
        &scene.model,
        RenderOptions::for_size(128, 128).with_backend(RenderBackend::Gpu),
    )
    .expect(
        "a wgpu adapter (Mesa's lavapipe on machines without a GPU; tools/setup.sh installs it)",
    );
    println!("GPU path: {}", gpu.backend_name());
    let camera = cpu.camera_id("wrist").expect("wrist");
    let refs: Vec<&Sim> = sims.iter().collect();
    let looks = vec![Appearance::default(); sims.len()];
    let mut batch = vec![Frame::default(); sims.len()];
    gpu.render_batch(&refs, camera, &looks, &mut batch)
        .expect("gpu batch");
    let mut again = vec![Frame::default(); sims.len()];
    gpu.render_batch(&refs, camera, &looks, &mut again)
        .expect("gpu batch");
    for (k, ((sim, b), a)) in sims.iter().zip(&batch).zip(&again).enumerate() {
        assert_eq!(
            b.fingerprint(),
            a.fingerprint(),
            "GPU frames repeat bit for bit"
        );
        // Alone, a frame is drawn in the atlas's first tile: equal to the batch's first frame
        // (other tiles sit elsewhere in the atlas, where the rasterizer's rounding differs).
        if k == 0 {
            let single = render(&gpu, sim, camera);
            assert_eq!(
                single.fingerprint(),
                b.fingerprint(),
                "one frame = the first frame of a batch"
            );
        }
        let c = render(&cpu, sim, camera);
        let same = c.class.iter().zip(&b.class).filter(|(x, y)| x == y).count();
        let frac = same as f64 / c.class.len() as f64;
        let close = c
            .depth
            .iter()
            .zip(&b.depth)
            .zip(c.class.iter().zip(&b.class))
            .filter(|((dc, dg), (x, y))| x == y && (**dc - **dg).abs() <= 1e-3 + 0.01 * **dc)
            .count();
        println!(
            "GPU vs CPU: classes {frac:.4}, depth {:.4}",
            close as f64 / same as f64
        );
        assert!(frac > 0.98, "GPU and CPU segmentations differ: {frac}");
        assert!(close as f64 / same as f64 > 0.98);
    }
}
