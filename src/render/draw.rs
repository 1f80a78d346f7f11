//! One frame: planes analytically per pixel, then every mesh through vertex lighting (OpenGL's
//! fixed-function model, which MuJoCo's renderer uses), near-plane clipping and the rasterizer;
//! finally depth, geom ids and classes from the buffers.

use super::camera::CameraModel;
use super::light::world_lights;
use super::look::Appearance;
use super::mesh::draw_mesh;
use super::plane::plane;
use super::raster;
use super::scene::{RenderScene, Shape};
use super::{Frame, SegClass};
use crate::sim::Sim;

/// Draws one frame into `frame` (resized as needed).
pub(crate) fn draw(
    scene: &RenderScene,
    sim: &Sim,
    cam: &CameraModel,
    look: &Appearance,
    cull: bool,
    frame: &mut Frame,
) {
    let (w, h) = (cam.width as usize, cam.height as usize);
    let mut owned = std::mem::take(&mut frame.target);
    let target = &mut owned;
    target.clear(w, h, cam.zfar as f32, [0.0; 3]);
    let lights = world_lights(scene, sim, cam, look);
    let mut local = Vec::with_capacity(lights.len());
    for (k, d) in scene.drawables.iter().enumerate() {
        let surface = if d.is_cube {
            look.cube
        } else if d.is_floor {
            look.floor
        } else {
            None
        };
        match &d.shape {
            Shape::Plane { half } => plane(
                sim,
                cam,
                d,
                *half,
                surface.as_ref(),
                &lights,
                &mut local,
                target,
                k as u32,
            ),
            Shape::Mesh(_) | Shape::ScaledBox => {
                let (mesh, scale) = match &d.shape {
                    Shape::Mesh(mesh) => (&**mesh, [1.0; 3]),
                    _ => (
                        &*scene.unit_box,
                        sim.model().geom_size()[d.geom].map(|v| v as f32),
                    ),
                };
                draw_mesh(
                    sim,
                    cam,
                    d,
                    mesh,
                    scale,
                    surface.as_ref(),
                    &lights,
                    &mut local,
                    cull,
                    &mut frame.scratch,
                    target,
                    k as u32,
                )
            }
        }
    }
    background(scene, cam, target);
    finish(scene, target, frame);
    frame.target = owned;
}

fn background(scene: &RenderScene, cam: &CameraModel, target: &mut raster::Target) {
    // A vertical gradient by the elevation of each pixel's ray, like MuJoCo's gradient skybox;
    // only where nothing was drawn.
    for row in 0..target.height {
        for col in 0..target.width {
            if target.owner[row * target.width + col] != u32::MAX {
                continue;
            }
            let ray = cam.pixel_ray_world(col as f64, row as f64).normalize();
            let t = (0.5 * (ray.z + 1.0)) as f32;
            let c: [f32; 3] = std::array::from_fn(|k| {
                scene.sky_bottom[k] + t * (scene.sky_top[k] - scene.sky_bottom[k])
            });
            target.color[row * target.width + col] = c;
        }
    }
}

fn finish(scene: &RenderScene, target: &raster::Target, frame: &mut Frame) {
    let n = target.width * target.height;
    frame.width = target.width as u32;
    frame.height = target.height as u32;
    frame.rgb.resize(3 * n, 0);
    frame.depth.resize(n, 0.0);
    frame.geom.resize(n, -1);
    frame.class.resize(n, SegClass::Background as u8);
    for i in 0..n {
        for (k, c) in target.color[i].iter().enumerate() {
            frame.rgb[3 * i + k] = (c.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        }
        frame.depth[i] = 1.0 / target.inv_depth[i];
        match scene.drawables.get(target.owner[i] as usize) {
            Some(d) => {
                frame.geom[i] = d.geom as i32;
                frame.class[i] = d.class as u8;
            }
            None => {
                frame.geom[i] = -1;
                frame.class[i] = SegClass::Background as u8;
            }
        }
    }
}
