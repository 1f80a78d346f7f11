//! Render meshes: MuJoCo's meshes as triangles with normals, either at full resolution (MuJoCo's
//! own normals) or decimated with meshoptimizer to an absolute error in metres. An 84x84 image
//! cannot show 320k triangles; a 0.3 mm error keeps every silhouette within a fraction of a pixel
//! and cuts the triangle count by an order of magnitude. Decimation runs once per mesh and error
//! per process; every renderer shares the result.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use mujoco_rs::prelude::*;

/// Triangles ready to draw, in the mesh (geom) frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RenderMesh {
    /// Vertex positions, metres.
    pub positions: Vec<[f32; 3]>,
    /// Unit normals, one per position.
    pub normals: Vec<[f32; 3]>,
    /// Triangle list (counter-clockwise seen from outside, as MuJoCo stores faces).
    pub indices: Vec<u32>,
    /// Centre of the bounding sphere.
    pub centre: [f32; 3],
    /// Radius of the bounding sphere.
    pub radius: f32,
}

impl RenderMesh {
    /// Number of triangles.
    pub fn triangles(&self) -> usize {
        self.indices.len() / 3
    }

    /// A mesh from positions, normals and indices; computes the bounding sphere.
    pub fn new(positions: Vec<[f32; 3]>, normals: Vec<[f32; 3]>, indices: Vec<u32>) -> Self {
        let (centre, radius) = bounding_sphere(&positions);
        Self {
            positions,
            normals,
            indices,
            centre,
            radius,
        }
    }
}

fn bounding_sphere(positions: &[[f32; 3]]) -> ([f32; 3], f32) {
    if positions.is_empty() {
        return ([0.0; 3], 0.0);
    }
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for p in positions {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let c: [f32; 3] = std::array::from_fn(|k| 0.5 * (lo[k] + hi[k]));
    let r = positions
        .iter()
        .map(|p| {
            let d: [f32; 3] = std::array::from_fn(|k| p[k] - c[k]);
            (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
        })
        .fold(0.0f32, f32::max);
    (c, r * 1.0001)
}

/// The mesh `m` of `model` for drawing: full resolution when `error_m` is 0, else simplified
/// until the surface moves by at most `error_m` metres. Cached per process and shared, so a
/// caller asking for a renderer's error gets the very triangles that renderer draws (the app's
/// decimated meshes are the observation renderer's).
pub fn render_mesh(model: &MjModel, m: usize, error_m: f64) -> Arc<RenderMesh> {
    static CACHE: OnceLock<Mutex<HashMap<u64, Arc<RenderMesh>>>> = OnceLock::new();
    let (verts, faces) = welded(model, m);
    let key = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for v in &verts {
            v.map(f32::to_bits).hash(&mut h);
        }
        faces.hash(&mut h);
        error_m.to_bits().hash(&mut h);
        h.finish()
    };
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(mesh) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return mesh;
    }
    let mesh = Arc::new(if error_m <= 0.0 {
        let d = crate::scene::visual::mesh_data(model, m);
        RenderMesh::new(d.positions, d.normals, d.indices)
    } else {
        simplified(&verts, &faces, error_m as f32)
    });
    // Two threads that missed together both simplified; the first insert wins, so every caller
    // shares one mesh (the app tells the observation renderer's meshes by pointer).
    match cache.lock() {
        Ok(mut c) => Arc::clone(c.entry(key).or_insert(mesh)),
        Err(_) => mesh,
    }
}

/// MuJoCo's vertices of mesh `m` (one per position) and its faces as indices into them.
fn welded(model: &MjModel, m: usize) -> (Vec<[f32; 3]>, Vec<u32>) {
    let vert_adr = model.mesh_vertadr()[m].max(0) as usize;
    let vert_num = model.mesh_vertnum()[m].max(0) as usize;
    let face_adr = model.mesh_faceadr()[m].max(0) as usize;
    let face_num = model.mesh_facenum()[m].max(0) as usize;
    let verts = model
        .mesh_vert()
        .get(vert_adr..vert_adr + vert_num)
        .map(<[_]>::to_vec)
        .unwrap_or_default();
    let faces = model
        .mesh_face()
        .get(face_adr..face_adr + face_num)
        .unwrap_or_default()
        .iter()
        .filter(|f| f.iter().all(|&i| i >= 0 && (i as usize) < vert_num))
        .flat_map(|f| f.map(|i| i as u32))
        .collect();
    (verts, faces)
}

/// Simplifies to an absolute error, then rebuilds normals with a crease angle so flat servo
/// faces stay flat and curved shells stay smooth.
fn simplified(verts: &[[f32; 3]], faces: &[u32], error_m: f32) -> RenderMesh {
    let simplified = meshopt::simplify_decoder(
        faces,
        verts,
        0,
        error_m,
        meshopt::SimplifyOptions::ErrorAbsolute,
        None,
    );
    with_crease_normals(verts, &simplified, 40f32.to_radians().cos())
}

fn face_normal(a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> [f32; 3] {
    let u: [f32; 3] = std::array::from_fn(|k| b[k] - a[k]);
    let v: [f32; 3] = std::array::from_fn(|k| c[k] - a[k]);
    // Area-weighted: the cross product's length is twice the area.
    [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ]
}

fn normalized(v: [f32; 3]) -> [f32; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if n > 0.0 {
        v.map(|x| x / n)
    } else {
        [0.0, 0.0, 1.0]
    }
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Per-corner normals: the area-weighted sum of the faces around the vertex that bend less than
/// the crease angle from this face. Corners with equal (position, normal) share a vertex.
fn with_crease_normals(verts: &[[f32; 3]], indices: &[u32], cos_crease: f32) -> RenderMesh {
    let tris: Vec<[u32; 3]> = indices
        .chunks_exact(3)
        .map(|t| [t[0], t[1], t[2]])
        .collect();
    let fnormals: Vec<[f32; 3]> = tris
        .iter()
        .map(|t| {
            face_normal(
                verts[t[0] as usize],
                verts[t[1] as usize],
                verts[t[2] as usize],
            )
        })
        .collect();
    let funit: Vec<[f32; 3]> = fnormals.iter().map(|n| normalized(*n)).collect();
    let mut around: Vec<Vec<u32>> = vec![Vec::new(); verts.len()];
    for (f, t) in tris.iter().enumerate() {
        for &v in t {
            around[v as usize].push(f as u32);
        }
    }
    let mut positions = Vec::new();
    let mut normals = Vec::new();
    let mut out = Vec::with_capacity(indices.len());
    let mut seen: HashMap<(u32, [u32; 3]), u32> = HashMap::new();
    for (f, t) in tris.iter().enumerate() {
        for &v in t {
            let mut acc = [0.0f32; 3];
            for &g in &around[v as usize] {
                if dot(funit[g as usize], funit[f]) >= cos_crease {
                    for k in 0..3 {
                        acc[k] += fnormals[g as usize][k];
                    }
                }
            }
            let n = normalized(acc);
            let index = *seen.entry((v, n.map(f32::to_bits))).or_insert_with(|| {
                positions.push(verts[v as usize]);
                normals.push(n);
                (positions.len() - 1) as u32
            });
            out.push(index);
        }
    }
    RenderMesh::new(positions, normals, out)
}

/// A unit box (half extents 1) with flat faces, counter-clockwise outward; scaled per frame by
/// the geom's current size (so a randomised cube size needs no new mesh).
pub fn unit_box() -> RenderMesh {
    let mut positions = Vec::with_capacity(24);
    let mut normals = Vec::with_capacity(24);
    let mut indices = Vec::with_capacity(36);
    for axis in 0..3 {
        for sign in [1.0f32, -1.0] {
            let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
            let base = positions.len() as u32;
            let mut n = [0.0f32; 3];
            n[axis] = sign;
            for (a, b) in [(-1.0f32, -1.0f32), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
                let mut p = [0.0f32; 3];
                p[axis] = sign;
                p[u] = a;
                p[v] = b * sign;
                positions.push(p);
                normals.push(n);
            }
            indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
        }
    }
    RenderMesh::new(positions, normals, indices)
}

/// A UV sphere scaled to `radii` (an ellipsoid), for sphere and ellipsoid geoms.
pub fn ellipsoid(radii: [f32; 3], slices: usize, stacks: usize) -> RenderMesh {
    let mut positions = Vec::new();
    let mut normals = Vec::new();
    for i in 0..=stacks {
        let theta = std::f32::consts::PI * i as f32 / stacks as f32;
        for j in 0..=slices {
            let phi = std::f32::consts::TAU * j as f32 / slices as f32;
            let u = [
                theta.sin() * phi.cos(),
                theta.sin() * phi.sin(),
                theta.cos(),
            ];
            positions.push([u[0] * radii[0], u[1] * radii[1], u[2] * radii[2]]);
            normals.push(normalized([
                u[0] / radii[0],
                u[1] / radii[1],
                u[2] / radii[2],
            ]));
        }
    }
    let mut indices = Vec::new();
    let w = slices as u32 + 1;
    for i in 0..stacks as u32 {
        for j in 0..slices as u32 {
            let (a, b) = (i * w + j, (i + 1) * w + j);
            indices.extend_from_slice(&[a, b, a + 1, a + 1, b, b + 1]);
        }
    }
    RenderMesh::new(positions, normals, indices)
}

/// A cylinder (`caps` flat) or capsule (hemispherical caps) along local z.
pub fn cylinder(radius: f32, half_length: f32, capsule: bool, slices: usize) -> RenderMesh {
    let mut positions = Vec::new();
    let mut normals = Vec::new();
    let mut indices = Vec::new();
    let ring = |z: f32, positions: &mut Vec<[f32; 3]>, normals: &mut Vec<[f32; 3]>| {
        for j in 0..=slices {
            let phi = std::f32::consts::TAU * j as f32 / slices as f32;
            positions.push([radius * phi.cos(), radius * phi.sin(), z]);
            normals.push([phi.cos(), phi.sin(), 0.0]);
        }
    };
    ring(-half_length, &mut positions, &mut normals);
    ring(half_length, &mut positions, &mut normals);
    let w = slices as u32 + 1;
    for j in 0..slices as u32 {
        indices.extend_from_slice(&[j, j + 1, w + j, w + j, j + 1, w + j + 1]);
    }
    for (z, sign) in [(half_length, 1.0f32), (-half_length, -1.0)] {
        if capsule {
            // A whole sphere at each end: its inner half is hidden inside the cylinder.
            let cap = ellipsoid([radius; 3], slices, slices / 2);
            let base = positions.len() as u32;
            for (p, n) in cap.positions.iter().zip(&cap.normals) {
                positions.push([p[0], p[1], p[2] + z]);
                normals.push(*n);
            }
            indices.extend(cap.indices.iter().map(|i| i + base));
        } else {
            let base = positions.len() as u32;
            positions.push([0.0, 0.0, z]);
            normals.push([0.0, 0.0, sign]);
            for j in 0..=slices {
                let phi = std::f32::consts::TAU * j as f32 / slices as f32;
                positions.push([radius * phi.cos(), radius * phi.sin(), z]);
                normals.push([0.0, 0.0, sign]);
            }
            for j in 0..slices as u32 {
                let (a, b) = (base + 1 + j, base + 2 + j);
                if sign > 0.0 {
                    indices.extend_from_slice(&[base, a, b]);
                } else {
                    indices.extend_from_slice(&[base, b, a]);
                }
            }
        }
    }
    RenderMesh::new(positions, normals, indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_box_faces_point_outward() {
        let b = unit_box();
        assert_eq!(b.triangles(), 12);
        for t in b.indices.chunks_exact(3) {
            let [p0, p1, p2] = [0, 1, 2].map(|k| b.positions[t[k] as usize]);
            let n = normalized(face_normal(p0, p1, p2));
            let centre: [f32; 3] = std::array::from_fn(|k| (p0[k] + p1[k] + p2[k]) / 3.0);
            assert!(dot(n, centre) > 0.9, "face {t:?} winds inward");
            assert!(dot(n, b.normals[t[0] as usize]) > 0.99);
        }
    }

    #[test]
    fn crease_normals_keep_a_cube_flat() {
        let b = unit_box();
        // Weld the box (8 corners) and rebuild normals: faces meet at 90 deg > 40 deg crease.
        let mut corners: Vec<[f32; 3]> = Vec::new();
        let idx: Vec<u32> = b
            .indices
            .iter()
            .map(|&i| {
                let p = b.positions[i as usize];
                match corners.iter().position(|c| *c == p) {
                    Some(k) => k as u32,
                    None => {
                        corners.push(p);
                        (corners.len() - 1) as u32
                    }
                }
            })
            .collect();
        let m = with_crease_normals(&corners, &idx, 40f32.to_radians().cos());
        assert_eq!(m.positions.len(), 24);
        for n in &m.normals {
            assert_eq!(n.iter().filter(|x| x.abs() > 0.999).count(), 1, "{n:?}");
        }
    }
}
