//! `so101-lab bench render`: wrist-camera frames/s of the headless renderer at the policy sizes
//! and the real capture size, for one env on one thread and for a batch of N envs on the thread
//! pool, plus the full-mesh renderer for comparison. The states are a scripted pick (approach,
//! grasp, lift), so the jaws, the cube and the floor are all in view.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::render::{Appearance, Frame, RenderOptions, Renderer};
use crate::scene::BuiltScene;
use crate::scene::names::WRIST_CAMERA;
use crate::scripted::CartesianPickPolicy;
use crate::sim::{Sim, SimState};
use crate::task::{RewardConfig, TaskConfig, TaskEnv};

/// One measured configuration.
#[derive(Debug, Clone, Serialize)]
pub struct RenderCase {
    /// What was measured.
    pub name: String,
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Envs rendered together (1 = one env on the calling thread).
    pub envs: usize,
    /// Threads used.
    pub threads: usize,
    /// Triangles submitted per frame (before culling).
    pub triangles: usize,
    /// Frames rendered per second (all envs together).
    pub frames_per_sec: f64,
}

/// Results of `bench render`.
#[derive(Debug, Clone, Serialize)]
pub struct RenderBench {
    /// The camera.
    pub camera: String,
    /// Distinct states rendered (cycled).
    pub states: usize,
    /// Every case.
    pub cases: Vec<RenderCase>,
    /// Why a comparison case is missing, if one is.
    pub notes: Vec<String>,
}

impl fmt::Display for RenderBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "render benchmark: camera `{}`, {} states of a scripted pick, software rasterizer",
            self.camera, self.states
        )?;
        writeln!(
            f,
            "  {:<58} {:>9} {:>5} {:>7} {:>10} {:>10}",
            "case", "size", "envs", "threads", "triangles", "frames/s"
        )?;
        for c in &self.cases {
            writeln!(
                f,
                "  {:<58} {:>9} {:>5} {:>7} {:>10} {:>10.1}",
                c.name,
                format!("{}x{}", c.width, c.height),
                c.envs,
                c.threads,
                c.triangles,
                c.frames_per_sec
            )?;
        }
        let ours = self
            .cases
            .iter()
            .find(|c| c.name == "one env" && c.width == 84)
            .map(|c| c.frames_per_sec);
        for c in self.cases.iter().filter(|c| c.name.starts_with("mujoco")) {
            if let Some(ours) = ours {
                writeln!(
                    f,
                    "  one env 84x84 vs {}: {:.0}x",
                    c.name,
                    ours / c.frames_per_sec.max(1e-9)
                )?;
            }
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        Ok(())
    }
}

/// States along scripted picks (the assisted task, where the scripted pick succeeds).
pub fn pick_states(scene: &BuiltScene, count: usize) -> Vec<SimState> {
    let task = TaskConfig {
        gravity_feedforward: 1.0,
        top_down_ik: true,
        ..TaskConfig::default()
    };
    let mut env = TaskEnv::new(scene.clone(), task, RewardConfig::default());
    let mut states = Vec::with_capacity(count);
    let mut seed = 0;
    while states.len() < count {
        env.reset(seed);
        seed += 1;
        let mut policy = CartesianPickPolicy::new();
        for step in 0..300 {
            let out = env.step(&policy.act(&env));
            if step % 10 == 0 && states.len() < count {
                states.push(env.sim().save_state());
            }
            if out.terminated || out.truncated {
                break;
            }
        }
    }
    states
}

fn sims_at(scene: &BuiltScene, states: &[SimState]) -> Vec<Sim> {
    states
        .iter()
        .map(|s| {
            let mut sim = Sim::new(scene.clone());
            // States come from this scene, so restoring cannot fail.
            let _ = sim.restore_state(s);
            sim
        })
        .collect()
}

/// Frames/s of one renderer on the calling thread, cycling through `sims`, for `secs`.
pub fn single_rate(renderer: &Renderer, sims: &[Sim], camera: usize, secs: f64) -> f64 {
    let look = Appearance::default();
    let mut frame = Frame::default();
    let mut frames = 0usize;
    let start = Instant::now();
    let budget = Duration::from_secs_f64(secs);
    while start.elapsed() < budget || frames < sims.len() {
        for sim in sims {
            // The renderer was built for this scene's model and camera.
            let _ = renderer.render(sim, camera, &look, &mut frame);
            frames += 1;
        }
    }
    frames as f64 / start.elapsed().as_secs_f64()
}

/// Frames/s rendering `sims.len()` envs per batch on a pool of `threads`.
pub fn batch_rate(
    renderer: &Renderer,
    sims: &[Sim],
    camera: usize,
    threads: usize,
    secs: f64,
) -> f64 {
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(threads).build() else {
        return 0.0;
    };
    let refs: Vec<&Sim> = sims.iter().collect();
    let looks = vec![Appearance::default(); sims.len()];
    let mut frames = vec![Frame::default(); sims.len()];
    let mut count = 0usize;
    let start = Instant::now();
    let budget = Duration::from_secs_f64(secs);
    pool.install(|| {
        while start.elapsed() < budget || count == 0 {
            let _ = renderer.render_batch(&refs, camera, &looks, &mut frames);
            count += sims.len();
        }
    });
    count as f64 / start.elapsed().as_secs_f64()
}

/// MuJoCo's own renderer (Python bindings on EGL, from the set-up's venv) on the same scene,
/// camera and states, at 84x84: the comparison this renderer exists to beat.
fn mujoco_cases(
    scene: &BuiltScene,
    sims: &[Sim],
    frames: usize,
) -> Result<Vec<RenderCase>, String> {
    let python = crate::paths::venv_python();
    let script = crate::paths::tool_file("tools/mujoco_render_bench.py");
    if !python.exists() {
        return Err(format!("no {} (run tools/setup.sh)", python.display()));
    }
    let dir = std::env::temp_dir().join(format!("so101-render-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let xml = dir.join("scene.xml");
    crate::scene::export_xml(&scene.config, &xml).map_err(|e| e.to_string())?;
    let qpos: Vec<Vec<f64>> = sims.iter().map(|s| s.data().qpos().to_vec()).collect();
    let states = dir.join("states.json");
    std::fs::write(
        &states,
        serde_json::to_vec(&qpos).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(&xml)
        .arg(&states)
        .args(["--camera", WRIST_CAMERA, "--size", "84x84"])
        .args(["--frames", &frames.to_string()])
        .env("MUJOCO_GL", "egl")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_owned();
        return Err(format!("MuJoCo's renderer did not run: {last}"));
    }
    let mut cases = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        cases.push(RenderCase {
            name: v["case"].as_str().unwrap_or("mujoco").to_owned(),
            width: 84,
            height: 84,
            envs: 1,
            threads: 1,
            triangles: 0,
            frames_per_sec: v["frames_per_sec"].as_f64().unwrap_or(0.0),
        });
    }
    Ok(cases)
}

/// Runs the benchmark: sizes 84x84, 128x128 and 640x480, one env and a batch of `envs` on
/// `threads`, the full meshes at 84x84, and (when `mujoco_frames` > 0) MuJoCo's renderer.
pub fn render(
    scene: &BuiltScene,
    envs: usize,
    threads: usize,
    secs: f64,
    mujoco_frames: usize,
) -> anyhow::Result<RenderBench> {
    let states = pick_states(scene, envs.max(32));
    let sims = sims_at(scene, &states);
    let batch: Vec<Sim> = sims_at(scene, &states[..envs.min(states.len())]);
    let mut cases = Vec::new();
    for (w, h) in [(84, 84), (128, 128), (640, 480)] {
        let renderer = Renderer::new(&scene.model, RenderOptions::for_size(w, h))?;
        let camera = renderer.camera_id(WRIST_CAMERA)?;
        let case = |name: &str, envs, threads, rate| RenderCase {
            name: name.to_owned(),
            width: w,
            height: h,
            envs,
            threads,
            triangles: renderer.triangles(),
            frames_per_sec: rate,
        };
        cases.push(case(
            "one env",
            1,
            1,
            single_rate(&renderer, &sims, camera, secs),
        ));
        cases.push(case(
            "batch",
            batch.len(),
            threads,
            batch_rate(&renderer, &batch, camera, threads, secs),
        ));
    }
    let mut notes = Vec::new();
    // The wgpu path: a real GPU when there is one, else Mesa's lavapipe (a CPU Vulkan).
    for (w, h) in [(84, 84), (128, 128), (640, 480)] {
        let options = RenderOptions::for_size(w, h).with_backend(crate::render::RenderBackend::Gpu);
        match Renderer::new(&scene.model, options) {
            Ok(gpu) => {
                let camera = gpu.camera_id(WRIST_CAMERA)?;
                let name = gpu.backend_name();
                let case = |label: &str, envs, threads, rate| RenderCase {
                    name: format!("{label}, {name}"),
                    width: w,
                    height: h,
                    envs,
                    threads,
                    triangles: gpu.triangles(),
                    frames_per_sec: rate,
                };
                cases.push(case(
                    "one env",
                    1,
                    1,
                    single_rate(&gpu, &sims, camera, secs),
                ));
                cases.push(case(
                    "batch",
                    batch.len(),
                    1,
                    batch_rate(&gpu, &batch, camera, 1, secs),
                ));
            }
            Err(e) => {
                notes.push(format!("GPU path unavailable: {e}"));
                break;
            }
        }
    }
    let full = Renderer::new(&scene.model, RenderOptions::for_size(84, 84).full_meshes())?;
    let camera = full.camera_id(WRIST_CAMERA)?;
    cases.push(RenderCase {
        name: "one env, full meshes".into(),
        width: 84,
        height: 84,
        envs: 1,
        threads: 1,
        triangles: full.triangles(),
        frames_per_sec: single_rate(&full, &sims, camera, secs),
    });
    if mujoco_frames > 0 {
        match mujoco_cases(scene, &sims, mujoco_frames) {
            Ok(c) => cases.extend(c),
            Err(e) => notes.push(e),
        }
    }
    Ok(RenderBench {
        camera: WRIST_CAMERA.into(),
        states: sims.len(),
        cases,
        notes,
    })
}
