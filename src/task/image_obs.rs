//! Image observations: `[obs.image]` of the task config and the pipeline that turns camera
//! renders into the stacked `u8` tensor a policy reads. The layout names every channel, so a
//! policy file, an episode header and the app's policy view all say what each plane is.
//!
//! Tensor layout: `[stack * cameras * channels, height, width]`, oldest frame first; per camera
//! `rgb` gives 3 planes (r, g, b), `depth` 1 plane (metres mapped linearly from `depth_range_m`
//! onto 0..255), `segmentation` 1 plane (the [`SegClass`] id).

use serde::{Deserialize, Serialize};

use crate::config::FieldError;
use crate::render::{
    self, Appearance, Frame, RenderBackend, RenderError, RenderOptions, Renderer, SegClass,
};
use crate::sim::Sim;

/// What each camera contributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageChannel {
    /// Colour: three planes.
    Rgb,
    /// Depth along the optical axis, quantised over `depth_range_m`.
    Depth,
    /// Segmentation class per pixel (background, floor, cube, robot, other).
    Segmentation,
}

impl ImageChannel {
    /// Plane names of this channel.
    pub fn planes(self) -> &'static [&'static str] {
        match self {
            ImageChannel::Rgb => &["r", "g", "b"],
            ImageChannel::Depth => &["depth"],
            ImageChannel::Segmentation => &["segmentation"],
        }
    }
}

/// `[obs.image]`: camera images in the observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageObsConfig {
    /// MJCF camera names.
    pub cameras: Vec<String>,
    /// Image width the policy sees, pixels (even).
    pub width: u32,
    /// Image height the policy sees, pixels (even).
    pub height: u32,
    /// Channels per camera.
    pub channels: Vec<ImageChannel>,
    /// Frames stacked (the newest last).
    pub frame_stack: usize,
    /// Keep privileged entries (the cube pose) in the state vector. The real robot has no such
    /// sensor: a policy meant for it uses `false`.
    pub privileged_state: bool,
    /// Render each camera at its real capture size (the wrist camera's 640x480), then centre-crop
    /// and resize like real images. Off: render the crop directly at the policy's size (the same
    /// field of view, thousands of frames/s).
    pub real_capture: bool,
    /// Depth mapped onto 0..255, metres.
    pub depth_range_m: [f64; 2],
    /// Mesh simplification error, metres (absent = chosen from the image size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh_error_m: Option<f64>,
    /// Who draws: `cpu` (software rasterizer), `gpu` (wgpu), or `auto` (the GPU when there is a
    /// hardware one). Pixels are bit-identical run to run on the same backend.
    pub backend: RenderBackend,
}

impl Default for ImageObsConfig {
    fn default() -> Self {
        Self {
            cameras: vec![crate::scene::names::WRIST_CAMERA.to_owned()],
            width: 84,
            height: 84,
            channels: vec![ImageChannel::Rgb],
            frame_stack: 3,
            privileged_state: false,
            real_capture: false,
            depth_range_m: [0.0, 0.5],
            mesh_error_m: None,
            backend: RenderBackend::Auto,
        }
    }
}

impl ImageObsConfig {
    /// Checks sizes and ranges (camera names need the model: [`ImageObsConfig::check_cameras`]).
    pub fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        let field = |name: &str| format!("{prefix}.{name}");
        for (name, v) in [("width", self.width), ("height", self.height)] {
            if !(2..=1024).contains(&v) || v % 2 != 0 {
                return Err(FieldError {
                    field: field(name),
                    value: v.to_string(),
                    allowed: "an even number of pixels in 2 ..= 1024".into(),
                });
            }
        }
        if self.cameras.is_empty() {
            return Err(FieldError {
                field: field("cameras"),
                value: "[]".into(),
                allowed: "at least one MJCF camera name".into(),
            });
        }
        if self.channels.is_empty() {
            return Err(FieldError {
                field: field("channels"),
                value: "[]".into(),
                allowed: "one or more of \"rgb\", \"depth\", \"segmentation\"".into(),
            });
        }
        crate::config::Check::int_range(&field("frame_stack"), self.frame_stack as i64, 1, 16)?;
        let [lo, hi] = self.depth_range_m;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi && hi <= 100.0) {
            return Err(FieldError {
                field: field("depth_range_m"),
                value: format!("{:?}", self.depth_range_m),
                allowed: "[min, max] with 0 <= min < max <= 100".into(),
            });
        }
        if let Some(e) = self.mesh_error_m {
            crate::config::Check::range(&field("mesh_error_m"), e, 0.0, 0.01)?;
        }
        Ok(())
    }

    /// The mesh simplification error its renderer draws with, metres: `mesh_error_m` when set,
    /// else chosen for the policy's image size (also with `real_capture`: the capture is
    /// downsampled to that size). The app's decimated meshes use the default config's.
    pub fn render_mesh_error_m(&self) -> f64 {
        self.mesh_error_m
            .unwrap_or_else(|| RenderOptions::for_size(self.width, self.height).mesh_error_m)
    }

    /// Every camera name must exist in `model`; the error lists the cameras there are.
    pub fn check_cameras(
        &self,
        model: &mujoco_rs::prelude::MjModel,
        prefix: &str,
    ) -> Result<(), FieldError> {
        use mujoco_rs::prelude::MjtObjBase;
        for (i, name) in self.cameras.iter().enumerate() {
            if model.name_to_id(MjtObjBase::mjOBJ_CAMERA, name).is_none() {
                let available: Vec<&str> = (0..model.ffi().ncam as usize)
                    .filter_map(|c| model.id_to_name(MjtObjBase::mjOBJ_CAMERA, c))
                    .collect();
                return Err(FieldError {
                    field: format!("{prefix}.cameras[{i}]"),
                    value: format!("\"{name}\" (no such camera)"),
                    allowed: format!("a camera of the scene: {}", available.join(", ")),
                });
            }
        }
        Ok(())
    }

    /// Planes per time step over all cameras.
    pub fn planes_per_step(&self) -> usize {
        self.cameras.len()
            * self
                .channels
                .iter()
                .map(|c| c.planes().len())
                .sum::<usize>()
    }

    /// The layout of the observation tensor.
    pub fn spec(&self) -> ImageSpec {
        let mut planes = Vec::new();
        for t in (0..self.frame_stack).rev() {
            for cam in &self.cameras {
                for ch in &self.channels {
                    for p in ch.planes() {
                        planes.push(format!("{cam}/{p}@t-{t}"));
                    }
                }
            }
        }
        ImageSpec {
            cameras: self.cameras.clone(),
            width: self.width,
            height: self.height,
            channels: self.channels.clone(),
            frame_stack: self.frame_stack,
            planes,
            depth_range_m: self.depth_range_m,
            real_capture: self.real_capture,
        }
    }
}

/// The layout of an image observation, as stored in episode headers and policy files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSpec {
    /// Cameras, in tensor order.
    pub cameras: Vec<String>,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Channels per camera.
    pub channels: Vec<ImageChannel>,
    /// Frames stacked.
    pub frame_stack: usize,
    /// Name of every plane, `camera/plane@t-k` (k = 0 is the newest), in tensor order.
    pub planes: Vec<String>,
    /// Depth range mapped onto 0..255, metres.
    pub depth_range_m: [f64; 2],
    /// Rendered at the real capture size, then cropped and resized.
    pub real_capture: bool,
}

impl ImageSpec {
    /// Bytes of one observation.
    pub fn len(&self) -> usize {
        self.planes.len() * (self.width * self.height) as usize
    }

    /// True for an empty layout.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Renders, preprocesses and stacks the images of one env.
#[derive(Debug, Clone)]
pub struct ImagePipeline {
    config: ImageObsConfig,
    renderer: Renderer,
    cameras: Vec<usize>,
    /// The latest full-precision frame per camera, at the policy's size.
    frames: Vec<Frame>,
    capture: Frame,
    /// The stacked tensor, oldest first.
    stacked: Vec<u8>,
    look: Appearance,
}

fn capture_size(sim: &Sim, config: &ImageObsConfig) -> (u32, u32) {
    if config.real_capture {
        sim.scene()
            .config
            .wrist_camera
            .as_ref()
            .map_or((640, 480), |w| (w.capture_width, w.capture_height))
    } else {
        (config.width, config.height)
    }
}

impl ImagePipeline {
    /// A pipeline for `config` over the scene of `sim`.
    pub fn new(sim: &Sim, config: &ImageObsConfig) -> Result<Self, RenderError> {
        let (w, h) = capture_size(sim, config);
        let mut options = RenderOptions::for_size(w, h).with_backend(config.backend);
        options.mesh_error_m = config.render_mesh_error_m();
        let renderer = Renderer::new(sim.model(), options)?;
        let cameras = config
            .cameras
            .iter()
            .map(|c| renderer.camera_id(c))
            .collect::<Result<Vec<_>, _>>()?;
        let n = config.spec().len();
        Ok(Self {
            frames: vec![Frame::default(); cameras.len()],
            capture: Frame::default(),
            stacked: vec![0; n],
            cameras,
            renderer,
            config: config.clone(),
            look: Appearance::default(),
        })
    }

    /// The config.
    pub fn config(&self) -> &ImageObsConfig {
        &self.config
    }

    /// The appearance used from now on (domain randomisation sets it per episode).
    pub fn set_look(&mut self, look: Appearance) {
        self.look = look;
    }

    /// The appearance in use.
    pub fn look(&self) -> &Appearance {
        &self.look
    }

    /// The renderer.
    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// The stacked observation tensor.
    pub fn observation(&self) -> &[u8] {
        &self.stacked
    }

    /// The latest full-precision frame of each camera (colour, depth, segmentation, geom ids)
    /// at the policy's size.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The MJCF camera ids, in layout order.
    pub fn camera_ids(&self) -> &[usize] {
        &self.cameras
    }

    /// Renders every camera of the current state of `sim`. `fresh` starts a new episode: the
    /// stack is filled with copies of this first frame.
    pub fn capture(&mut self, sim: &Sim, fresh: bool) -> Result<(), RenderError> {
        for k in 0..self.cameras.len() {
            if self.config.real_capture {
                self.renderer
                    .render(sim, self.cameras[k], &self.look, &mut self.capture)?;
                downsample(
                    &self.capture,
                    self.config.width,
                    self.config.height,
                    &mut self.frames[k],
                );
            } else {
                self.renderer
                    .render(sim, self.cameras[k], &self.look, &mut self.frames[k])?;
            }
        }
        self.push_frames(fresh);
        Ok(())
    }

    /// Takes frames rendered elsewhere (a batch of envs on the GPU), one per camera at the
    /// renderer's size, then preprocesses and stacks them as `capture` would.
    pub fn ingest(&mut self, rendered: &[Frame], fresh: bool) {
        for (k, frame) in rendered.iter().enumerate().take(self.frames.len()) {
            if self.config.real_capture {
                downsample(
                    frame,
                    self.config.width,
                    self.config.height,
                    &mut self.frames[k],
                );
            } else {
                self.frames[k].clone_from(frame);
            }
        }
        self.push_frames(fresh);
    }

    fn push_frames(&mut self, fresh: bool) {
        let step =
            self.config.planes_per_step() * (self.config.width * self.config.height) as usize;
        if fresh {
            let newest = self.encode();
            for chunk in self.stacked.chunks_exact_mut(step) {
                chunk.copy_from_slice(&newest);
            }
        } else {
            self.stacked.copy_within(step.., 0);
            let newest = self.encode();
            let len = self.stacked.len();
            self.stacked[len - step..].copy_from_slice(&newest);
        }
    }

    /// The planes of the latest frames, in layout order.
    fn encode(&self) -> Vec<u8> {
        let hw = (self.config.width * self.config.height) as usize;
        let mut out = Vec::with_capacity(self.config.planes_per_step() * hw);
        let [lo, hi] = self.config.depth_range_m;
        for frame in &self.frames {
            for ch in &self.config.channels {
                match ch {
                    ImageChannel::Rgb => {
                        for c in 0..3 {
                            out.extend(frame.rgb.iter().skip(c).step_by(3));
                        }
                    }
                    ImageChannel::Depth => out.extend(frame.depth.iter().map(|&d| {
                        ((f64::from(d) - lo) / (hi - lo) * 255.0)
                            .round()
                            .clamp(0.0, 255.0) as u8
                    })),
                    ImageChannel::Segmentation => out.extend_from_slice(&frame.class),
                }
            }
        }
        out
    }
}

/// The real camera's preprocessing applied to a rendered capture: centre crop to the output
/// aspect, area-averaged colour, nearest-sample depth and labels.
fn downsample(capture: &Frame, w: u32, h: u32, out: &mut Frame) {
    let (cw, ch) = (capture.width, capture.height);
    out.width = w;
    out.height = h;
    out.rgb = render::preprocess::centre_crop_resize(&capture.rgb, cw, ch, w, h);
    out.depth = render::preprocess::centre_crop_nearest(&capture.depth, cw, ch, w, h);
    out.geom = render::preprocess::centre_crop_nearest(&capture.geom, cw, ch, w, h);
    out.class = render::preprocess::centre_crop_nearest(&capture.class, cw, ch, w, h);
}

/// Plane names of the segmentation classes, for legends.
pub fn class_names() -> Vec<&'static str> {
    SegClass::ALL.iter().map(|c| c.name()).collect()
}
