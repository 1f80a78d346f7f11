//! Planes drawn analytically: every pixel's ray meets the plane (no tessellation, no far-edge
//! clipping artefacts), textured as MuJoCo maps 2D textures on planes, lit on a coarse grid.

use nalgebra::{Matrix3, Vector3};

use super::camera::CameraModel;
use super::light::{Light, geom_lights, light_vertex, local_lights, v3};
use super::look::Surface;
use super::raster;
use super::scene::{Drawable, PlaneTexture};
use super::scratch::pose;
use crate::sim::Sim;

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
pub(crate) fn plane(
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
    let mut at_point = Vec::with_capacity(local.len());
    let mut light_at = |x: f32, y: f32| {
        geom_lights(local, [x, y, 0.0], &mut at_point);
        light_vertex(
            [x, y, 0.0],
            [0.0, 0.0, 1.0],
            eye,
            &at_point,
            d.specular,
            d.shininess,
        )
    };
    let (w, h) = (target.width, target.height);
    let grid = LightGrid::new(&rays, w, h, &mut light_at);
    for row in 0..h {
        for col in 0..w {
            let Some((x, y, t)) = rays.hit(col, row) else {
                continue;
            };
            let inv_z = (1.0 / t) as f32;
            let index = row * w + col;
            if inv_z <= target.inv_depth[index] {
                continue;
            }
            // At the horizon or a plane edge some grid corners miss: light this pixel exactly.
            let (diff, spec) = grid.at(col, row).unwrap_or_else(|| light_at(x, y));
            target.inv_depth[index] = inv_z;
            target.owner[index] = owner;
            target.color[index] = plane_colour(d, surface, half, x, y, diff, spec);
        }
    }
}

/// Lighting terms at every `PLANE_LIGHT_STEP`-th pixel (and the last row and column), where the
/// plane is hit.
struct LightGrid {
    xs: Vec<usize>,
    ys: Vec<usize>,
    values: Vec<Option<([f32; 3], [f32; 3])>>,
}

impl LightGrid {
    fn new(
        rays: &PlaneRays,
        w: usize,
        h: usize,
        light_at: &mut impl FnMut(f32, f32) -> ([f32; 3], [f32; 3]),
    ) -> Self {
        let xs: Vec<usize> = (0..w).step_by(PLANE_LIGHT_STEP).chain([w - 1]).collect();
        let ys: Vec<usize> = (0..h).step_by(PLANE_LIGHT_STEP).chain([h - 1]).collect();
        let mut values = Vec::with_capacity(xs.len() * ys.len());
        for &row in &ys {
            for &col in &xs {
                values.push(rays.hit(col, row).map(|(x, y, _)| light_at(x, y)));
            }
        }
        Self { xs, ys, values }
    }

    /// Bilinear interpolation of the four grid points around (col, row); `None` when one of
    /// them misses the plane.
    fn at(&self, col: usize, row: usize) -> Option<([f32; 3], [f32; 3])> {
        let gw = self.xs.len();
        let gx = (col / PLANE_LIGHT_STEP).min(gw - 2);
        let gy = (row / PLANE_LIGHT_STEP).min(self.ys.len() - 2);
        let frac = |v: usize, a: usize, b: usize| {
            if b > a {
                (v - a) as f32 / (b - a) as f32
            } else {
                0.0
            }
        };
        let tx = frac(col, self.xs[gx], self.xs[gx + 1]);
        let ty = frac(row, self.ys[gy], self.ys[gy + 1]);
        let a = self.values[gy * gw + gx]?;
        let b = self.values[gy * gw + gx + 1]?;
        let c = self.values[(gy + 1) * gw + gx]?;
        let e = self.values[(gy + 1) * gw + gx + 1]?;
        let mix = |pa: [f32; 3], pb: [f32; 3], pc: [f32; 3], pe: [f32; 3]| {
            std::array::from_fn(|k| {
                let top = pa[k] + tx * (pb[k] - pa[k]);
                let bottom = pc[k] + tx * (pe[k] - pc[k]);
                top + ty * (bottom - top)
            })
        };
        Some((mix(a.0, b.0, c.0, e.0), mix(a.1, b.1, c.1, e.1)))
    }
}

/// The colour of the plane at (x, y) lit by `diff` and `spec`.
fn plane_colour(
    d: &Drawable,
    surface: Option<&Surface>,
    half: [f32; 2],
    x: f32,
    y: f32,
    diff: [f32; 3],
    spec: [f32; 3],
) -> [f32; 3] {
    let lit = |albedo: [f32; 3]| -> [f32; 3] {
        std::array::from_fn(|c| albedo[c] * (diff[c] + d.emission) + spec[c])
    };
    match (surface, &d.texture) {
        (Some(s), _) => lit(s.albedo([x, y, 0.0])),
        // OpenGL's fixed function (MuJoCo's renderer): the lit material colour is clamped, then
        // modulated by the texture.
        (None, Some(tex)) => {
            let texel = sample_plane(tex, x, y, half);
            let c = lit(d.rgb);
            std::array::from_fn(|k| c[k].clamp(0.0, 1.0) * texel[k])
        }
        (None, None) => lit(d.rgb),
    }
}

/// MuJoCo's texture coordinates on a plane (its classic renderer): a bounded axis spans the
/// texture once across the plane, times `texrepeat` (times the half size with `texuniform`); an
/// unbounded axis maps half a texture per metre, times `texrepeat`, shifted by half a period.
fn plane_uv(x: f32, y: f32, half: [f32; 2], repeat: [f32; 2], uniform: bool) -> (f32, f32) {
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
