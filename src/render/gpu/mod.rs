//! The GPU path of the renderer (feature `gpu`): the same drawables, cameras and light model on
//! wgpu, a batch of envs drawn as tiles of one atlas in one render pass, colour, depth and geom
//! ids read back into [`Frame`]s. On a machine with a GPU it uses it; without one wgpu finds
//! Mesa's lavapipe (a CPU Vulkan), which works but is slower than the software rasterizer, so
//! [`super::RenderBackend::Auto`] only picks this path when the adapter is real hardware.
//! Lighting is per fragment here and per vertex in the software rasterizer, so the two backends
//! differ by shading details, not by geometry; each is deterministic on its own.

mod data;
mod setup;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::camera::CameraModel;
use super::light::world_lights;
use super::look::Appearance;
use super::scene::{RenderScene, Shape};
use super::{Frame, RenderError, RenderMesh};
use crate::sim::Sim;
use data::push_view;
use setup::{bind_layout, buffer, copy_out, model_texture, pipelines, read_back, targets};

const MAX_LIGHTS: usize = 8;
/// f32 words per view (see `View` in shaders/render_obs.wgsl).
const VIEW_WORDS: usize = 16 + 4 * 8 + MAX_LIGHTS * 24;
/// f32 words per instance (`Instance`).
const INSTANCE_WORDS: usize = 16 + 16 + 4 * 6;

/// The process's GPU: one device shared by every GPU renderer.
#[derive(Debug)]
pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// Adapter name and type, for reports.
    pub adapter: String,
    /// Whether the adapter is a CPU implementation (lavapipe, llvmpipe, WARP).
    pub is_software: bool,
}

/// Whether this machine may have a GPU at all: on Linux a GPU shows up as a DRM render node or
/// an NVIDIA device file. Without either, `auto` skips the wgpu probe (which would only find a
/// CPU Vulkan, after loading drivers and printing window-system warnings).
pub fn gpu_device_present() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let dri = std::fs::read_dir("/dev/dri").is_ok_and(|mut d| {
        d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("renderD")))
    });
    dri || std::path::Path::new("/dev/nvidia0").exists()
}

impl GpuContext {
    /// The shared context, created on first use; an error when no adapter exists.
    pub fn shared() -> Result<Arc<GpuContext>, RenderError> {
        static CONTEXT: OnceLock<Result<Arc<GpuContext>, String>> = OnceLock::new();
        CONTEXT
            .get_or_init(|| Self::create().map(Arc::new))
            .clone()
            .map_err(RenderError::Gpu)
    }

    fn create() -> Result<Self, String> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
        }))
        .map_err(|e| format!("no GPU adapter: {e}"))?;
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("so101-lab observations"),
            required_features: wgpu::Features::empty(),
            required_limits: wgpu::Limits::default().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| format!("GPU device request failed: {e}"))?;
        Ok(Self {
            device,
            queue,
            adapter: format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend),
            is_software: info.device_type == wgpu::DeviceType::Cpu,
        })
    }
}

/// Where one drawable's triangles are in the shared buffers.
#[derive(Debug, Clone, Copy)]
struct DrawRange {
    first_index: u32,
    count: u32,
    base_vertex: i32,
}

/// Render targets of one atlas size.
#[derive(Debug)]
struct Targets {
    size: (u32, u32),
    color: wgpu::Texture,
    depth_out: wgpu::Texture,
    owner: wgpu::Texture,
    zbuffer: wgpu::TextureView,
    readback: [wgpu::Buffer; 3],
    padded_rows: [u32; 3],
}

/// A renderer on the GPU for one model and image size.
#[derive(Debug)]
pub struct GpuRenderer {
    ctx: Arc<GpuContext>,
    scene: Arc<RenderScene>,
    width: u32,
    height: u32,
    ranges: Vec<DrawRange>,
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    pipeline: wgpu::RenderPipeline,
    sky: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    texture: wgpu::TextureView,
    sampler: wgpu::Sampler,
    targets: Mutex<Option<Targets>>,
}

const COLOR: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH_OUT: wgpu::TextureFormat = wgpu::TextureFormat::R32Float;
const OWNER: wgpu::TextureFormat = wgpu::TextureFormat::R32Uint;
const ZBUFFER: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

fn plane_mesh(half: [f32; 2], far: f32) -> RenderMesh {
    let (hx, hy) = (
        if half[0] > 0.0 { half[0] } else { far },
        if half[1] > 0.0 { half[1] } else { far },
    );
    RenderMesh::new(
        vec![
            [-hx, -hy, 0.0],
            [hx, -hy, 0.0],
            [hx, hy, 0.0],
            [-hx, hy, 0.0],
        ],
        vec![[0.0, 0.0, 1.0]; 4],
        vec![0, 1, 2, 0, 2, 3],
    )
}

impl GpuRenderer {
    pub(crate) fn new(
        scene: Arc<RenderScene>,
        width: u32,
        height: u32,
    ) -> Result<Self, RenderError> {
        let ctx = GpuContext::shared()?;
        let device = &ctx.device;
        // One vertex and index buffer for every mesh; drawables sharing a mesh share its range.
        let mut verts: Vec<f32> = Vec::new();
        let mut idx: Vec<u32> = Vec::new();
        let mut placed: HashMap<*const RenderMesh, DrawRange> = HashMap::new();
        let mut ranges = Vec::with_capacity(scene.drawables.len());
        let place = |mesh: &RenderMesh, verts: &mut Vec<f32>, idx: &mut Vec<u32>| {
            let range = DrawRange {
                first_index: idx.len() as u32,
                count: mesh.indices.len() as u32,
                base_vertex: (verts.len() / 6) as i32,
            };
            for (p, n) in mesh.positions.iter().zip(&mesh.normals) {
                verts.extend_from_slice(p);
                verts.extend_from_slice(n);
            }
            idx.extend_from_slice(&mesh.indices);
            range
        };
        for d in &scene.drawables {
            let range = match &d.shape {
                Shape::Mesh(m) => *placed
                    .entry(Arc::as_ptr(m))
                    .or_insert_with(|| place(m, &mut verts, &mut idx)),
                Shape::ScaledBox => *placed
                    .entry(Arc::as_ptr(&scene.unit_box))
                    .or_insert_with(|| place(&scene.unit_box, &mut verts, &mut idx)),
                Shape::Plane { half } => {
                    place(&plane_mesh(*half, scene.zfar as f32), &mut verts, &mut idx)
                }
            };
            ranges.push(range);
        }
        let vertices = buffer(
            device,
            "render-obs vertices",
            bytemuck::cast_slice(&verts),
            wgpu::BufferUsages::VERTEX,
        );
        let indices = buffer(
            device,
            "render-obs indices",
            bytemuck::cast_slice(&idx),
            wgpu::BufferUsages::INDEX,
        );
        let (texture, sampler) = model_texture(&ctx, &scene);
        let layout = bind_layout(device);
        let (pipeline, sky) = pipelines(device, &layout);
        Ok(Self {
            ctx,
            scene,
            width,
            height,
            ranges,
            vertices,
            indices,
            pipeline,
            sky,
            layout,
            texture,
            sampler,
            targets: Mutex::new(None),
        })
    }

    /// The adapter this renderer runs on.
    pub fn adapter(&self) -> &str {
        &self.ctx.adapter
    }

    /// Renders one frame per (sim, look) as tiles of one atlas, in one submission.
    pub(crate) fn render_batch(
        &self,
        cams: &[CameraModel],
        sims: &[&Sim],
        looks: &[Appearance],
        frames: &mut [Frame],
    ) -> Result<(), RenderError> {
        let n = sims.len().min(frames.len()).min(cams.len());
        if n == 0 {
            return Ok(());
        }
        let max_side = self.ctx.device.limits().max_texture_dimension_2d;
        let cols = ((n as f64).sqrt().ceil() as u32).clamp(1, (max_side / self.width).max(1));
        let rows = (n as u32).div_ceil(cols);
        if rows * self.height > max_side {
            // More envs than one atlas holds: split the batch.
            let half = n / 2;
            let (fa, fb) = frames.split_at_mut(half);
            self.render_batch(
                &cams[..half],
                &sims[..half],
                looks.get(..half).unwrap_or(&[]),
                fa,
            )?;
            return self.render_batch(
                &cams[half..n],
                &sims[half..n],
                looks.get(half..).unwrap_or(&[]),
                fb,
            );
        }
        let atlas = (cols * self.width, rows * self.height);
        let mut guard = self
            .targets
            .lock()
            .map_err(|_| RenderError::Gpu("poisoned".into()))?;
        if guard.as_ref().is_none_or(|t| t.size != atlas) {
            *guard = Some(targets(&self.ctx.device, atlas));
        }
        let Some(t) = guard.as_ref() else {
            return Ok(());
        };
        let (view_words, inst_words) = self.frame_words(cams, sims, looks, n, cols);
        let device = &self.ctx.device;
        let views = buffer(
            device,
            "render-obs views",
            bytemuck::cast_slice(&view_words),
            wgpu::BufferUsages::STORAGE,
        );
        let instances = buffer(
            device,
            "render-obs instances",
            bytemuck::cast_slice(&inst_words),
            wgpu::BufferUsages::STORAGE,
        );
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("render-obs bindings"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: views.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: instances.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(&self.texture),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
            ],
        });
        let mut encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        self.encode_pass(&mut encoder, t, &bind, n, cols);
        copy_out(&mut encoder, t);
        let submission = self.ctx.queue.submit(Some(encoder.finish()));
        read_back(&self.ctx, t, submission)?;
        self.split(t, cols, &mut frames[..n]);
        for b in &t.readback {
            b.unmap();
        }
        Ok(())
    }

    /// Every env's view and every drawable's instance, as the flat words the shader reads.
    fn frame_words(
        &self,
        cams: &[CameraModel],
        sims: &[&Sim],
        looks: &[Appearance],
        n: usize,
        cols: u32,
    ) -> (Vec<f32>, Vec<f32>) {
        let k = self.scene.drawables.len();
        let mut view_words = Vec::with_capacity(n * VIEW_WORDS);
        let mut inst_words = Vec::with_capacity(n * k * INSTANCE_WORDS);
        for e in 0..n {
            let look = looks.get(e).copied().unwrap_or_default();
            let tile = (
                (e as u32 % cols) * self.width,
                (e as u32 / cols) * self.height,
            );
            let lights = world_lights(&self.scene, sims[e], &cams[e], &look);
            push_view(&mut view_words, &self.scene, &cams[e], &lights, tile);
            self.push_instances(&mut inst_words, sims[e], &look, e as u32);
        }
        (view_words, inst_words)
    }

    fn encode_pass(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        t: &Targets,
        bind: &wgpu::BindGroup,
        n: usize,
        cols: u32,
    ) {
        let views = [
            t.color.create_view(&Default::default()),
            t.depth_out.create_view(&Default::default()),
            t.owner.create_view(&Default::default()),
        ];
        fn attachment(view: &wgpu::TextureView) -> Option<wgpu::RenderPassColorAttachment<'_>> {
            Some(wgpu::RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
            })
        }
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("render-obs"),
            color_attachments: &[
                attachment(&views[0]),
                attachment(&views[1]),
                attachment(&views[2]),
            ],
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &t.zbuffer,
                depth_ops: Some(wgpu::Operations {
                    load: wgpu::LoadOp::Clear(1.0),
                    store: wgpu::StoreOp::Discard,
                }),
                stencil_ops: None,
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_bind_group(0, bind, &[]);
        pass.set_vertex_buffer(0, self.vertices.slice(..));
        pass.set_index_buffer(self.indices.slice(..), wgpu::IndexFormat::Uint32);
        let k = self.scene.drawables.len() as u32;
        for e in 0..n as u32 {
            let (x, y) = ((e % cols) * self.width, (e / cols) * self.height);
            pass.set_viewport(
                x as f32,
                y as f32,
                self.width as f32,
                self.height as f32,
                0.0,
                1.0,
            );
            pass.set_scissor_rect(x, y, self.width, self.height);
            pass.set_pipeline(&self.sky);
            pass.draw(0..3, e..e + 1);
            pass.set_pipeline(&self.pipeline);
            for (d, r) in self.ranges.iter().enumerate() {
                let i = e * k + d as u32;
                pass.draw_indexed(
                    r.first_index..r.first_index + r.count,
                    r.base_vertex,
                    i..i + 1,
                );
            }
        }
    }
}
