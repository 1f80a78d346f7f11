//! The GPU path of the renderer (feature `gpu`): the same drawables, cameras and light model on
//! wgpu, a batch of envs drawn as tiles of one atlas in one render pass, colour, depth and geom
//! ids read back into [`Frame`]s. On a machine with a GPU it uses it; without one wgpu finds
//! Mesa's lavapipe (a CPU Vulkan), which works but is slower than the software rasterizer, so
//! [`super::RenderBackend::Auto`] only picks this path when the adapter is real hardware.
//! Lighting is per fragment here and per vertex in the software rasterizer, so the two backends
//! differ by shading details, not by geometry; each is deterministic on its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use nalgebra::{Matrix3, Matrix4, Vector3};
use wgpu::util::DeviceExt;

use super::camera::CameraModel;
use super::draw::{Light, world_lights};
use super::look::{Appearance, Pattern};
use super::scene::{RenderScene, Shape};
use super::{Frame, RenderError, RenderMesh};
use crate::sim::Sim;

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
        let vertices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("render-obs vertices"),
            contents: bytemuck::cast_slice(&verts),
            usage: wgpu::BufferUsages::VERTEX,
        });
        let indices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("render-obs indices"),
            contents: bytemuck::cast_slice(&idx),
            usage: wgpu::BufferUsages::INDEX,
        });
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
        let device = &self.ctx.device;
        let views = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("render-obs views"),
            contents: bytemuck::cast_slice(&view_words),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let instances = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("render-obs instances"),
            contents: bytemuck::cast_slice(&inst_words),
            usage: wgpu::BufferUsages::STORAGE,
        });
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

    fn push_instances(&self, out: &mut Vec<f32>, sim: &Sim, look: &Appearance, view: u32) {
        let data = sim.data();
        for (d, drawable) in self.scene.drawables.iter().enumerate() {
            let rot = Matrix3::from_row_slice(&data.geom_xmat()[drawable.geom]);
            let pos = Vector3::from(data.geom_xpos()[drawable.geom]);
            let scale = match drawable.shape {
                Shape::ScaledBox => Vector3::from(sim.model().geom_size()[drawable.geom]),
                _ => Vector3::repeat(1.0),
            };
            let mut model = Matrix4::identity();
            model
                .fixed_view_mut::<3, 3>(0, 0)
                .copy_from(&(rot * Matrix3::from_diagonal(&scale)));
            model.fixed_view_mut::<3, 1>(0, 3).copy_from(&pos);
            let mut r4 = Matrix4::identity();
            r4.fixed_view_mut::<3, 3>(0, 0).copy_from(&rot);
            // Column-major, as WGSL matrices are.
            out.extend(model.iter().map(|&v| v as f32));
            out.extend(r4.iter().map(|&v| v as f32));
            let surface = if drawable.is_cube {
                look.cube
            } else if drawable.is_floor {
                look.floor
            } else {
                None
            };
            let rgb = surface.map_or(drawable.rgb, |s| s.rgb);
            let (kind, size, pattern, seed) = match surface.map(|s| s.pattern) {
                Some(Pattern::Plain) => (0.0, 0.0, [0.0; 3], 0),
                Some(Pattern::Checker { rgb2, size_m }) => (2.0, size_m, rgb2, 0),
                Some(Pattern::Noise {
                    amplitude,
                    scale_m,
                    seed,
                }) => (3.0, scale_m, [amplitude, 0.0, 0.0], seed),
                None if drawable.texture.is_some() => (1.0, 0.0, [0.0; 3], 0),
                None => (0.0, 0.0, [0.0; 3], 0),
            };
            let tex = drawable.texture.as_ref();
            let half = match drawable.shape {
                Shape::Plane { half } => half,
                _ => [0.0; 2],
            };
            out.extend_from_slice(&[rgb[0], rgb[1], rgb[2], drawable.emission]);
            out.extend_from_slice(&[drawable.specular, drawable.shininess as f32, kind, size]);
            out.extend_from_slice(&[pattern[0], pattern[1], pattern[2], 0.0]);
            out.extend_from_slice(&[
                scale.x as f32,
                scale.y as f32,
                scale.z as f32,
                if tex.is_some_and(|t| t.uniform) {
                    1.0
                } else {
                    0.0
                },
            ]);
            let rep = tex.map_or([1.0, 1.0], |t| t.repeat);
            out.extend_from_slice(&[rep[0], rep[1], half[0], half[1]]);
            out.extend_from_slice(&[
                f32::from_bits(d as u32 + 1),
                f32::from_bits(view),
                f32::from_bits(seed),
                0.0,
            ]);
        }
    }

    fn split(&self, t: &Targets, cols: u32, frames: &mut [Frame]) {
        let color = t.readback[0].slice(..).get_mapped_range();
        let depth = t.readback[1].slice(..).get_mapped_range();
        let owner = t.readback[2].slice(..).get_mapped_range();
        let (w, h) = (self.width as usize, self.height as usize);
        for (e, frame) in frames.iter_mut().enumerate() {
            let (ox, oy) = (
                (e as u32 % cols) as usize * w,
                (e as u32 / cols) as usize * h,
            );
            frame.width = self.width;
            frame.height = self.height;
            frame.rgb.resize(3 * w * h, 0);
            frame.depth.resize(w * h, 0.0);
            frame.geom.resize(w * h, -1);
            frame.class.resize(w * h, 0);
            for y in 0..h {
                for x in 0..w {
                    let i = y * w + x;
                    let c = (oy + y) * t.padded_rows[0] as usize + 4 * (ox + x);
                    frame.rgb[3 * i..3 * i + 3].copy_from_slice(&color[c..c + 3]);
                    let dpos = (oy + y) * t.padded_rows[1] as usize + 4 * (ox + x);
                    frame.depth[i] = f32::from_le_bytes([
                        depth[dpos],
                        depth[dpos + 1],
                        depth[dpos + 2],
                        depth[dpos + 3],
                    ]);
                    let opos = (oy + y) * t.padded_rows[2] as usize + 4 * (ox + x);
                    let o = u32::from_le_bytes([
                        owner[opos],
                        owner[opos + 1],
                        owner[opos + 2],
                        owner[opos + 3],
                    ]);
                    match o
                        .checked_sub(1)
                        .and_then(|d| self.scene.drawables.get(d as usize))
                    {
                        Some(d) => {
                            frame.geom[i] = d.geom as i32;
                            frame.class[i] = d.class as u8;
                        }
                        None => {
                            frame.geom[i] = -1;
                            frame.class[i] = super::SegClass::Background as u8;
                        }
                    }
                }
            }
        }
    }
}

fn push_view(
    out: &mut Vec<f32>,
    scene: &RenderScene,
    cam: &CameraModel,
    lights: &[Light],
    tile: (u32, u32),
) {
    // View: world -> camera frame; projection: MuJoCo's fovy, wgpu's 0..1 depth range.
    let rt = cam.rot.transpose();
    let mut view = Matrix4::identity();
    view.fixed_view_mut::<3, 3>(0, 0).copy_from(&rt);
    view.fixed_view_mut::<3, 1>(0, 3)
        .copy_from(&(-rt * cam.pos));
    let f = 1.0 / (0.5 * cam.fovy_deg.to_radians()).tan();
    let aspect = f64::from(cam.width) / f64::from(cam.height);
    let (near, far) = (cam.znear, cam.zfar);
    let mut proj = Matrix4::zeros();
    proj[(0, 0)] = f / aspect;
    proj[(1, 1)] = f;
    proj[(2, 2)] = far / (near - far);
    proj[(2, 3)] = near * far / (near - far);
    proj[(3, 2)] = -1.0;
    out.extend((proj * view).iter().map(|&v| v as f32));
    let v4 = |v: Vector3<f64>, w: f32| [v.x as f32, v.y as f32, v.z as f32, w];
    let count = lights.len().min(MAX_LIGHTS);
    out.extend_from_slice(&v4(cam.pos, count as f32));
    out.extend_from_slice(&v4(cam.rot.column(0).into_owned(), 0.0));
    out.extend_from_slice(&v4(cam.rot.column(1).into_owned(), 0.0));
    out.extend_from_slice(&v4(cam.rot.column(2).into_owned(), 0.0));
    out.extend_from_slice(&[
        tile.0 as f32,
        tile.1 as f32,
        cam.width as f32,
        cam.height as f32,
    ]);
    let (cx, cy) = cam.centre_px();
    out.extend_from_slice(&[cam.focal_px() as f32, cx as f32, cy as f32, cam.zfar as f32]);
    out.extend_from_slice(&[scene.sky_top[0], scene.sky_top[1], scene.sky_top[2], 0.0]);
    out.extend_from_slice(&[
        scene.sky_bottom[0],
        scene.sky_bottom[1],
        scene.sky_bottom[2],
        0.0,
    ]);
    for l in 0..MAX_LIGHTS {
        match lights.get(l) {
            Some(l) => {
                let s = &l.spec;
                out.extend_from_slice(&[
                    l.at[0],
                    l.at[1],
                    l.at[2],
                    if s.directional { 1.0 } else { 0.0 },
                ]);
                out.extend_from_slice(&[
                    l.axis[0],
                    l.axis[1],
                    l.axis[2],
                    if s.spot { 1.0 } else { 0.0 },
                ]);
                out.extend_from_slice(&[s.ambient[0], s.ambient[1], s.ambient[2], s.cos_cutoff]);
                out.extend_from_slice(&[
                    s.diffuse[0],
                    s.diffuse[1],
                    s.diffuse[2],
                    s.exponent as f32,
                ]);
                out.extend_from_slice(&[s.specular[0], s.specular[1], s.specular[2], 0.0]);
                out.extend_from_slice(&[s.attenuation[0], s.attenuation[1], s.attenuation[2], 0.0]);
            }
            None => out.extend_from_slice(&[0.0; 24]),
        }
    }
}

fn model_texture(ctx: &GpuContext, scene: &RenderScene) -> (wgpu::TextureView, wgpu::Sampler) {
    let tex = scene.drawables.iter().find_map(|d| d.texture.as_ref());
    let (w, h, rgba) = match tex {
        Some(t) => (
            t.width as u32,
            t.height as u32,
            t.rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect::<Vec<u8>>(),
        ),
        None => (1, 1, vec![255u8; 4]),
    };
    let texture = ctx.device.create_texture_with_data(
        &ctx.queue,
        &wgpu::TextureDescriptor {
            label: Some("render-obs model texture"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        },
        wgpu::util::TextureDataOrder::LayerMajor,
        &rgba,
    );
    let sampler = ctx
        .device
        .create_sampler(&wgpu::SamplerDescriptor::default());
    (texture.create_view(&Default::default()), sampler)
}

fn bind_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    let storage = |binding| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only: true },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("render-obs layout"),
        entries: &[
            storage(0),
            storage(1),
            wgpu::BindGroupLayoutEntry {
                binding: 2,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Texture {
                    sample_type: wgpu::TextureSampleType::Float { filterable: false },
                    view_dimension: wgpu::TextureViewDimension::D2,
                    multisampled: false,
                },
                count: None,
            },
            wgpu::BindGroupLayoutEntry {
                binding: 3,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::NonFiltering),
                count: None,
            },
        ],
    })
}

fn pipelines(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
) -> (wgpu::RenderPipeline, wgpu::RenderPipeline) {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("render_obs.wgsl"),
        source: wgpu::ShaderSource::Wgsl(include_str!("../../shaders/render_obs.wgsl").into()),
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("render-obs"),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    let targets = [
        Some(wgpu::ColorTargetState::from(COLOR)),
        Some(wgpu::ColorTargetState::from(DEPTH_OUT)),
        Some(wgpu::ColorTargetState::from(OWNER)),
    ];
    let attributes = wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3];
    let vertex_layout = wgpu::VertexBufferLayout {
        array_stride: 24,
        step_mode: wgpu::VertexStepMode::Vertex,
        attributes: &attributes,
    };
    let make = |vs: &str,
                fs: &str,
                buffers: &[wgpu::VertexBufferLayout<'_>],
                depth_write: bool,
                cull: Option<wgpu::Face>| {
        device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some(vs),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some(vs),
                compilation_options: Default::default(),
                buffers,
            },
            primitive: wgpu::PrimitiveState {
                front_face: wgpu::FrontFace::Ccw,
                cull_mode: cull,
                ..Default::default()
            },
            depth_stencil: Some(wgpu::DepthStencilState {
                format: ZBUFFER,
                depth_write_enabled: Some(depth_write),
                depth_compare: Some(if depth_write {
                    wgpu::CompareFunction::Less
                } else {
                    wgpu::CompareFunction::Always
                }),
                stencil: Default::default(),
                bias: Default::default(),
            }),
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some(fs),
                compilation_options: Default::default(),
                targets: &targets,
            }),
            multiview_mask: None,
            cache: None,
        })
    };
    let geometry = make(
        "vs_main",
        "fs_main",
        &[vertex_layout],
        true,
        Some(wgpu::Face::Back),
    );
    let sky = make("vs_sky", "fs_sky", &[], false, None);
    (geometry, sky)
}

fn targets(device: &wgpu::Device, (w, h): (u32, u32)) -> Targets {
    let tex = |format, usage| {
        device.create_texture(&wgpu::TextureDescriptor {
            label: Some("render-obs target"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage,
            view_formats: &[],
        })
    };
    let out = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC;
    let padded =
        (4 * w).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let buffer = || {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("render-obs readback"),
            size: u64::from(padded) * u64::from(h),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        })
    };
    Targets {
        size: (w, h),
        color: tex(COLOR, out),
        depth_out: tex(DEPTH_OUT, out),
        owner: tex(OWNER, out),
        zbuffer: tex(ZBUFFER, wgpu::TextureUsages::RENDER_ATTACHMENT)
            .create_view(&Default::default()),
        readback: [buffer(), buffer(), buffer()],
        padded_rows: [padded; 3],
    }
}

fn copy_out(encoder: &mut wgpu::CommandEncoder, t: &Targets) {
    for (tex, (buf, row)) in [&t.color, &t.depth_out, &t.owner]
        .into_iter()
        .zip(t.readback.iter().zip(t.padded_rows))
    {
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: tex,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: buf,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row),
                    rows_per_image: Some(t.size.1),
                },
            },
            wgpu::Extent3d {
                width: t.size.0,
                height: t.size.1,
                depth_or_array_layers: 1,
            },
        );
    }
}

fn read_back(
    ctx: &GpuContext,
    t: &Targets,
    submission: wgpu::SubmissionIndex,
) -> Result<(), RenderError> {
    let (tx, rx) = std::sync::mpsc::channel();
    for b in &t.readback {
        let tx = tx.clone();
        b.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r.is_ok());
        });
    }
    ctx.device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: None,
        })
        .map_err(|e| RenderError::Gpu(format!("GPU wait failed: {e}")))?;
    for _ in 0..t.readback.len() {
        if !rx.recv().unwrap_or(false) {
            return Err(RenderError::Gpu("mapping a readback buffer failed".into()));
        }
    }
    Ok(())
}
