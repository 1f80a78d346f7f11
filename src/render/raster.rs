//! The triangle rasterizer: fixed-point edge functions (8 sub-pixel bits, a tie rule that gives
//! each pixel on a shared edge to exactly one triangle), samples at pixel centres, an inverse-depth
//! buffer, and near-plane clipping. Integer edge arithmetic and a fixed draw order make every
//! frame bit-for-bit reproducible.

/// Sub-pixel precision of screen coordinates.
const SUBPIXEL_BITS: i64 = 8;
const ONE: i64 = 1 << SUBPIXEL_BITS;
const HALF: i64 = ONE / 2;

/// Per-pixel buffers the rasterizer writes.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Width, pixels.
    pub width: usize,
    /// Height, pixels.
    pub height: usize,
    /// Inverse depth (1 / metres); larger is closer.
    pub inv_depth: Vec<f32>,
    /// Colour per pixel, linear 0..1 (clamped when converted to bytes).
    pub color: Vec<[f32; 3]>,
    /// Index of the drawable that owns the pixel (`u32::MAX` = none).
    pub owner: Vec<u32>,
}

impl Target {
    /// Resizes and clears to "nothing nearer than `far`".
    pub fn clear(&mut self, width: usize, height: usize, far: f32, background: [f32; 3]) {
        let n = width * height;
        self.width = width;
        self.height = height;
        self.inv_depth.clear();
        self.inv_depth.resize(n, 1.0 / far);
        self.color.clear();
        self.color.resize(n, background);
        self.owner.clear();
        self.owner.resize(n, u32::MAX);
    }
}

/// A vertex after projection: screen position (pixels, row 0 at the top), inverse depth, and the
/// attributes to interpolate (already divided by depth where they must be perspective-correct).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScreenVertex {
    /// Column, pixels.
    pub x: f32,
    /// Row, pixels.
    pub y: f32,
    /// 1 / depth.
    pub inv_z: f32,
    /// Attributes (colour or lighting terms and local position), interpolated affinely.
    pub attr: [f32; 9],
}

/// A vertex in the camera frame, before projection.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CameraVertex {
    /// Position, camera frame (depth = -z).
    pub pos: [f32; 3],
    /// Attributes to interpolate.
    pub attr: [f32; 9],
}

/// Projection parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// Focal length, pixels.
    pub f: f32,
    /// Principal point, pixels.
    pub cx: f32,
    /// Principal point, pixels.
    pub cy: f32,
    /// Near plane distance, metres.
    pub znear: f32,
}

impl Projection {
    /// Projects a camera-frame vertex in front of the near plane.
    #[inline]
    pub fn project(&self, v: &CameraVertex, perspective_attrs: bool) -> ScreenVertex {
        let depth = -v.pos[2];
        let inv_z = 1.0 / depth;
        let s = self.f * inv_z;
        let attr = if perspective_attrs {
            v.attr.map(|a| a * inv_z)
        } else {
            v.attr
        };
        ScreenVertex {
            x: self.cx + v.pos[0] * s,
            y: self.cy - v.pos[1] * s,
            inv_z,
            attr,
        }
    }
}

/// Clips a camera-frame triangle against the near plane; returns the polygon (0, 3 or 4 vertices).
pub fn clip_near(tri: [CameraVertex; 3], znear: f32, out: &mut Vec<CameraVertex>) {
    out.clear();
    let inside = |v: &CameraVertex| -v.pos[2] >= znear;
    for k in 0..3 {
        let (a, b) = (&tri[k], &tri[(k + 1) % 3]);
        let (ia, ib) = (inside(a), inside(b));
        if ia {
            out.push(*a);
        }
        if ia != ib {
            let (da, db) = (-a.pos[2] - znear, -b.pos[2] - znear);
            let t = da / (da - db);
            let lerp = |x: f32, y: f32| x + t * (y - x);
            let mut v = CameraVertex::default();
            for c in 0..3 {
                v.pos[c] = lerp(a.pos[c], b.pos[c]);
            }
            // Exactly on the plane, so the projection never divides by a smaller depth.
            v.pos[2] = -znear;
            for c in 0..9 {
                v.attr[c] = lerp(a.attr[c], b.attr[c]);
            }
            out.push(v);
        }
    }
}

/// What the per-pixel callback receives: the pixel index, the barycentric weights of vertices 1
/// and 2, and the interpolated inverse depth.
pub struct Fragment {
    /// Pixel index (row-major).
    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "shaders need only the weights; tests count coverage by index"
        )
    )]
    pub index: usize,
    /// Weight of vertex 1.
    pub l1: f32,
    /// Weight of vertex 2.
    pub l2: f32,
    /// Inverse depth at the pixel centre.
    pub inv_z: f32,
}

#[inline]
fn fixed(v: f32) -> i64 {
    (v * ONE as f32).round() as i64
}

/// Rasterizes one screen triangle: every covered pixel centre that passes the depth test gets
/// the depth, `owner`, and the colour `shade` returns. Back faces (clockwise on screen after the
/// y flip) are culled when `cull` is set. Returns the number of pixels written.
#[inline]
pub fn triangle<F: FnMut(&Fragment) -> [f32; 3]>(
    target: &mut Target,
    v: [&ScreenVertex; 3],
    cull: bool,
    owner: u32,
    mut shade: F,
) -> usize {
    let (w, h) = (target.width as i64, target.height as i64);
    let mut p = [
        (fixed(v[0].x), fixed(v[0].y)),
        (fixed(v[1].x), fixed(v[1].y)),
        (fixed(v[2].x), fixed(v[2].y)),
    ];
    let mut order = [0usize, 1, 2];
    let mut area = (p[1].0 - p[0].0) * (p[2].1 - p[0].1) - (p[2].0 - p[0].0) * (p[1].1 - p[0].1);
    if area == 0 {
        return 0;
    }
    if area < 0 {
        // Counter-clockwise in the world (MuJoCo's outward winding) is negative here: front.
        p.swap(1, 2);
        order.swap(1, 2);
        area = -area;
    } else if cull {
        return 0;
    }
    // Pixel-centre bounding box, clamped to the image.
    let min_x = p.iter().map(|q| q.0).min().unwrap_or(0);
    let max_x = p.iter().map(|q| q.0).max().unwrap_or(0);
    let min_y = p.iter().map(|q| q.1).min().unwrap_or(0);
    let max_y = p.iter().map(|q| q.1).max().unwrap_or(0);
    let x0 = ((min_x - HALF + ONE - 1) >> SUBPIXEL_BITS).max(0);
    let x1 = ((max_x - HALF) >> SUBPIXEL_BITS).min(w - 1);
    let y0 = ((min_y - HALF + ONE - 1) >> SUBPIXEL_BITS).max(0);
    let y1 = ((max_y - HALF) >> SUBPIXEL_BITS).min(h - 1);
    if x0 > x1 || y0 > y1 {
        return 0;
    }
    // Edge k is opposite vertex k; w_k(p) = A_k x + B_k y + C_k is >= 0 inside.
    let edge = |a: (i64, i64), b: (i64, i64)| {
        let (ea, eb) = (a.1 - b.1, b.0 - a.0);
        // Tie rule: a pixel exactly on an edge belongs to the triangle whose edge points "down or
        // right"; the neighbour walks the shared edge the other way, so it never also takes it.
        let bias = if eb < 0 || (eb == 0 && ea > 0) { 0 } else { -1 };
        (ea, eb, a.0 * b.1 - a.1 * b.0, bias)
    };
    let e = [edge(p[1], p[2]), edge(p[2], p[0]), edge(p[0], p[1])];
    let inv_area = 1.0 / area as f32;
    let vz = [v[order[0]].inv_z, v[order[1]].inv_z, v[order[2]].inv_z];
    let (dz1, dz2) = (vz[1] - vz[0], vz[2] - vz[0]);
    let swapped = order[1] == 2;
    let px0 = x0 * ONE + HALF;
    let mut written = 0;
    for y in y0..=y1 {
        let py = y * ONE + HALF;
        let mut wv = [0i64; 3];
        for k in 0..3 {
            wv[k] = e[k].0 * px0 + e[k].1 * py + e[k].2 + e[k].3;
        }
        let step = [e[0].0 * ONE, e[1].0 * ONE, e[2].0 * ONE];
        let row = (y as usize) * target.width;
        for x in x0..=x1 {
            if (wv[0] | wv[1] | wv[2]) >= 0 {
                let l1 = (wv[1] - e[1].3) as f32 * inv_area;
                let l2 = (wv[2] - e[2].3) as f32 * inv_area;
                let inv_z = vz[0] + l1 * dz1 + l2 * dz2;
                let index = row + x as usize;
                if inv_z > target.inv_depth[index] {
                    target.inv_depth[index] = inv_z;
                    written += 1;
                    // Report weights in the caller's vertex order.
                    let (a, b) = if swapped { (l2, l1) } else { (l1, l2) };
                    target.color[index] = shade(&Fragment {
                        index,
                        l1: a,
                        l2: b,
                        inv_z,
                    });
                    target.owner[index] = owner;
                }
            }
            wv[0] += step[0];
            wv[1] += step[1];
            wv[2] += step[2];
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv(x: f32, y: f32) -> ScreenVertex {
        ScreenVertex {
            x,
            y,
            inv_z: 1.0,
            attr: [0.0; 9],
        }
    }

    #[test]
    fn shared_edges_cover_each_pixel_exactly_once() {
        // A quad split along its diagonal, drawn as two front-facing triangles with depth test
        // off (equal depth would reject the second): every pixel is written once.
        let mut t = Target::default();
        t.clear(16, 16, 100.0, [0.0; 3]);
        let (a, b, c, d) = (sv(1.3, 1.7), sv(14.2, 2.1), sv(13.6, 14.9), sv(2.2, 13.4));
        let mut hits = vec![0u32; 256];
        for tri in [[&a, &d, &c], [&a, &c, &b]] {
            t.inv_depth.fill(0.0);
            triangle(&mut t, tri, true, 0, |f| {
                hits[f.index] += 1;
                [0.0; 3]
            });
        }
        assert!(hits.iter().all(|&h| h <= 1), "a pixel was drawn twice");
        assert!(hits.iter().filter(|&&h| h == 1).count() > 120);
    }

    #[test]
    fn back_faces_are_culled_and_weights_follow_vertex_order() {
        let mut t = Target::default();
        t.clear(8, 8, 100.0, [0.0; 3]);
        // Counter-clockwise on screen with y down = clockwise in the world: a back face.
        let (a, b, c) = (sv(0.0, 0.0), sv(8.0, 0.0), sv(0.0, 8.0));
        assert_eq!(triangle(&mut t, [&a, &b, &c], true, 0, |_| [0.0; 3]), 0);
        let mut sum = 0.0;
        let n = triangle(&mut t, [&a, &c, &b], true, 0, |f| {
            // Vertex 1 is `c` (bottom-left): its weight grows with the row.
            let row = (f.index / 8) as f32 + 0.5;
            assert!((f.l1 - row / 8.0).abs() < 1e-5);
            sum += f.l1;
            [0.0; 3]
        });
        assert!(n > 0 && sum > 0.0);
    }

    #[test]
    fn near_clipping_keeps_the_front_part() {
        let v = |z: f32| CameraVertex {
            pos: [0.0, 0.0, z],
            attr: [-z; 9],
        };
        let mut out = Vec::new();
        clip_near([v(-1.0), v(0.5), v(-2.0)], 0.1, &mut out);
        assert_eq!(out.len(), 4);
        assert!(out.iter().all(|p| -p.pos[2] >= 0.1 - 1e-6));
        clip_near([v(1.0), v(0.5), v(0.05)], 0.1, &mut out);
        assert!(out.is_empty());
    }
}
