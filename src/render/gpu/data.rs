//! Per-frame data for the GPU: every env's view (camera, lights, tile) and every drawable's
//! instance (pose, material, pattern, ids) as the flat words the shader reads, and the readback
//! cut into frames.

use nalgebra::{Matrix3, Matrix4, Vector3};

use super::{GpuRenderer, MAX_LIGHTS, Targets};
use crate::render::camera::CameraModel;
use crate::render::light::Light;
use crate::render::look::{Appearance, Pattern};
use crate::render::scene::{RenderScene, Shape};
use crate::render::{Frame, SegClass};
use crate::sim::Sim;

impl GpuRenderer {
    pub(super) fn push_instances(
        &self,
        out: &mut Vec<f32>,
        sim: &Sim,
        look: &Appearance,
        view: u32,
    ) {
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

    pub(super) fn split(&self, t: &Targets, cols: u32, frames: &mut [Frame]) {
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
                            frame.class[i] = SegClass::Background as u8;
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn push_view(
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
