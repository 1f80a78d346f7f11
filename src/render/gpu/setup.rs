//! GPU resources: buffers, the model texture, the bind group layout, the two pipelines (sky
//! and geometry, from shaders/render_obs.wgsl), render targets, and the copy back to memory.

use wgpu::util::DeviceExt;

use super::{COLOR, DEPTH_OUT, GpuContext, OWNER, Targets, ZBUFFER};
use crate::render::RenderError;
use crate::render::scene::RenderScene;

pub(super) fn buffer(
    device: &wgpu::Device,
    label: &str,
    contents: &[u8],
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents,
        usage,
    })
}

pub(super) fn model_texture(
    ctx: &GpuContext,
    scene: &RenderScene,
) -> (wgpu::TextureView, wgpu::Sampler) {
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

pub(super) fn bind_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
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

pub(super) fn pipelines(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
) -> (wgpu::RenderPipeline, wgpu::RenderPipeline) {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("render_obs.wgsl"),
        source: wgpu::ShaderSource::Wgsl(include_str!("../../../shaders/render_obs.wgsl").into()),
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

pub(super) fn targets(device: &wgpu::Device, (w, h): (u32, u32)) -> Targets {
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

pub(super) fn copy_out(encoder: &mut wgpu::CommandEncoder, t: &Targets) {
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

pub(super) fn read_back(
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
