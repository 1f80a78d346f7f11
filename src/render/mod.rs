//! Headless rendering of any MJCF camera of a `Sim` state: RGB (u8), depth in metres (f32) and
//! segmentation (class and geom id per pixel), for image observations, datasets and tests. No
//! window, no GL, no GPU needed: a deterministic software rasterizer over the compiled model's
//! own geometry (decimated meshes for small images), MuJoCo's camera conventions and its
//! light model (headlight, spot and directional lights, material specular). The same state and
//! appearance give the same pixels, bit for bit, on every run.
//!
//! Why not MuJoCo's renderer: on Mesa's software GL it draws the wrist view at 8 frames/s (37
//! with shadows off), while this draws 84x84 at thousands per second on one core (`so101-lab
//! bench render`).

mod camera;
pub mod canvas;
mod draw;
#[cfg(feature = "gpu")]
pub mod gpu;
mod light;
mod lod;
mod look;
mod mesh;
mod plane;
pub mod preprocess;
mod raster;
mod scene;
mod scratch;

pub use camera::{CameraJitter, CameraModel, fit_points};
pub use lod::{RenderMesh, render_mesh};
pub use look::{Appearance, Pattern, Surface};

use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::sim::Sim;
use scene::RenderScene;

/// What a pixel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum SegClass {
    /// Nothing (sky).
    Background = 0,
    /// The floor plane.
    Floor = 1,
    /// The cube.
    Cube = 2,
    /// Any part of the arm or gripper.
    Robot = 3,
    /// Any other geom.
    Other = 4,
}

impl SegClass {
    /// Every class, in id order.
    pub const ALL: [SegClass; 5] = [
        SegClass::Background,
        SegClass::Floor,
        SegClass::Cube,
        SegClass::Robot,
        SegClass::Other,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            SegClass::Background => "background",
            SegClass::Floor => "floor",
            SegClass::Cube => "cube",
            SegClass::Robot => "robot",
            SegClass::Other => "other",
        }
    }
}

/// Why rendering could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// No camera of that name in the model.
    #[error("unknown camera `{name}` (the scene has: {available})")]
    UnknownCamera {
        /// The name asked for.
        name: String,
        /// The cameras the model has.
        available: String,
    },
    /// Width or height out of range.
    #[error("image size {width}x{height} is invalid (each side 1..=4096)")]
    BadSize {
        /// Width asked for.
        width: u32,
        /// Height asked for.
        height: u32,
    },
    /// The GPU path could not start or failed.
    #[error("GPU rendering: {0}")]
    Gpu(String),
    /// The simulation runs another model than the renderer was built for.
    #[error("the simulation's model has {got} geoms, the renderer was built for {expected}")]
    ModelMismatch {
        /// Geoms of the renderer's model.
        expected: usize,
        /// Geoms of the simulation's model.
        got: usize,
    },
}

/// Which implementation draws the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RenderBackend {
    /// The software rasterizer (any machine; deterministic; fastest without a GPU).
    Cpu,
    /// wgpu: the GPU when there is one (feature `gpu`), else a CPU Vulkan (slow).
    Gpu,
    /// The GPU when wgpu finds a hardware adapter, else the software rasterizer.
    #[default]
    Auto,
}

/// Settings fixed when a renderer is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Mesh simplification error, metres (0 = MuJoCo's full meshes).
    pub mesh_error_m: f64,
    /// Visible geom groups (MuJoCo's default: 0, 1, 2).
    pub groups: [bool; 6],
    /// Skip triangles facing away from the camera (the meshes are closed).
    pub cull_back_faces: bool,
    /// Which implementation draws.
    pub backend: RenderBackend,
}

impl RenderOptions {
    /// Defaults for an image of this size: MuJoCo's visible groups, and meshes simplified to a
    /// third of the footprint of one pixel seen 5 cm away through a 70 degree lens (the wrist
    /// camera's closest view of the jaws).
    pub fn for_size(width: u32, height: u32) -> Self {
        let pixel_at_5cm = 0.05 * 2.0 * 35f64.to_radians().tan() / f64::from(height.max(1));
        Self {
            width,
            height,
            mesh_error_m: (pixel_at_5cm / 3.0).clamp(2e-5, 2e-3),
            groups: crate::scene::visual::DEFAULT_VISIBLE_GROUPS,
            cull_back_faces: true,
            backend: RenderBackend::Cpu,
        }
    }

    /// The same, drawn by `backend`.
    pub fn with_backend(mut self, backend: RenderBackend) -> Self {
        self.backend = backend;
        self
    }

    /// The same, with MuJoCo's full meshes.
    pub fn full_meshes(mut self) -> Self {
        self.mesh_error_m = 0.0;
        self
    }

    fn validate(&self) -> Result<(), RenderError> {
        let ok = |v: u32| (1..=4096).contains(&v);
        if ok(self.width) && ok(self.height) {
            Ok(())
        } else {
            Err(RenderError::BadSize {
                width: self.width,
                height: self.height,
            })
        }
    }
}

/// One rendered image with its depth and segmentation. Row-major, row 0 at the top.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Colour, 3 bytes per pixel (RGB).
    pub rgb: Vec<u8>,
    /// Distance along the optical axis, metres; the far clip distance where nothing is hit.
    pub depth: Vec<f32>,
    /// Geom id per pixel, -1 where nothing is hit.
    pub geom: Vec<i32>,
    /// [`SegClass`] per pixel, as its `u8`.
    pub class: Vec<u8>,
    target: raster::Target,
    scratch: scratch::Scratch,
}

impl Frame {
    /// Pixel index of (column, row).
    pub fn index(&self, col: u32, row: u32) -> usize {
        row as usize * self.width as usize + col as usize
    }

    /// The class at (column, row).
    pub fn class_at(&self, col: u32, row: u32) -> SegClass {
        SegClass::ALL
            .get(self.class[self.index(col, row)] as usize)
            .copied()
            .unwrap_or(SegClass::Other)
    }

    /// A 64-bit fingerprint of the colour, depth and segmentation (for bitwise comparisons that
    /// do not keep the images).
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.width, self.height).hash(&mut h);
        self.rgb.hash(&mut h);
        for d in &self.depth {
            d.to_bits().hash(&mut h);
        }
        self.geom.hash(&mut h);
        h.finish()
    }
}

/// A renderer for one compiled model at one image size. Cheap to clone (shared static data);
/// `render` takes `&self`, so one renderer serves every thread.
#[derive(Debug, Clone)]
pub struct Renderer {
    scene: Arc<RenderScene>,
    options: RenderOptions,
    #[cfg(feature = "gpu")]
    gpu: Option<Arc<gpu::GpuRenderer>>,
}

impl Renderer {
    /// Reads the drawables, lights and cameras of `model`. Meshes are simplified once per
    /// process and shared.
    pub fn new(
        model: &mujoco_rs::prelude::MjModel,
        options: RenderOptions,
    ) -> Result<Self, RenderError> {
        options.validate()?;
        let scene = Arc::new(RenderScene::build(model, &options)?);
        #[cfg(feature = "gpu")]
        let gpu = match options.backend {
            RenderBackend::Cpu => None,
            RenderBackend::Gpu => Some(Arc::new(gpu::GpuRenderer::new(
                Arc::clone(&scene),
                options.width,
                options.height,
            )?)),
            RenderBackend::Auto if !gpu::gpu_device_present() => None,
            RenderBackend::Auto => match gpu::GpuContext::shared() {
                Ok(ctx) if !ctx.is_software => {
                    gpu::GpuRenderer::new(Arc::clone(&scene), options.width, options.height)
                        .ok()
                        .map(Arc::new)
                }
                _ => None,
            },
        };
        #[cfg(not(feature = "gpu"))]
        if options.backend == RenderBackend::Gpu {
            return Err(RenderError::Gpu(
                "this build has no GPU path (build with the `gpu` feature)".into(),
            ));
        }
        Ok(Self {
            scene,
            options,
            #[cfg(feature = "gpu")]
            gpu,
        })
    }

    /// What draws: `cpu`, or `gpu: <adapter>`.
    pub fn backend_name(&self) -> String {
        #[cfg(feature = "gpu")]
        if let Some(g) = &self.gpu {
            return format!("gpu: {}", g.adapter());
        }
        "cpu: software rasterizer".to_owned()
    }

    /// True when frames are drawn on the GPU (batches are one submission).
    pub fn is_gpu(&self) -> bool {
        #[cfg(feature = "gpu")]
        return self.gpu.is_some();
        #[cfg(not(feature = "gpu"))]
        false
    }

    /// The options the renderer was built with.
    pub fn options(&self) -> &RenderOptions {
        &self.options
    }

    /// Triangles drawn per frame before culling (meshes after simplification).
    pub fn triangles(&self) -> usize {
        self.scene.triangles
    }

    /// The id of a named camera, or an error listing the cameras there are.
    pub fn camera_id(&self, name: &str) -> Result<usize, RenderError> {
        self.scene
            .cameras
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
            .ok_or_else(|| RenderError::UnknownCamera {
                name: name.to_owned(),
                available: self
                    .scene
                    .cameras
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The segmentation class of every geom id.
    pub fn geom_classes(&self) -> &[SegClass] {
        &self.scene.geom_class
    }

    /// The camera model of MJCF camera `camera` in the current state of `sim`, at this
    /// renderer's size, moved by `jitter`.
    pub fn camera_model(&self, sim: &Sim, camera: usize, jitter: &CameraJitter) -> CameraModel {
        let data = sim.data();
        let xmat = data.cam_xmat()[camera];
        CameraModel {
            pos: nalgebra::Vector3::from(data.cam_xpos()[camera]),
            rot: nalgebra::Matrix3::from_row_slice(&xmat),
            fovy_deg: sim.model().cam_fovy()[camera],
            width: self.options.width,
            height: self.options.height,
            znear: self.scene.znear,
            zfar: self.scene.zfar,
        }
        .jittered(jitter)
    }

    /// Renders camera `camera` of the current state of `sim` into `frame`.
    pub fn render(
        &self,
        sim: &Sim,
        camera: usize,
        look: &Appearance,
        frame: &mut Frame,
    ) -> Result<(), RenderError> {
        self.check_model(sim)?;
        let cam = self.camera_model(sim, camera, &look.camera);
        self.render_view(sim, &cam, look, frame)
    }

    fn check_model(&self, sim: &Sim) -> Result<(), RenderError> {
        let ngeom = sim.model().ffi().ngeom as usize;
        if ngeom != self.scene.ngeom {
            return Err(RenderError::ModelMismatch {
                expected: self.scene.ngeom,
                got: ngeom,
            });
        }
        Ok(())
    }

    /// Renders the current state of `sim` through a free camera `cam` (e.g.
    /// [`CameraModel::framing`]) at this renderer's size, with the scene's clipping planes.
    pub fn render_view(
        &self,
        sim: &Sim,
        cam: &CameraModel,
        look: &Appearance,
        frame: &mut Frame,
    ) -> Result<(), RenderError> {
        self.check_model(sim)?;
        let cam = CameraModel {
            znear: self.scene.znear,
            zfar: self.scene.zfar,
            ..cam.with_size(self.options.width, self.options.height)
        };
        #[cfg(feature = "gpu")]
        if let Some(g) = &self.gpu {
            return g.render_batch(&[cam], &[sim], &[*look], std::slice::from_mut(frame));
        }
        draw::draw(
            &self.scene,
            sim,
            &cam,
            look,
            self.options.cull_back_faces,
            frame,
        );
        Ok(())
    }

    /// Renders one frame per simulation (same camera) on the rayon pool: the batch path of
    /// `VecEnv` and `bench render`.
    pub fn render_batch(
        &self,
        sims: &[&Sim],
        camera: usize,
        looks: &[Appearance],
        frames: &mut [Frame],
    ) -> Result<(), RenderError> {
        #[cfg(feature = "gpu")]
        if let Some(g) = &self.gpu {
            for sim in sims {
                self.check_model(sim)?;
            }
            let cams: Vec<CameraModel> = sims
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let jitter = looks.get(i).map(|l| l.camera).unwrap_or_default();
                    self.camera_model(s, camera, &jitter)
                })
                .collect();
            return g.render_batch(&cams, sims, looks, frames);
        }
        frames
            .par_iter_mut()
            .zip(sims.par_iter())
            .enumerate()
            .try_for_each(|(i, (frame, sim))| {
                let look = looks.get(i).copied().unwrap_or_default();
                self.render(sim, camera, &look, frame)
            })
    }
}
