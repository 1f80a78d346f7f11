//! The app renders under Xvfb with software Vulkan: the scene is drawn from the compiled model,
//! the gripperframe marker lands on the camera projection of the site, cameras switch, and a bad
//! scene is reported without a crash. Each test runs `so101-lab view --screenshot` in xvfb-run.
#![cfg(feature = "app")]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use nalgebra::{Matrix3, Vector3};
use so101_lab::config::default_configs_dir;
use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};

const W: u32 = 640;
const H: u32 = 480;

struct Render {
    image: image::RgbImage,
    stderr: String,
}

fn out_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("so101-app-render-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// `so101-lab` under xvfb-run, with a runtime folder; the caller adds its arguments.
fn under_xvfb() -> Command {
    let mut c = Command::new("xvfb-run");
    c.args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(env!("CARGO_BIN_EXE_so101-lab"))
        .env("XDG_RUNTIME_DIR", std::env::temp_dir());
    c
}

/// Runs the app headless with `args` and returns its screenshot.
fn render(name: &str, args: &[&str]) -> Render {
    render_sized(name, (W, H), args)
}

/// [`render`] with a window size.
fn render_sized(name: &str, (w, h): (u32, u32), args: &[&str]) -> Render {
    let out = out_dir().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&out);
    let size = format!("{w}x{h}");
    let output = under_xvfb()
        .args(["view", "--screenshot"])
        .arg(&out)
        .args(["--size", &size, "--frames", "6"])
        .args(args)
        .output()
        .expect("xvfb-run runs (tools/setup.sh installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "view {args:?} failed: {}\n{stderr}",
        output.status
    );
    let image = image::open(&out)
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}\n{stderr}", out.display()))
        .to_rgb8();
    assert_eq!(image.dimensions(), (w, h), "screenshot size");
    Render { image, stderr }
}

const STILL: [&str; 6] = ["--no-ui", "--driver", "hold", "--paused", "--pip", "none"];

fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    STILL.iter().copied().chain(extra.iter().copied()).collect()
}

fn count(img: &image::RgbImage, pred: impl Fn([u8; 3]) -> bool) -> usize {
    img.pixels().filter(|p| pred(p.0)).count()
}

/// The arm's PLA yellow (MJCF rgba 1 0.82 0.12), after lighting: bright red and green, little blue.
fn is_arm_yellow([r, g, b]: [u8; 3]) -> bool {
    r > 120 && g > 90 && (b as f32) < 0.6 * g as f32 && (r as i32 - g as i32).abs() < 90
}

/// The gripperframe marker colour (1, 0.1, 0.8): red and blue high, green low.
fn is_marker_magenta([r, g, b]: [u8; 3]) -> bool {
    r > 150 && b > 110 && (g as u16) < 110
}

#[test]
fn default_scene_renders_the_arm_in_its_colours() {
    let r = render("front", &with(&["--camera", "front"]));
    let yellow = count(&r.image, is_arm_yellow);
    let share = yellow as f64 / (W * H) as f64;
    println!(
        "arm-yellow pixels: {yellow} ({:.1}% of the image)",
        100.0 * share
    );
    assert!(share > 0.01, "the arm is not visible:\n{}", r.stderr);
    let distinct: std::collections::HashSet<[u8; 3]> =
        r.image.pixels().map(|p| p.0.map(|c| c / 32)).collect();
    assert!(
        distinct.len() > 20,
        "a flat image ({} colours)",
        distinct.len()
    );
}

/// Pixel where the MJCF camera `name` sees world point `p`, for a `W`x`H` image.
fn project(env: &TaskEnv, camera: &str, p: Vector3<f64>) -> (f64, f64) {
    let sim = env.sim();
    let model = sim.model();
    let id = model
        .name_to_id(mujoco_rs::prelude::MjtObjBase::mjOBJ_CAMERA, camera)
        .expect("camera exists");
    let d = sim.data();
    let pos = Vector3::from(d.cam_xpos()[id]);
    let rot = Matrix3::from_row_slice(&d.cam_xmat()[id]);
    let local = rot.transpose() * (p - pos);
    let fovy = model.cam_fovy()[id].to_radians();
    let f = (H as f64 / 2.0) / (fovy / 2.0).tan();
    (
        W as f64 / 2.0 + f * local.x / -local.z,
        H as f64 / 2.0 - f * local.y / -local.z,
    )
}

#[test]
fn gripperframe_marker_lands_on_the_projected_site() {
    let seed = 4;
    let r = render(
        "marker",
        &with(&["--camera", "front", "--seed", &seed.to_string()]),
    );
    let cfg = default_configs_dir();
    let task = TaskConfig::load(&cfg.join("task.toml")).expect("task");
    let reward = RewardConfig::load(&cfg.join("rewards").join("v11.toml")).expect("reward");
    let mut env = TaskEnv::new(common::default_scene(), task, reward);
    env.reset(seed);
    let site = env.sim().tcp_pose().pos;
    let (u, v) = project(&env, "front", site);
    println!("gripperframe projects to ({u:.1}, {v:.1})");
    let (ui, vi) = (u.round() as i64, v.round() as i64);
    let mut hits = Vec::new();
    for dv in -3..=3 {
        for du in -3..=3 {
            let (x, y) = (ui + du, vi + dv);
            if x >= 0 && y >= 0 && x < W as i64 && y < H as i64 {
                let p = r.image.get_pixel(x as u32, y as u32).0;
                if is_marker_magenta(p) {
                    hits.push((du, dv));
                }
            }
        }
    }
    assert!(
        hits.len() >= 3,
        "no gripperframe marker within 3 px of ({u:.1}, {v:.1}): pixel there is {:?}",
        r.image.get_pixel(
            ui.clamp(0, W as i64 - 1) as u32,
            vi.clamp(0, H as i64 - 1) as u32
        )
    );
    // And the marker is not everywhere: the magenta is concentrated around that pixel.
    let total = count(&r.image, is_marker_magenta);
    assert!(
        total < 2000,
        "{total} magenta pixels: the marker is not a marker"
    );
}

#[test]
fn switching_camera_changes_the_image() {
    let front = render("cam_front", &with(&["--camera", "front"]));
    let top = render("cam_top", &with(&["--camera", "top"]));
    let differing = front
        .image
        .pixels()
        .zip(top.image.pixels())
        .filter(|(a, b)| {
            a.0.iter()
                .zip(b.0.iter())
                .any(|(x, y)| (*x as i16 - *y as i16).abs() > 24)
        })
        .count();
    let share = differing as f64 / (W * H) as f64;
    println!("front vs top: {:.1}% of pixels differ", 100.0 * share);
    assert!(
        share > 0.2,
        "the top camera shows the same picture as the front one"
    );
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write test file");
}

#[test]
fn bad_scene_and_policy_are_reported_not_fatal() {
    let bad = out_dir().join("bad_scene.toml");
    write(&bad, "[physics]\ntimestep_secs = -1.0\n");
    let bad_policy = out_dir().join("bad_policy.safetensors");
    write(&bad_policy, "not a policy");
    let bad_str = bad.to_string_lossy().into_owned();
    let policy_str = bad_policy.to_string_lossy().into_owned();
    // With every panel open: the errors must show in the window next to the scene.
    let r = render_sized(
        "bad",
        (1280, 720),
        &[
            "--scene",
            &bad_str,
            "--policy",
            &policy_str,
            "--camera",
            "front",
            "--paused",
            "--pip",
            "none",
        ],
    );
    assert!(
        r.stderr.contains("could not be loaded") && r.stderr.contains("timestep_secs"),
        "the scene error is not reported:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("not loaded"),
        "the policy error is not reported:\n{}",
        r.stderr
    );
    // The default scene is shown instead.
    assert!(count(&r.image, is_arm_yellow) > 300, "no scene was drawn");
}

/// `view --soft-render on` swaps egui's shader for one with polynomial sRGB curves: the panels
/// must look the same as with bevy_egui's own (`off`), apart from the HUD's frame-rate text.
#[test]
fn soft_render_ui_shader_draws_the_panels_in_the_same_colours() {
    let args = ["--driver", "hold", "--paused", "--pip", "none"];
    let on = render(
        "soft_on",
        &args
            .iter()
            .copied()
            .chain(["--soft-render", "on"])
            .collect::<Vec<_>>(),
    );
    let off = render(
        "soft_off",
        &args
            .iter()
            .copied()
            .chain(["--soft-render", "off"])
            .collect::<Vec<_>>(),
    );
    let (mut sum, mut far, mut panel) = (0u64, 0usize, 0usize);
    for (a, b) in on.image.pixels().zip(off.image.pixels()) {
        let d = (0..3)
            .map(|c| (a.0[c] as i32 - b.0[c] as i32).unsigned_abs())
            .max()
            .unwrap_or(0);
        sum += u64::from(d);
        far += usize::from(d > 24);
        // egui's dark panel fill.
        panel += usize::from(a.0.iter().all(|&c| c < 60));
    }
    let n = (W * H) as f64;
    let mean = sum as f64 / n;
    println!("mean |diff| {mean:.2}/255, {far} pixels differ by > 24, panel pixels {panel}");
    assert!(
        panel as f64 > 0.2 * n,
        "the panels are not drawn ({panel} dark pixels):\n{}",
        on.stderr
    );
    assert!(mean < 0.75, "mean difference {mean:.2}/255:\n{}", on.stderr);
    assert!(
        (far as f64) < 0.01 * n,
        "{far} pixels differ by more than 24/255"
    );
}

/// `bench view --passes`: frame times, the adapter, the `view` arguments after `--`, and Bevy's
/// per-pass render timings, as JSON.
#[test]
fn bench_view_reports_frame_times_and_render_passes() {
    let output = under_xvfb()
        .args(["bench", "view", "--json", "--passes", "--frames", "6"])
        .args(["--warmup", "2", "--size", "320x240", "--", "--pip", "none"])
        .output()
        .expect("xvfb-run runs (tools/setup.sh installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench view failed:\n{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stderr}"));
    assert_eq!(v["frames"], 6);
    assert_eq!(v["size"], "320x240");
    assert_eq!(v["view_args"], serde_json::json!(["--pip", "none"]));
    let mean = v["mean_ms"].as_f64().expect("mean_ms");
    assert!(mean > 0.0 && (v["fps"].as_f64().unwrap_or(0.0) - 1e3 / mean).abs() < 1e-6);
    assert!(!v["adapter"].as_str().unwrap_or("").is_empty());
    let passes = v["passes"].as_array().expect("passes with --passes");
    assert!(
        passes.iter().any(|p| p["path"]
            .as_str()
            .is_some_and(|s| s.starts_with("render/main_opaque_pass_3d/elapsed_"))),
        "no main pass timing: {passes:?}"
    );
    assert!(
        passes
            .iter()
            .all(|p| p["ms"].as_f64().is_some_and(|ms| ms >= 0.0))
    );
}
