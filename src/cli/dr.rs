//! `so101-lab dr preview`: what domain randomisation does to the camera, as one contact sheet.

use std::path::Path;

use anyhow::Context;

use super::{SceneArgs, TaskArgs, parse_size};
use crate::render::{Frame, RenderOptions, Renderer, preprocess};
use crate::task::{DrConfig, TaskEnv};

/// Arguments of `dr preview`.
pub struct PreviewArgs<'a> {
    /// Seeds shown.
    pub seeds: usize,
    /// First seed.
    pub first_seed: u64,
    /// Output folder.
    pub out: &'a Path,
    /// Camera name.
    pub camera: &'a str,
    /// WIDTHxHEIGHT.
    pub size: &'a str,
    /// Images per row.
    pub cols: u32,
    /// Task, reward, DR file.
    pub task: &'a TaskArgs,
    /// Scene.
    pub scene: &'a SceneArgs,
}

/// Renders the reset state of each seed in its own randomised world and tiles the images.
pub fn preview(args: &PreviewArgs<'_>) -> anyhow::Result<()> {
    if args.seeds == 0 {
        anyhow::bail!("--seeds must be at least 1");
    }
    let (w, h) = parse_size(args.size)?;
    let sheet = args.out.join("contact_sheet.png");
    let samples_path = args.out.join("samples.json");
    for p in [&sheet, &samples_path] {
        if p.exists() {
            anyhow::bail!("{} already exists; not overwriting it", p.display());
        }
    }
    let scene = args.scene.build()?;
    let (mut task, reward) = args.task.load_for(&scene)?;
    if task.dr.is_none() {
        let default = crate::config::default_configs_dir()
            .join("dr")
            .join("default.toml");
        task.dr = Some(DrConfig::load(&default)?);
    }
    let renderer = Renderer::new(&scene.model, RenderOptions::for_size(w, h))?;
    let camera = renderer.camera_id(args.camera)?;
    let mut env = TaskEnv::try_new(scene, task, reward)?;
    let mut images = Vec::with_capacity(args.seeds);
    let mut samples = Vec::with_capacity(args.seeds);
    let mut frame = Frame::default();
    for k in 0..args.seeds as u64 {
        let seed = args.first_seed + k;
        env.reset(seed);
        let sample = env.dr_sample().copied().unwrap_or_default();
        renderer.render(env.sim(), camera, &sample.appearance, &mut frame)?;
        images.push(frame.rgb.clone());
        samples.push(serde_json::json!({ "seed": seed, "sample": sample }));
    }
    std::fs::create_dir_all(args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let (sw, sh, rgb) = preprocess::contact_sheet(&images, w, h, args.cols, 2);
    preprocess::write_png(&sheet, sw, sh, &rgb)
        .with_context(|| format!("writing {}", sheet.display()))?;
    crate::fsutil::write_atomic(
        &samples_path,
        serde_json::to_string_pretty(&samples)?.as_bytes(),
    )?;
    println!(
        "wrote {} ({} seeds from {}, {} camera at {w}x{h}) and {}",
        sheet.display(),
        args.seeds,
        args.first_seed,
        args.camera,
        samples_path.display()
    );
    Ok(())
}
