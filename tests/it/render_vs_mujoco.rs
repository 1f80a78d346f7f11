//! The software renderer against MuJoCo's own renderer (its Python bindings on EGL, from the
//! set-up's venv): the same scene file, camera and states give the same pictures. MuJoCo draws
//! with shadows, reflections and skybox off here (we draw none of them).

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use so101_lab::render::{Appearance, Frame, RenderOptions, Renderer};
use so101_lab::scripted::CartesianPickPolicy;
use so101_lab::sim::Sim;
use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};

fn python() -> PathBuf {
    std::env::var_os("SO101_SB3_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("third_party/sb3-venv/bin/python")
        })
}

#[test]
fn images_match_mujocos_renderer() {
    let scene = common::default_scene();
    let task = TaskConfig {
        gravity_feedforward: 1.0,
        top_down_ik: true,
        ..TaskConfig::default()
    };
    let mut env = TaskEnv::new(scene.clone(), task, RewardConfig::default());
    let mut sims = Vec::new();
    for seed in 0..6u64 {
        env.reset(seed);
        let mut policy = CartesianPickPolicy::new();
        for _ in 0..(seed * 29) % 150 {
            let a = policy.act(&env);
            env.step(&a);
        }
        let mut sim = Sim::new(scene.clone());
        sim.restore_state(&env.sim().save_state()).expect("state");
        sims.push(sim);
    }
    let dir = std::env::temp_dir().join(format!("so101-vs-mujoco-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let xml = dir.join("scene.xml");
    so101_lab::scene::export_xml(&scene.config, &xml).expect("export");
    let qpos: Vec<Vec<f64>> = sims.iter().map(|s| s.data().qpos().to_vec()).collect();
    let states = dir.join("states.json");
    std::fs::write(&states, serde_json::to_vec(&qpos).expect("json")).expect("write");
    let (w, h) = (128u32, 128u32);
    // `top` rather than `front`: the front camera looks level over the table to keep a lifted
    // cube in view, so half its image is MuJoCo's skybox and horizon haze, which we do not draw.
    for camera in ["wrist", "top"] {
        let dump = dir.join(format!("{camera}.rgb"));
        let out = Command::new(python())
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/mujoco_render_bench.py"))
            .arg(&xml)
            .arg(&states)
            .args(["--camera", camera, "--size", &format!("{w}x{h}"), "--dump"])
            .arg(&dump)
            .env("MUJOCO_GL", "egl")
            .output()
            .expect("python runs (tools/setup.sh installs third_party/sb3-venv with mujoco)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let reference = std::fs::read(&dump).expect("frames");
        let renderer =
            Renderer::new(&scene.model, RenderOptions::for_size(w, h)).expect("renderer");
        let cam = renderer.camera_id(camera).expect("camera");
        let n = (w * h * 3) as usize;
        let (mut total, mut close, mut count) = (0.0f64, 0usize, 0usize);
        for (k, sim) in sims.iter().enumerate() {
            let mut frame = Frame::default();
            renderer
                .render(sim, cam, &Appearance::default(), &mut frame)
                .expect("render");
            let theirs = &reference[k * n..(k + 1) * n];
            for (a, b) in frame.rgb.chunks_exact(3).zip(theirs.chunks_exact(3)) {
                let d = (0..3)
                    .map(|c| (i32::from(a[c]) - i32::from(b[c])).abs())
                    .max()
                    .unwrap_or(0);
                total += f64::from(d);
                close += usize::from(d <= 12);
                count += 1;
            }
        }
        if std::env::var_os("SO101_KEEP_RENDERS").is_some() {
            let mut ours = Vec::new();
            for sim in &sims {
                let mut frame = Frame::default();
                renderer
                    .render(sim, cam, &Appearance::default(), &mut frame)
                    .expect("render");
                ours.extend_from_slice(&frame.rgb);
            }
            std::fs::write(dir.join(format!("{camera}.ours.rgb")), ours).expect("write");
            println!("kept {}", dir.display());
        }
        let mean = total / count as f64;
        let frac = close as f64 / count as f64;
        println!(
            "{camera}: mean |ours - MuJoCo| = {mean:.2} levels; {frac:.4} of pixels within 12 levels"
        );
        assert!(mean < 4.0, "{camera}: mean difference {mean}");
        assert!(
            frac > 0.95,
            "{camera}: only {frac} of pixels within 12 levels"
        );
    }
}
