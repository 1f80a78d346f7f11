//! What a renderer needs from the compiled model, as plain data: every geom's shape, size,
//! colour and group, every mesh's triangles, sites, lights and cameras. The app draws exactly
//! this, so what you see is what MuJoCo compiled (no hand-made stand-ins, no hard-coded ids).

use std::collections::HashMap;

use mujoco_rs::prelude::*;

/// Number of visibility groups MuJoCo knows (`mjNGROUP`).
pub const GROUPS: usize = 6;

/// Groups MuJoCo's viewer shows by default (0, 1, 2 on; 3, 4, 5 off).
pub const DEFAULT_VISIBLE_GROUPS: [bool; GROUPS] = [true, true, true, false, false, false];

/// A geom's shape in its own frame, MuJoCo conventions (Z is the axis of capsules and cylinders).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeomShape {
    /// Infinite plane drawn as a rectangle with these half sizes (0 = MuJoCo's "infinite").
    Plane {
        /// Half extents in x and y, metres.
        half: [f32; 2],
    },
    /// Sphere.
    Sphere {
        /// Radius, metres.
        radius: f32,
    },
    /// Capsule along local Z.
    Capsule {
        /// Radius, metres.
        radius: f32,
        /// Half length of the cylinder part, metres.
        half_length: f32,
    },
    /// Cylinder along local Z.
    Cylinder {
        /// Radius, metres.
        radius: f32,
        /// Half length, metres.
        half_length: f32,
    },
    /// Ellipsoid.
    Ellipsoid {
        /// Radii, metres.
        radii: [f32; 3],
    },
    /// Box.
    Box {
        /// Half extents, metres.
        half: [f32; 3],
    },
    /// Triangle mesh; the index into [`SceneVisuals::meshes`].
    Mesh {
        /// Mesh id.
        mesh: usize,
    },
    /// A type we do not draw (height fields, SDFs).
    Unsupported,
}

/// One geom as MuJoCo compiled it.
#[derive(Debug, Clone, PartialEq)]
pub struct GeomVisual {
    /// Geom id.
    pub id: usize,
    /// Name, or `geom <id>` for unnamed geoms.
    pub name: String,
    /// Body id.
    pub body: usize,
    /// Visibility group (0..5).
    pub group: usize,
    /// Colour: the material's when it has one, else the geom's rgba.
    pub rgba: [f32; 4],
    /// Shape and size.
    pub shape: GeomShape,
    /// Whether the geom takes part in collisions (contype or conaffinity set).
    pub collides: bool,
}

/// Triangles of one mesh in the mesh frame, with MuJoCo's normals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeshData {
    /// Mesh name.
    pub name: String,
    /// Vertex positions, metres.
    pub positions: Vec<[f32; 3]>,
    /// Unit normals, one per position.
    pub normals: Vec<[f32; 3]>,
    /// Triangle list into `positions`.
    pub indices: Vec<u32>,
}

impl MeshData {
    /// Triangle count.
    pub fn triangles(&self) -> usize {
        self.indices.len() / 3
    }
}

/// One site (drawn only by overlays).
#[derive(Debug, Clone, PartialEq)]
pub struct SiteVisual {
    /// Site id.
    pub id: usize,
    /// Name.
    pub name: String,
    /// Visibility group.
    pub group: usize,
    /// Rendering size (first component = radius for spheres).
    pub size: [f32; 3],
}

/// Kind of an MJCF light.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LightKind {
    /// Spot light with a cone.
    Spot,
    /// Directional light (sun).
    Directional,
    /// Point light.
    Point,
}

/// One MJCF light.
#[derive(Debug, Clone, PartialEq)]
pub struct LightVisual {
    /// Light id.
    pub id: usize,
    /// Kind.
    pub kind: LightKind,
    /// Diffuse colour.
    pub diffuse: [f32; 3],
    /// Whether it casts shadows.
    pub cast_shadow: bool,
    /// Spot cutoff, degrees.
    pub cutoff_deg: f32,
    /// Whether the light is on.
    pub active: bool,
}

/// One MJCF camera.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraVisual {
    /// Camera id.
    pub id: usize,
    /// Name.
    pub name: String,
    /// Vertical field of view, degrees.
    pub fovy_deg: f32,
}

/// Everything a renderer draws, read from one compiled model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SceneVisuals {
    /// Geoms in id order.
    pub geoms: Vec<GeomVisual>,
    /// Meshes in id order.
    pub meshes: Vec<MeshData>,
    /// Sites in id order.
    pub sites: Vec<SiteVisual>,
    /// Lights in id order.
    pub lights: Vec<LightVisual>,
    /// Cameras in id order.
    pub cameras: Vec<CameraVisual>,
    /// The model's extent (`stat.extent`), metres: sets default camera distances.
    pub extent: f32,
    /// The model's centre (`stat.center`).
    pub center: [f32; 3],
    /// Headlight ambient colour (`visual/headlight`).
    pub headlight_ambient: [f32; 3],
    /// Headlight diffuse colour.
    pub headlight_diffuse: [f32; 3],
}

impl SceneVisuals {
    /// Reads the visual description of `model`.
    pub fn extract(model: &MjModel) -> Self {
        let meshes = (0..model.ffi().nmesh as usize)
            .map(|m| mesh_data(model, m))
            .collect();
        let stat = &model.ffi().stat;
        Self {
            geoms: geoms(model),
            meshes,
            sites: sites(model),
            lights: lights(model),
            cameras: cameras(model),
            extent: stat.extent as f32,
            center: stat.center.map(|c| c as f32),
            headlight_ambient: model.ffi().vis.headlight.ambient,
            headlight_diffuse: model.ffi().vis.headlight.diffuse,
        }
    }

    /// Total triangles over all mesh geoms (a mesh used twice counts twice).
    pub fn mesh_triangles(&self) -> usize {
        self.geoms
            .iter()
            .filter_map(|g| match g.shape {
                GeomShape::Mesh { mesh } => self.meshes.get(mesh).map(MeshData::triangles),
                _ => None,
            })
            .sum()
    }
}

fn name_or(model: &MjModel, kind: MjtObjBase, id: usize, fallback: &str) -> String {
    match model.id_to_name(kind, id) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => format!("{fallback} {id}"),
    }
}

fn group_of(g: i32) -> usize {
    (g.max(0) as usize).min(GROUPS - 1)
}

fn geoms(model: &MjModel) -> Vec<GeomVisual> {
    let n = model.ffi().ngeom as usize;
    let (types, sizes, rgba) = (model.geom_type(), model.geom_size(), model.geom_rgba());
    let (matid, mat_rgba, dataid) = (model.geom_matid(), model.mat_rgba(), model.geom_dataid());
    let (contype, conaff) = (model.geom_contype(), model.geom_conaffinity());
    (0..n)
        .map(|g| {
            let s = sizes[g].map(|v| v as f32);
            let shape = match types[g] {
                MjtGeomBase::mjGEOM_PLANE => GeomShape::Plane { half: [s[0], s[1]] },
                MjtGeomBase::mjGEOM_SPHERE => GeomShape::Sphere { radius: s[0] },
                MjtGeomBase::mjGEOM_CAPSULE => GeomShape::Capsule {
                    radius: s[0],
                    half_length: s[1],
                },
                MjtGeomBase::mjGEOM_CYLINDER => GeomShape::Cylinder {
                    radius: s[0],
                    half_length: s[1],
                },
                MjtGeomBase::mjGEOM_ELLIPSOID => GeomShape::Ellipsoid { radii: s },
                MjtGeomBase::mjGEOM_BOX => GeomShape::Box { half: s },
                MjtGeomBase::mjGEOM_MESH if dataid[g] >= 0 => GeomShape::Mesh {
                    mesh: dataid[g] as usize,
                },
                _ => GeomShape::Unsupported,
            };
            let colour = usize::try_from(matid[g])
                .ok()
                .and_then(|m| mat_rgba.get(m).copied())
                .unwrap_or(rgba[g]);
            GeomVisual {
                id: g,
                name: name_or(model, MjtObjBase::mjOBJ_GEOM, g, "geom"),
                body: model.geom_bodyid()[g].max(0) as usize,
                group: group_of(model.geom_group()[g]),
                rgba: colour,
                shape,
                collides: contype[g] != 0 || conaff[g] != 0,
            }
        })
        .collect()
}

/// MuJoCo stores one vertex array and a separate normal array per mesh, with per-face indices
/// into each. A GPU wants one index per (position, normal) pair, so pairs are de-duplicated.
pub(crate) fn mesh_data(model: &MjModel, m: usize) -> MeshData {
    let vert_adr = model.mesh_vertadr()[m].max(0) as usize;
    let normal_adr = model.mesh_normaladr()[m].max(0) as usize;
    let face_adr = model.mesh_faceadr()[m].max(0) as usize;
    let face_num = model.mesh_facenum()[m].max(0) as usize;
    let (verts, normals) = (model.mesh_vert(), model.mesh_normal());
    let (faces, face_normals) = (model.mesh_face(), model.mesh_facenormal());
    let mut out = MeshData {
        name: name_or(model, MjtObjBase::mjOBJ_MESH, m, "mesh"),
        ..MeshData::default()
    };
    let mut seen: HashMap<(i32, i32), u32> = HashMap::new();
    for f in face_adr..face_adr + face_num {
        let (Some(face), Some(fnorm)) = (faces.get(f), face_normals.get(f)) else {
            break;
        };
        for k in 0..3 {
            let key = (face[k], fnorm[k]);
            let index = *seen.entry(key).or_insert_with(|| {
                let p = verts
                    .get(vert_adr + face[k].max(0) as usize)
                    .copied()
                    .unwrap_or_default();
                let n = normals
                    .get(normal_adr + fnorm[k].max(0) as usize)
                    .copied()
                    .unwrap_or([0.0, 0.0, 1.0]);
                out.positions.push(p);
                out.normals.push(n);
                (out.positions.len() - 1) as u32
            });
            out.indices.push(index);
        }
    }
    out
}

fn sites(model: &MjModel) -> Vec<SiteVisual> {
    (0..model.ffi().nsite as usize)
        .map(|s| SiteVisual {
            id: s,
            name: name_or(model, MjtObjBase::mjOBJ_SITE, s, "site"),
            group: group_of(model.site_group()[s]),
            size: model.site_size()[s].map(|v| v as f32),
        })
        .collect()
}

fn lights(model: &MjModel) -> Vec<LightVisual> {
    (0..model.ffi().nlight as usize)
        .map(|l| LightVisual {
            id: l,
            kind: match model.light_type()[l] {
                MjtLightType::mjLIGHT_DIRECTIONAL => LightKind::Directional,
                MjtLightType::mjLIGHT_SPOT => LightKind::Spot,
                _ => LightKind::Point,
            },
            diffuse: model.light_diffuse()[l],
            cast_shadow: model.light_castshadow()[l],
            cutoff_deg: model.light_cutoff()[l],
            active: model.light_active()[l],
        })
        .collect()
}

fn cameras(model: &MjModel) -> Vec<CameraVisual> {
    (0..model.ffi().ncam as usize)
        .map(|c| CameraVisual {
            id: c,
            name: name_or(model, MjtObjBase::mjOBJ_CAMERA, c, "camera"),
            fovy_deg: model.cam_fovy()[c] as f32,
        })
        .collect()
}
