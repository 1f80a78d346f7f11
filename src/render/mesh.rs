//! Meshes through the rasterizer: frustum culling by bounding sphere, vertex transform, lighting
//! of the vertices that can show, near-plane clipping, flat or textured shading.

use nalgebra::{Matrix3, Vector3};

use super::RenderMesh;
use super::camera::CameraModel;
use super::light::{GeomLight, Light, geom_lights, light_vertex, local_lights, v3};
use super::look::Surface;
use super::raster::{self, CameraVertex, Projection, ScreenVertex};
use super::scene::Drawable;
use super::scratch::{Scratch, pose};
use crate::sim::Sim;

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

/// One geom's pass through the rasterizer: its setup, shared by the vertex and triangle loops.
struct MeshPass<'a> {
    d: &'a Drawable,
    mesh: &'a RenderMesh,
    scale: [f32; 3],
    surface: Option<&'a Surface>,
    lights: Vec<GeomLight>,
    eye: [f32; 3],
    proj: Projection,
    cull: bool,
    owner: u32,
}

impl MeshPass<'_> {
    fn textured(&self) -> bool {
        self.surface.is_some()
    }

    fn local(&self, i: usize) -> [f32; 3] {
        let v = self.mesh.positions[i];
        std::array::from_fn(|k| v[k] * self.scale[k])
    }

    /// Camera-frame and screen positions of every vertex (attributes come later, lazily).
    fn transform(&self, m: &Matrix3<f64>, t: &Vector3<f64>, s: &mut Scratch) {
        let mf: [[f32; 3]; 3] = std::array::from_fn(|r| std::array::from_fn(|c| m[(r, c)] as f32));
        let tf = v3(*t);
        s.cam.clear();
        s.screen.clear();
        s.front.clear();
        s.lit.clear();
        s.lit.resize(self.mesh.positions.len(), false);
        for i in 0..self.mesh.positions.len() {
            let p = self.local(i);
            let pos: [f32; 3] = std::array::from_fn(|r| {
                mf[r][0] * p[0] + mf[r][1] * p[1] + mf[r][2] * p[2] + tf[r]
            });
            let cv = CameraVertex {
                pos,
                attr: [0.0; 9],
            };
            let front = -pos[2] >= self.proj.znear;
            s.screen.push(if front {
                self.proj.project(&cv, false)
            } else {
                ScreenVertex::default()
            });
            s.front.push(front);
            s.cam.push(cv);
        }
    }

    /// Lights vertex `i` once, when a triangle that can show first needs it: the lit colour, or
    /// (textured) the lighting terms and the local position, divided by depth on screen.
    fn light(&self, i: usize, s: &mut Scratch) {
        if s.lit[i] {
            return;
        }
        s.lit[i] = true;
        let p = self.local(i);
        let d = self.d;
        let (diff, spec) = light_vertex(
            p,
            self.mesh.normals[i],
            self.eye,
            &self.lights,
            d.specular,
            d.shininess,
        );
        let attr = if self.textured() {
            [
                diff[0], diff[1], diff[2], spec[0], spec[1], spec[2], p[0], p[1], p[2],
            ]
        } else {
            let c: [f32; 3] = std::array::from_fn(|k| d.rgb[k] * (diff[k] + d.emission) + spec[k]);
            [c[0], c[1], c[2], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        };
        s.cam[i].attr = attr;
        let iz = s.screen[i].inv_z;
        s.screen[i].attr = if self.textured() {
            attr.map(|a| a * iz)
        } else {
            attr
        };
    }

    /// The colour at a fragment: interpolated lit colour, or the pattern's albedo lit by the
    /// interpolated (perspective-correct) terms.
    fn shade(&self, a: [&ScreenVertex; 3], f: &raster::Fragment) -> [f32; 3] {
        let lerp = |k: usize| {
            a[0].attr[k]
                + f.l1 * (a[1].attr[k] - a[0].attr[k])
                + f.l2 * (a[2].attr[k] - a[0].attr[k])
        };
        match self.surface {
            None => std::array::from_fn(lerp),
            Some(surface) => {
                let inv = 1.0 / f.inv_z;
                let at: [f32; 9] = std::array::from_fn(|k| lerp(k) * inv);
                let albedo = surface.albedo([at[6], at[7], at[8]]);
                std::array::from_fn(|k| albedo[k] * (at[k] + self.d.emission) + at[3 + k])
            }
        }
    }

    fn draw(&self, v: [&ScreenVertex; 3], target: &mut raster::Target) {
        raster::triangle(target, v, self.cull, self.owner, |f| self.shade(v, f));
    }

    fn raster(&self, s: &mut Scratch, target: &mut raster::Target) {
        let (w, h) = (target.width, target.height);
        for tri in self.mesh.indices.chunks_exact(3) {
            let [i0, i1, i2] = [tri[0] as usize, tri[1] as usize, tri[2] as usize];
            let fronts = [s.front[i0], s.front[i1], s.front[i2]];
            if fronts == [true; 3] {
                if !may_cover(
                    [&s.screen[i0], &s.screen[i1], &s.screen[i2]],
                    self.cull,
                    w,
                    h,
                ) {
                    continue;
                }
                for i in [i0, i1, i2] {
                    self.light(i, s);
                }
                self.draw([&s.screen[i0], &s.screen[i1], &s.screen[i2]], target);
            } else if fronts.contains(&true) {
                for i in [i0, i1, i2] {
                    self.light(i, s);
                }
                raster::clip_near(
                    [s.cam[i0], s.cam[i1], s.cam[i2]],
                    self.proj.znear,
                    &mut s.poly,
                );
                s.poly_screen.clear();
                s.poly_screen
                    .extend(s.poly.iter().map(|v| self.proj.project(v, self.textured())));
                for k in 1..s.poly_screen.len().saturating_sub(1) {
                    self.draw(
                        [&s.poly_screen[0], &s.poly_screen[k], &s.poly_screen[k + 1]],
                        target,
                    );
                }
            }
        }
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call site, the per-frame state of draw()"
)]
pub(crate) fn draw_mesh(
    sim: &Sim,
    cam: &CameraModel,
    d: &Drawable,
    mesh: &RenderMesh,
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
    let sc = Vector3::from(scale.map(f64::from));
    let centre = Vector3::from(mesh.centre.map(f64::from)).component_mul(&sc);
    let c_cam = rct * (rg * centre + pg - cam.pos);
    if outside(cam, &c_cam, f64::from(mesh.radius) * sc.max()) {
        return;
    }
    local_lights(lights, &rg, &pg, local);
    let mut per_geom = std::mem::take(&mut s.geom_lights);
    geom_lights(local, v3(centre), &mut per_geom);
    let pass = MeshPass {
        d,
        mesh,
        scale,
        surface,
        lights: per_geom,
        eye: v3(rg.transpose() * (cam.pos - pg)),
        proj: Projection {
            f: cam.focal_px() as f32,
            cx: (0.5 * f64::from(cam.width)) as f32,
            cy: (0.5 * f64::from(cam.height)) as f32,
            znear: cam.znear as f32,
        },
        cull,
        owner,
    };
    pass.transform(&(rct * rg), &(rct * (pg - cam.pos)), s);
    pass.raster(s, target);
    s.geom_lights = pass.lights;
}
