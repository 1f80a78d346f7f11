//! `RenderScene`: what the rasterizer draws, read once from the compiled model: one drawable per
//! visible geom (its render mesh, colour, material and segmentation class), the lights, the
//! headlight, the clip distances and the background. Poses come from `mjData` every frame.

use std::sync::Arc;

use mujoco_rs::prelude::*;

use super::lod::{self, RenderMesh};
use super::{RenderError, RenderOptions, SegClass};
use crate::scene::names;
use crate::scene::visual::{GeomShape, SceneVisuals};

/// How a drawable's triangles are made.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// An (optionally bounded) plane, drawn analytically per pixel.
    Plane {
        /// Half extents (0 = unbounded).
        half: [f32; 2],
    },
    /// A fixed mesh in the geom frame.
    Mesh(Arc<RenderMesh>),
    /// The unit box scaled each frame by the geom's current size (randomised cube sizes).
    ScaledBox,
}

/// A 2D texture of the model (RGB bytes) and how it maps onto a plane.
#[derive(Debug, Clone)]
pub(crate) struct PlaneTexture {
    pub width: usize,
    pub height: usize,
    pub rgb: Arc<[u8]>,
    pub repeat: [f32; 2],
    pub uniform: bool,
}

/// One geom to draw.
#[derive(Debug, Clone)]
pub(crate) struct Drawable {
    pub geom: usize,
    pub class: SegClass,
    pub shape: Shape,
    pub rgb: [f32; 3],
    pub emission: f32,
    pub specular: f32,
    /// OpenGL-style exponent (`shininess * 128`), rounded so `powi` is exact and fast.
    pub shininess: i32,
    pub texture: Option<PlaneTexture>,
    pub is_cube: bool,
    pub is_floor: bool,
}

/// One light of the model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LightSpec {
    pub index: usize,
    pub directional: bool,
    pub spot: bool,
    pub ambient: [f32; 3],
    pub diffuse: [f32; 3],
    pub specular: [f32; 3],
    pub cos_cutoff: f32,
    pub exponent: i32,
    pub attenuation: [f32; 3],
}

/// The static part of the picture.
#[derive(Debug, Clone)]
pub(crate) struct RenderScene {
    pub drawables: Vec<Drawable>,
    pub lights: Vec<LightSpec>,
    pub headlight: Option<([f32; 3], [f32; 3], [f32; 3])>,
    pub sky_top: [f32; 3],
    pub sky_bottom: [f32; 3],
    pub znear: f64,
    pub zfar: f64,
    pub ngeom: usize,
    pub cameras: Vec<(String, usize)>,
    pub geom_class: Vec<SegClass>,
    pub unit_box: Arc<RenderMesh>,
    pub triangles: usize,
}

fn robot_bodies(model: &MjModel) -> Vec<bool> {
    let nbody = model.ffi().nbody as usize;
    let root = model.name_to_id(MjtObjBase::mjOBJ_BODY, names::ALL_ROBOT_BODIES[0]);
    let parent = model.body_parentid();
    (0..nbody)
        .map(|mut b| {
            // Walk up to the world; the robot is everything under its base body.
            for _ in 0..nbody {
                if Some(b) == root {
                    return true;
                }
                if b == 0 {
                    return false;
                }
                b = parent[b].max(0) as usize;
            }
            false
        })
        .collect()
}

fn plane_texture(model: &MjModel, mat: usize) -> Option<PlaneTexture> {
    let role = MjtTextureRole::mjTEXROLE_RGB as usize;
    let tex = usize::try_from(*model.mat_texid().get(mat)?.get(role)?).ok()?;
    if model.tex_type()[tex] != MjtTexture::mjTEXTURE_2D {
        return None;
    }
    let (w, h) = (
        model.tex_width()[tex].max(0) as usize,
        model.tex_height()[tex].max(0) as usize,
    );
    let channels = model.tex_nchannel()[tex].max(0) as usize;
    let adr = usize::try_from(model.tex_adr()[tex]).ok()?;
    let bytes = model.tex_data().get(adr..adr + w * h * channels)?;
    if channels < 3 || w == 0 || h == 0 {
        return None;
    }
    let rgb: Vec<u8> = bytes
        .chunks_exact(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Some(PlaneTexture {
        width: w,
        height: h,
        rgb: rgb.into(),
        repeat: model.mat_texrepeat()[mat],
        uniform: model.mat_texuniform()[mat],
    })
}

/// The top and bottom colours of the model's skybox, if it has one.
fn sky(model: &MjModel) -> ([f32; 3], [f32; 3]) {
    let fallback = ([0.35, 0.45, 0.55], [0.05, 0.05, 0.08]);
    let ntex = model.ffi().ntex as usize;
    let Some(tex) = (0..ntex).find(|&t| model.tex_type()[t] == MjtTexture::mjTEXTURE_SKYBOX) else {
        return fallback;
    };
    let channels = model.tex_nchannel()[tex].max(0) as usize;
    let (w, h) = (
        model.tex_width()[tex].max(0) as usize,
        model.tex_height()[tex].max(0) as usize,
    );
    let Ok(adr) = usize::try_from(model.tex_adr()[tex]) else {
        return fallback;
    };
    let Some(bytes) = model.tex_data().get(adr..adr + w * h * channels) else {
        return fallback;
    };
    if channels < 3 || bytes.len() < 3 {
        return fallback;
    }
    let px = |i: usize| [0, 1, 2].map(|k| f32::from(bytes[i * channels + k]) / 255.0);
    (px(0), px(w * h - 1))
}

impl RenderScene {
    pub(crate) fn build(model: &MjModel, options: &RenderOptions) -> Result<Self, RenderError> {
        let visuals = SceneVisuals::extract(model);
        let robot = robot_bodies(model);
        let floor = model.name_to_id(MjtObjBase::mjOBJ_GEOM, names::FLOOR_GEOM);
        let cube_body = model.name_to_id(MjtObjBase::mjOBJ_BODY, names::CUBE_BODY);
        let matid = model.geom_matid();
        let geom_class: Vec<SegClass> = visuals
            .geoms
            .iter()
            .map(|g| {
                if Some(g.id) == floor {
                    SegClass::Floor
                } else if Some(g.body) == cube_body {
                    SegClass::Cube
                } else if robot.get(g.body).copied().unwrap_or(false) {
                    SegClass::Robot
                } else {
                    SegClass::Other
                }
            })
            .collect();
        let mut drawables = Vec::new();
        let mut triangles = 0;
        for g in &visuals.geoms {
            if !options.groups[g.group] || g.rgba[3] <= 0.0 {
                continue;
            }
            let Some(shape) = shape_of(model, &g.shape, options) else {
                continue;
            };
            triangles += match &shape {
                Shape::Mesh(m) => m.triangles(),
                Shape::ScaledBox => 12,
                Shape::Plane { .. } => 0,
            };
            let mat = usize::try_from(matid[g.id]).ok();
            let prop = |v: Option<&f32>, default: f32| v.copied().unwrap_or(default);
            let emission = prop(mat.and_then(|m| model.mat_emission().get(m)), 0.0);
            let specular = prop(mat.and_then(|m| model.mat_specular().get(m)), 0.5);
            let shininess = prop(mat.and_then(|m| model.mat_shininess().get(m)), 0.5);
            drawables.push(Drawable {
                geom: g.id,
                class: geom_class[g.id],
                shape,
                rgb: [g.rgba[0], g.rgba[1], g.rgba[2]],
                emission,
                specular,
                shininess: (shininess * 128.0).round().max(1.0) as i32,
                texture: mat.and_then(|m| plane_texture(model, m)),
                is_cube: geom_class[g.id] == SegClass::Cube,
                is_floor: geom_class[g.id] == SegClass::Floor,
            });
        }
        let lights = lights_of(model);
        let vis = &model.ffi().vis;
        let headlight = (vis.headlight.active != 0).then_some((
            vis.headlight.ambient,
            vis.headlight.diffuse,
            vis.headlight.specular,
        ));
        let extent = model.ffi().stat.extent;
        let cameras = (0..model.ffi().ncam as usize)
            .map(|c| {
                let name = model
                    .id_to_name(MjtObjBase::mjOBJ_CAMERA, c)
                    .unwrap_or_default()
                    .to_owned();
                (name, c)
            })
            .collect();
        let (sky_top, sky_bottom) = sky(model);
        Ok(Self {
            drawables,
            lights,
            headlight,
            sky_top,
            sky_bottom,
            znear: f64::from(vis.map.znear) * extent,
            zfar: f64::from(vis.map.zfar) * extent,
            ngeom: visuals.geoms.len(),
            cameras,
            geom_class,
            unit_box: Arc::new(lod::unit_box()),
            triangles,
        })
    }
}

/// The triangles of a geom's shape (`None` for shapes not drawn: height fields, SDFs).
fn shape_of(model: &MjModel, shape: &GeomShape, options: &RenderOptions) -> Option<Shape> {
    Some(match *shape {
        GeomShape::Plane { half } => Shape::Plane { half },
        GeomShape::Box { .. } => Shape::ScaledBox,
        GeomShape::Mesh { mesh } => {
            Shape::Mesh(lod::render_mesh(model, mesh, options.mesh_error_m))
        }
        GeomShape::Sphere { radius } => Shape::Mesh(Arc::new(lod::ellipsoid([radius; 3], 16, 8))),
        GeomShape::Ellipsoid { radii } => Shape::Mesh(Arc::new(lod::ellipsoid(radii, 16, 8))),
        GeomShape::Capsule {
            radius,
            half_length,
        } => Shape::Mesh(Arc::new(lod::cylinder(radius, half_length, true, 16))),
        GeomShape::Cylinder {
            radius,
            half_length,
        } => Shape::Mesh(Arc::new(lod::cylinder(radius, half_length, false, 16))),
        GeomShape::Unsupported => return None,
    })
}

/// The active spot and directional lights. MuJoCo's renderer draws only those (point and image
/// lights are unsupported there), so the images match what it would show.
fn lights_of(model: &MjModel) -> Vec<LightSpec> {
    (0..model.ffi().nlight as usize)
        .filter(|&l| {
            model.light_active()[l]
                && matches!(
                    model.light_type()[l],
                    MjtLightType::mjLIGHT_SPOT | MjtLightType::mjLIGHT_DIRECTIONAL
                )
        })
        .map(|l| {
            let kind = model.light_type()[l];
            LightSpec {
                index: l,
                directional: kind == MjtLightType::mjLIGHT_DIRECTIONAL,
                spot: kind == MjtLightType::mjLIGHT_SPOT,
                ambient: model.light_ambient()[l],
                diffuse: model.light_diffuse()[l],
                specular: model.light_specular()[l],
                cos_cutoff: model.light_cutoff()[l].to_radians().cos(),
                exponent: model.light_exponent()[l].round().max(0.0) as i32,
                attenuation: model.light_attenuation()[l],
            }
        })
        .collect()
}
