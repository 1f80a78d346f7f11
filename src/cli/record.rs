//! `so101-lab record`: episodes of the lift task written with the episode recorder, optionally
//! with the rendered camera frames beside each episode (PNGs or a video).

use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{FramesFormat, RecordArgs, RecordPolicy, parse_size};
use crate::episode::{EpisodeRecorder, FrameWriter, header_for, step_record};
use crate::render::{Frame, RenderOptions, Renderer};
use crate::scripted::CartesianPlacePolicy;
use crate::task::TaskEnv;

/// Renders one camera of the env's current state (with its episode's appearance) for datasets.
struct FrameSource {
    renderer: Renderer,
    camera: usize,
    format: FramesFormat,
    frame: Frame,
}

impl FrameSource {
    fn new(args: &RecordArgs, env: &TaskEnv, format: FramesFormat) -> anyhow::Result<Self> {
        let image = env.task().obs.image.as_ref();
        let (w, h) = match (&args.image_size, image) {
            (Some(size), _) => parse_size(size)?,
            (None, Some(i)) => (i.width, i.height),
            (None, None) => (128, 128),
        };
        let camera_name = args
            .camera
            .clone()
            .or_else(|| image.and_then(|i| i.cameras.first().cloned()))
            .unwrap_or_else(|| crate::scene::names::WRIST_CAMERA.to_owned());
        let renderer = Renderer::new(env.sim().model(), RenderOptions::for_size(w, h))?;
        let camera = renderer.camera_id(&camera_name)?;
        Ok(Self {
            renderer,
            camera,
            format,
            frame: Frame::default(),
        })
    }

    fn writer(&self, episode: &Path, fps: f64) -> anyhow::Result<FrameWriter> {
        let (w, h) = (
            self.renderer.options().width,
            self.renderer.options().height,
        );
        let out = match self.format {
            FramesFormat::Png => FrameWriter::png(&episode.with_extension("frames"), w, h),
            FramesFormat::Mp4 => FrameWriter::mp4(&episode.with_extension("mp4"), w, h, fps),
        };
        out.with_context(|| format!("frames of {}", episode.display()))
    }

    fn capture(&mut self, env: &TaskEnv, out: &mut FrameWriter) -> anyhow::Result<()> {
        let look = env.dr_sample().map(|d| d.appearance).unwrap_or_default();
        self.renderer
            .render(env.sim(), self.camera, &look, &mut self.frame)?;
        out.push(&self.frame.rgb)?;
        Ok(())
    }
}

/// Records `args.episodes` episodes into `args.out`.
pub fn run(args: &RecordArgs) -> anyhow::Result<()> {
    let scene = args.scene.build()?;
    let (mut task, reward) = args.task.load_for(&scene)?;
    if let Some(mode) = args.reset {
        task.reset_mode = mode;
    }
    let mut env = TaskEnv::try_new(scene, task, reward)?;
    let mut frames = match args.images {
        Some(format) => Some(FrameSource::new(args, &env, format)?),
        None => None,
    };
    let fps = 1.0 / env.control_dt();
    let policy_name = match args.policy {
        RecordPolicy::Scripted => "scripted",
        RecordPolicy::Random => "random",
    };
    let mut successes = 0;
    for k in 0..args.episodes as u64 {
        let seed = args.seed + k;
        let path = args.out.join(format!("episode_{seed:06}.jsonl"));
        let obs = env.reset(seed);
        let mut rec = EpisodeRecorder::create(&path, &header_for(&env, seed, policy_name, &obs))?;
        let mut writer = match &frames {
            Some(src) => Some(src.writer(&path, fps)?),
            None => None,
        };
        if let (Some(src), Some(w)) = (&mut frames, &mut writer) {
            src.capture(&env, w)?;
        }
        let mut scripted = CartesianPlacePolicy::new();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        let mut ret = 0.0;
        loop {
            let action = match args.policy {
                RecordPolicy::Scripted => scripted.act(&env),
                RecordPolicy::Random => std::array::from_fn(|_| rng.random_range(-1.0..=1.0)),
            };
            let out = env.step(&action);
            ret += out.reward;
            rec.record(&step_record(&env, &action, &out, None))?;
            if let (Some(src), Some(w)) = (&mut frames, &mut writer) {
                src.capture(&env, w)?;
            }
            if out.terminated || out.truncated {
                successes += usize::from(out.info.success);
                println!(
                    "{}: {} steps, return {ret:.2}, {}",
                    path.display(),
                    out.info.step,
                    if out.info.success {
                        "success"
                    } else if out.info.unstable {
                        "unstable"
                    } else {
                        "no success"
                    }
                );
                break;
            }
        }
        rec.finish()?;
        if let Some(w) = writer {
            let written: PathBuf = w.finish()?;
            println!("  frames: {}", written.display());
        }
    }
    println!("{successes}/{} episodes succeeded", args.episodes);
    Ok(())
}
