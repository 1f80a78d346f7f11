//! Lights as the fixed-function pipeline (MuJoCo's renderer) sees them: the headlight and the
//! model's spot and directional lights in the world, moved into a geom's frame, reduced to one
//! direction and factor per light at a point, and the ambient, diffuse and Blinn specular terms.

use nalgebra::{Matrix3, Rotation3, Vector3};

use super::camera::CameraModel;
use super::look::Appearance;
use super::scene::{LightSpec, RenderScene};
use crate::sim::Sim;

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
pub(crate) fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[inline]
pub(crate) fn v3(v: Vector3<f64>) -> [f32; 3] {
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
pub(crate) fn local_lights(
    lights: &[Light],
    r: &Matrix3<f64>,
    o: &Vector3<f64>,
    out: &mut Vec<Light>,
) {
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

/// A light as seen from one point: direction toward it and the spot and attenuation factor. A
/// mesh takes them at its centre (the lights are metres away; a geom spans centimetres); a plane
/// at each lighting grid point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GeomLight {
    dir: [f32; 3],
    k: f32,
    ambient: [f32; 3],
    diffuse: [f32; 3],
    specular: [f32; 3],
}

pub(crate) fn geom_lights(local: &[Light], centre: [f32; 3], out: &mut Vec<GeomLight>) {
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

/// OpenGL fixed-function lighting (MuJoCo's renderer) of a point with unit normal `n`, eye at
/// `eye`: the factor on the albedo (ambient + diffuse) and the additive specular colour.
#[inline]
pub(crate) fn light_vertex(
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
