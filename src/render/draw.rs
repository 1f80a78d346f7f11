//! One frame: planes analytically per pixel, then every mesh through vertex lighting (OpenGL's
//! fixed-function model, which MuJoCo's renderer uses), near-plane clipping and the rasterizer;
//! finally depth, geom ids and classes from the buffers.

use nalgebra::{Matrix3, Rotation3, Vector3};

use super::camera::CameraModel;
use super::look::{Appearance, Surface};
use super::raster::{self, CameraVertex, Projection, ScreenVertex};
use super::scene::{Drawable, LightSpec, PlaneTexture, RenderScene, Shape};
use super::{Frame, SegClass};
use crate::sim::Sim;

/// Reused per-frame buffers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    cam: Vec<CameraVertex>,
    screen: Vec<ScreenVertex>,
    front: Vec<bool>,
    lit: Vec<bool>,
    geom_lights: Vec<GeomLight>,
    poly: Vec<CameraVertex>,
    poly_screen: Vec<ScreenVertex>,
}

/// A light in some frame: direction toward a directional light, or the light's position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Light {
    pub spec: LightSpec,
    /// Directional: unit vector toward the light. Otherwise: the light position.
    pub at: [f32; 3],
    /// Direction the light points (spot axis).
    pub axis: [f32; 3],
}

#[inline]
fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[inline]
fn v3(v: Vector3<f64>) -> [f32; 3] {
    [v.x as f32, v.y as f32, v.z as f32]
}

/// The headlight and the model's lights in world coordinates, with the appearance applied.
pub(crate) fn world_lights(
    scene: &RenderScene,
    sim: &Sim,
    cam: &CameraModel,
    look: &Appearance,
) -> Vec<Light> {
    let data = sim.data();
    let rot = Rotation3::from_scaled_axis(Vector3::from(look.light_rotation_rad));
    let mut out = Vec::with_capacity(scene.lights.len() + 1);
    if let Some((ambient, diffuse, specular)) = scene.headlight {
        let s = look.headlight_scale;
        // The headlight shines along the view direction, so it comes from the camera's +z.
        out.push(Light {
            spec: LightSpec {
                index: usize::MAX,
                directional: true,
                spot: false,
                ambient: ambient.map(|c| c * s),
                diffuse: diffuse.map(|c| c * s),
                specular,
                cos_cutoff: -1.0,
                exponent: 0,
                attenuation: [1.0, 0.0, 0.0],
            },
            at: v3(cam.rot.column(2).into_owned()),
            axis: v3(-cam.rot.column(2).into_owned()),
        });
    }
    for l in &scene.lights {
        let axis = rot * Vector3::from(data.light_xdir()[l.index]);
        let pos = Vector3::from(data.light_xpos()[l.index]);
        let mut spec = *l;
        spec.diffuse = spec.diffuse.map(|c| c * look.light_scale);
        spec.specular = spec.specular.map(|c| c * look.light_scale);
        out.push(Light {
            spec,
            at: if l.directional {
                v3(-axis.normalize())
            } else {
                v3(pos)
            },
            axis: v3(axis.normalize()),
        });
    }
    out
}

/// The lights in a geom's frame (rotation `r`, origin `o`, world -> local = r^T (x - o)).
fn local_lights(lights: &[Light], r: &Matrix3<f64>, o: &Vector3<f64>, out: &mut Vec<Light>) {
    out.clear();
    let rt = r.transpose();
    for l in lights {
        let at = Vector3::new(f64::from(l.at[0]), f64::from(l.at[1]), f64::from(l.at[2]));
        let axis = Vector3::new(
            f64::from(l.axis[0]),
            f64::from(l.axis[1]),
            f64::from(l.axis[2]),
        );
        out.push(Light {
            spec: l.spec,
            at: if l.spec.directional {
                v3(rt * at)
            } else {
                v3(rt * (at - o))
            },
            axis: v3(rt * axis),
        });
    }
}

/// OpenGL fixed-function lighting at point `p` with unit normal `n`, eye at `eye`: returns the
/// factor that multiplies the albedo (ambient + diffuse) and the additive specular colour.
#[inline]
fn light_point(
    p: [f32; 3],
    n: [f32; 3],
    eye: [f32; 3],
    lights: &[Light],
    specular: f32,
    shininess: i32,
) -> ([f32; 3], [f32; 3]) {
    let mut diff = [0.0f32; 3];
    let mut spec = [0.0f32; 3];
    for l in lights {
        let s = &l.spec;
        let (dir, mut k) = if s.directional {
            (l.at, 1.0)
        } else {
            let d = [l.at[0] - p[0], l.at[1] - p[1], l.at[2] - p[2]];
            let dist = dot(d, d).sqrt().max(1e-9);
            let dir = d.map(|c| c / dist);
            let att = s.attenuation[0] + s.attenuation[1] * dist + s.attenuation[2] * dist * dist;
            (dir, 1.0 / att.max(1e-9))
        };
        if s.spot {
            let c = -dot(dir, l.axis);
            if c < s.cos_cutoff {
                continue;
            }
            k *= c.powi(s.exponent);
        }
        let ndl = dot(n, dir).max(0.0);
        for (c, d) in diff.iter_mut().enumerate() {
            *d += k * (s.ambient[c] + s.diffuse[c] * ndl);
        }
        if ndl > 0.0 && specular > 0.0 {
            let v = [eye[0] - p[0], eye[1] - p[1], eye[2] - p[2]];
            let vl = dot(v, v).sqrt().max(1e-9);
            let h = [dir[0] + v[0] / vl, dir[1] + v[1] / vl, dir[2] + v[2] / vl];
            let hl = dot(h, h).sqrt().max(1e-9);
            let ndh = (dot(n, h) / hl).max(0.0);
            let sp = k * specular * ndh.powi(shininess);
            for (c, v) in spec.iter_mut().enumerate() {
                *v += sp * s.specular[c];
            }
        }
    }
    (diff, spec)
}

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
            Shape::Mesh(mesh) => draw_mesh(
                sim,
                cam,
                d,
                mesh,
                [1.0; 3],
                surface.as_ref(),
                &lights,
                &mut local,
                cull,
                &mut frame.scratch,
                target,
                k as u32,
            ),
            Shape::ScaledBox => {
                let s = sim.model().geom_size()[d.geom].map(|v| v as f32);
                draw_mesh(
                    sim,
                    cam,
                    d,
                    &scene.unit_box,
                    s,
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

fn pose(sim: &Sim, geom: usize) -> (Matrix3<f64>, Vector3<f64>) {
    let data = sim.data();
    (
        Matrix3::from_row_slice(&data.geom_xmat()[geom]),
        Vector3::from(data.geom_xpos()[geom]),
    )
}

/// Lighting on a plane varies smoothly (MuJoCo itself lights planes per vertex of a ~0.3 m
/// grid), so it is evaluated every `PLANE_LIGHT_STEP` pixels and interpolated in between.
const PLANE_LIGHT_STEP: usize = 4;

/// The plane's hit point (plane frame x, y) and depth through pixel centre (col, row).
struct PlaneRays {
    n_c: Vector3<f64>,
    num: f64,
    q0: Vector3<f64>,
    q: Matrix3<f64>,
    f: f64,
    cx: f64,
    cy: f64,
    znear: f64,
    zfar: f64,
    half: [f32; 2],
}

impl PlaneRays {
    #[inline]
    fn hit(&self, col: usize, row: usize) -> Option<(f32, f32, f64)> {
        let a = (col as f64 + 0.5 - self.cx) / self.f;
        let b = -(row as f64 + 0.5 - self.cy) / self.f;
        let den = self.n_c.x * a + self.n_c.y * b - self.n_c.z;
        let t = self.num / den;
        if !(t > self.znear && t < self.zfar) {
            return None;
        }
        let hit = self.q0 + t * (self.q * Vector3::new(a, b, -1.0));
        let (x, y) = (hit.x as f32, hit.y as f32);
        let h = self.half;
        if (h[0] > 0.0 && x.abs() > h[0]) || (h[1] > 0.0 && y.abs() > h[1]) {
            return None;
        }
        Some((x, y, t))
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call site, the per-frame state of draw()"
)]
fn plane(
    sim: &Sim,
    cam: &CameraModel,
    d: &Drawable,
    half: [f32; 2],
    surface: Option<&Surface>,
    lights: &[Light],
    local: &mut Vec<Light>,
    target: &mut raster::Target,
    owner: u32,
) {
    let (rg, pg) = pose(sim, d.geom);
    let rct = cam.rot.transpose();
    let n_c = rct * rg.column(2);
    let num = n_c.dot(&(rct * (pg - cam.pos)));
    if num >= 0.0 {
        // The camera is behind (under) the plane.
        return;
    }
    local_lights(lights, &rg, &pg, local);
    let q0 = rg.transpose() * (cam.pos - pg);
    let (cx, cy) = cam.centre_px();
    let rays = PlaneRays {
        n_c,
        num,
        q0,
        q: rg.transpose() * cam.rot,
        f: cam.focal_px(),
        cx,
        cy,
        znear: cam.znear,
        zfar: cam.zfar,
        half,
    };
    let eye = v3(q0);
    let light_at = |x: f32, y: f32| {
        light_point(
            [x, y, 0.0],
            [0.0, 0.0, 1.0],
            eye,
            local,
            d.specular,
            d.shininess,
        )
    };
    // Lighting at every PLANE_LIGHT_STEP-th pixel (and the last row and column).
    let (w, h) = (target.width, target.height);
    let grid_x: Vec<usize> = (0..w).step_by(PLANE_LIGHT_STEP).chain([w - 1]).collect();
    let grid_y: Vec<usize> = (0..h).step_by(PLANE_LIGHT_STEP).chain([h - 1]).collect();
    let grid: Vec<Option<([f32; 3], [f32; 3])>> = grid_y
        .iter()
        .flat_map(|&row| grid_x.iter().map(move |&col| (col, row)))
        .map(|(col, row)| rays.hit(col, row).map(|(x, y, _)| light_at(x, y)))
        .collect();
    let gw = grid_x.len();
    for row in 0..h {
        let gy = (row / PLANE_LIGHT_STEP).min(grid_y.len() - 2);
        let (y0, y1) = (grid_y[gy], grid_y[gy + 1]);
        let ty = if y1 > y0 {
            (row - y0) as f32 / (y1 - y0) as f32
        } else {
            0.0
        };
        for col in 0..w {
            let Some((x, y, t)) = rays.hit(col, row) else {
                continue;
            };
            let inv_z = (1.0 / t) as f32;
            let index = row * w + col;
            if inv_z <= target.inv_depth[index] {
                continue;
            }
            let gx = (col / PLANE_LIGHT_STEP).min(gw - 2);
            let (x0, x1) = (grid_x[gx], grid_x[gx + 1]);
            let tx = if x1 > x0 {
                (col - x0) as f32 / (x1 - x0) as f32
            } else {
                0.0
            };
            let corners = [
                grid[gy * gw + gx],
                grid[gy * gw + gx + 1],
                grid[(gy + 1) * gw + gx],
                grid[(gy + 1) * gw + gx + 1],
            ];
            let (diff, spec) = match corners {
                [Some(a), Some(b), Some(c), Some(e)] => {
                    let mix = |pa: [f32; 3], pb: [f32; 3], pc: [f32; 3], pe: [f32; 3]| {
                        std::array::from_fn(|k| {
                            let top = pa[k] + tx * (pb[k] - pa[k]);
                            let bottom = pc[k] + tx * (pe[k] - pc[k]);
                            top + ty * (bottom - top)
                        })
                    };
                    (mix(a.0, b.0, c.0, e.0), mix(a.1, b.1, c.1, e.1))
                }
                // At the horizon or a plane edge some corners miss: light this pixel exactly.
                _ => light_at(x, y),
            };
            let lit = |albedo: [f32; 3]| -> [f32; 3] {
                std::array::from_fn(|c| albedo[c] * (diff[c] + d.emission) + spec[c])
            };
            target.inv_depth[index] = inv_z;
            target.owner[index] = owner;
            target.color[index] = match (surface, &d.texture) {
                (Some(s), _) => lit(s.albedo([x, y, 0.0])),
                // OpenGL's fixed function (MuJoCo's renderer): the lit material colour is
                // clamped, then modulated by the texture.
                (None, Some(tex)) => {
                    let texel = sample_plane(tex, x, y, half);
                    let c = lit(d.rgb);
                    std::array::from_fn(|k| c[k].clamp(0.0, 1.0) * texel[k])
                }
                (None, None) => lit(d.rgb),
            };
        }
    }
}

/// MuJoCo's texture coordinates on a plane (its classic renderer): a bounded axis spans the
/// texture once across the plane, times `texrepeat` (times the half size with `texuniform`); an
/// unbounded axis maps half a texture per metre, times `texrepeat`, shifted by half a period.
pub(crate) fn plane_uv(
    x: f32,
    y: f32,
    half: [f32; 2],
    repeat: [f32; 2],
    uniform: bool,
) -> (f32, f32) {
    let axis = |c: f32, size: f32, rep: f32, flip: bool| {
        let rep = if rep > 0.0 { rep } else { 1.0 };
        if size > 0.0 {
            let base = (c + size) / (2.0 * size);
            let base = if flip { 1.0 - base } else { base };
            rep * if uniform { size } else { 1.0 } * base
        } else {
            let base = if flip { -0.5 * c } else { 0.5 * c };
            rep * base - 0.5
        }
    };
    (
        axis(x, half[0], repeat[0], false),
        axis(y, half[1], repeat[1], true),
    )
}

fn sample_plane(tex: &PlaneTexture, x: f32, y: f32, half: [f32; 2]) -> [f32; 3] {
    let (u, v) = plane_uv(x, y, half, tex.repeat, tex.uniform);
    let tu = ((u - u.floor()) * tex.width as f32) as usize;
    let tv = ((v - v.floor()) * tex.height as f32) as usize;
    let i = 3 * (tv.min(tex.height - 1) * tex.width + tu.min(tex.width - 1));
    std::array::from_fn(|c| f32::from(tex.rgb[i + c]) / 255.0)
}

/// True when the sphere (camera frame centre `c`, radius `r`) is entirely outside the view.
fn outside(cam: &CameraModel, c: &Vector3<f64>, r: f64) -> bool {
    let depth = -c.z;
    if depth + r < cam.znear || depth - r > cam.zfar {
        return true;
    }
    let tx = 0.5 * f64::from(cam.width) / cam.focal_px();
    let ty = 0.5 * f64::from(cam.height) / cam.focal_px();
    let (nx, ny) = ((1.0 + tx * tx).sqrt(), (1.0 + ty * ty).sqrt());
    (c.x - tx * depth) / nx > r
        || (-c.x - tx * depth) / nx > r
        || (c.y - ty * depth) / ny > r
        || (-c.y - ty * depth) / ny > r
}

/// A light as seen from one geom: direction toward it and the spot and attenuation factor,
/// both taken at the geom's centre (the lights are metres away; a geom spans centimetres).
#[derive(Debug, Clone, Copy)]
struct GeomLight {
    dir: [f32; 3],
    k: f32,
    ambient: [f32; 3],
    diffuse: [f32; 3],
    specular: [f32; 3],
}

fn geom_lights(local: &[Light], centre: [f32; 3], out: &mut Vec<GeomLight>) {
    out.clear();
    for l in local {
        let s = &l.spec;
        let (dir, mut k) = if s.directional {
            (l.at, 1.0)
        } else {
            let d = [
                l.at[0] - centre[0],
                l.at[1] - centre[1],
                l.at[2] - centre[2],
            ];
            let dist = dot(d, d).sqrt().max(1e-9);
            let att = s.attenuation[0] + s.attenuation[1] * dist + s.attenuation[2] * dist * dist;
            (d.map(|c| c / dist), 1.0 / att.max(1e-9))
        };
        if s.spot {
            let c = -dot(dir, l.axis);
            k = if c < s.cos_cutoff {
                0.0
            } else {
                k * c.powi(s.exponent)
            };
        }
        if k > 0.0 {
            out.push(GeomLight {
                dir,
                k,
                ambient: s.ambient,
                diffuse: s.diffuse,
                specular: s.specular,
            });
        }
    }
}

/// Fixed-function lighting of one vertex from per-geom light directions: the factor on the
/// albedo and the additive specular colour.
#[inline]
fn light_vertex(
    p: [f32; 3],
    n: [f32; 3],
    eye: [f32; 3],
    lights: &[GeomLight],
    specular: f32,
    shininess: i32,
) -> ([f32; 3], [f32; 3]) {
    let mut diff = [0.0f32; 3];
    let mut spec = [0.0f32; 3];
    let mut view: Option<[f32; 3]> = None;
    for l in lights {
        let ndl = dot(n, l.dir).max(0.0);
        for (c, d) in diff.iter_mut().enumerate() {
            *d += l.k * (l.ambient[c] + l.diffuse[c] * ndl);
        }
        if ndl > 0.0 && specular > 0.0 && l.specular != [0.0; 3] {
            let v = *view.get_or_insert_with(|| {
                let v = [eye[0] - p[0], eye[1] - p[1], eye[2] - p[2]];
                let len = dot(v, v).sqrt().max(1e-9);
                v.map(|x| x / len)
            });
            let h = [l.dir[0] + v[0], l.dir[1] + v[1], l.dir[2] + v[2]];
            let ndh = (dot(n, h) / dot(h, h).sqrt().max(1e-9)).max(0.0);
            let sp = l.k * specular * ndh.powi(shininess);
            for (c, v) in spec.iter_mut().enumerate() {
                *v += sp * l.specular[c];
            }
        }
    }
    (diff, spec)
}

/// Whether a screen triangle can cover a pixel centre: front-facing (negative signed area with
/// y down) and with a pixel centre inside its bounding box. Cheap rejection before lighting.
#[inline]
fn may_cover(v: [&ScreenVertex; 3], cull: bool, w: usize, h: usize) -> bool {
    let area = (v[1].x - v[0].x) * (v[2].y - v[0].y) - (v[2].x - v[0].x) * (v[1].y - v[0].y);
    if area == 0.0 || (cull && area > 0.0) {
        return false;
    }
    let (min_x, max_x) = (
        v[0].x.min(v[1].x).min(v[2].x),
        v[0].x.max(v[1].x).max(v[2].x),
    );
    let (min_y, max_y) = (
        v[0].y.min(v[1].y).min(v[2].y),
        v[0].y.max(v[1].y).max(v[2].y),
    );
    // A pixel centre c + 0.5 lies in [min, max] for some integer c in the image.
    let first_x = (min_x - 0.5).ceil().max(0.0);
    let last_x = (max_x - 0.5).floor().min(w as f32 - 1.0);
    let first_y = (min_y - 0.5).ceil().max(0.0);
    let last_y = (max_y - 0.5).floor().min(h as f32 - 1.0);
    // Snapping may still differ by a sub-pixel; keep a margin so nothing visible is dropped.
    first_x <= last_x + 1.0 && first_y <= last_y + 1.0
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call site, the per-frame state of draw()"
)]
fn draw_mesh(
    sim: &Sim,
    cam: &CameraModel,
    d: &Drawable,
    mesh: &super::RenderMesh,
    scale: [f32; 3],
    surface: Option<&Surface>,
    lights: &[Light],
    local: &mut Vec<Light>,
    cull: bool,
    s: &mut Scratch,
    target: &mut raster::Target,
    owner: u32,
) {
    let (rg, pg) = pose(sim, d.geom);
    let rct = cam.rot.transpose();
    let sc = Vector3::new(
        f64::from(scale[0]),
        f64::from(scale[1]),
        f64::from(scale[2]),
    );
    let centre = Vector3::new(
        f64::from(mesh.centre[0]),
        f64::from(mesh.centre[1]),
        f64::from(mesh.centre[2]),
    );
    let c_cam = rct * (rg * centre.component_mul(&sc) + pg - cam.pos);
    if outside(cam, &c_cam, f64::from(mesh.radius) * sc.max()) {
        return;
    }
    local_lights(lights, &rg, &pg, local);
    geom_lights(local, v3(centre.component_mul(&sc)), &mut s.geom_lights);
    let eye = v3(rg.transpose() * (cam.pos - pg));
    let m = rct * rg;
    let t = rct * (pg - cam.pos);
    let mf: [[f32; 3]; 3] = std::array::from_fn(|r| std::array::from_fn(|c| (m[(r, c)]) as f32));
    let tf = v3(t);
    let proj = Projection {
        f: cam.focal_px() as f32,
        cx: (0.5 * f64::from(cam.width)) as f32,
        cy: (0.5 * f64::from(cam.height)) as f32,
        znear: cam.znear as f32,
    };
    let textured = surface.is_some();
    s.cam.clear();
    s.screen.clear();
    s.front.clear();
    s.lit.clear();
    s.lit.resize(mesh.positions.len(), false);
    for v in &mesh.positions {
        let p = [v[0] * scale[0], v[1] * scale[1], v[2] * scale[2]];
        let pc: [f32; 3] =
            std::array::from_fn(|r| mf[r][0] * p[0] + mf[r][1] * p[1] + mf[r][2] * p[2] + tf[r]);
        let cv = CameraVertex {
            pos: pc,
            attr: [0.0; 9],
        };
        let front = -pc[2] >= proj.znear;
        s.screen.push(if front {
            proj.project(&cv, false)
        } else {
            ScreenVertex::default()
        });
        s.front.push(front);
        s.cam.push(cv);
    }
    // Lighting only for vertices of triangles that can show (a vertex once, when first needed).
    let geom_lights = std::mem::take(&mut s.geom_lights);
    let light = |i: usize, s: &mut Scratch| {
        if s.lit[i] {
            return;
        }
        s.lit[i] = true;
        let v = mesh.positions[i];
        let p = [v[0] * scale[0], v[1] * scale[1], v[2] * scale[2]];
        let (diff, spec) = light_vertex(
            p,
            mesh.normals[i],
            eye,
            &geom_lights,
            d.specular,
            d.shininess,
        );
        let attr = if textured {
            [
                diff[0], diff[1], diff[2], spec[0], spec[1], spec[2], p[0], p[1], p[2],
            ]
        } else {
            let c: [f32; 3] = std::array::from_fn(|k| d.rgb[k] * (diff[k] + d.emission) + spec[k]);
            [c[0], c[1], c[2], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        };
        s.cam[i].attr = attr;
        let iz = s.screen[i].inv_z;
        s.screen[i].attr = if textured { attr.map(|a| a * iz) } else { attr };
    };
    let rgb = d.rgb;
    let emission = d.emission;
    let shade_textured = |a: [&ScreenVertex; 3], f: &raster::Fragment| {
        let inv = 1.0 / f.inv_z;
        let at: [f32; 9] = std::array::from_fn(|k| {
            (a[0].attr[k]
                + f.l1 * (a[1].attr[k] - a[0].attr[k])
                + f.l2 * (a[2].attr[k] - a[0].attr[k]))
                * inv
        });
        let albedo = surface.map_or(rgb, |s| s.albedo([at[6], at[7], at[8]]));
        std::array::from_fn(|k| albedo[k] * (at[k] + emission) + at[3 + k])
    };
    let shade_flat = |a: [&ScreenVertex; 3], f: &raster::Fragment| {
        std::array::from_fn(|k| {
            a[0].attr[k]
                + f.l1 * (a[1].attr[k] - a[0].attr[k])
                + f.l2 * (a[2].attr[k] - a[0].attr[k])
        })
    };
    let (w, h) = (target.width, target.height);
    for tri in mesh.indices.chunks_exact(3) {
        let [i0, i1, i2] = [tri[0] as usize, tri[1] as usize, tri[2] as usize];
        let fronts = [s.front[i0], s.front[i1], s.front[i2]];
        if fronts == [true; 3] {
            if !may_cover([&s.screen[i0], &s.screen[i1], &s.screen[i2]], cull, w, h) {
                continue;
            }
            light(i0, s);
            light(i1, s);
            light(i2, s);
            let v = [&s.screen[i0], &s.screen[i1], &s.screen[i2]];
            if textured {
                raster::triangle(target, v, cull, owner, |f| shade_textured(v, f));
            } else {
                raster::triangle(target, v, cull, owner, |f| shade_flat(v, f));
            }
        } else if fronts.contains(&true) {
            light(i0, s);
            light(i1, s);
            light(i2, s);
            raster::clip_near([s.cam[i0], s.cam[i1], s.cam[i2]], proj.znear, &mut s.poly);
            s.poly_screen.clear();
            s.poly_screen
                .extend(s.poly.iter().map(|v| proj.project(v, textured)));
            for k in 1..s.poly_screen.len().saturating_sub(1) {
                let v = [&s.poly_screen[0], &s.poly_screen[k], &s.poly_screen[k + 1]];
                if textured {
                    raster::triangle(target, v, cull, owner, |f| shade_textured(v, f));
                } else {
                    raster::triangle(target, v, cull, owner, |f| shade_flat(v, f));
                }
            }
        }
    }
    s.geom_lights = geom_lights;
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
