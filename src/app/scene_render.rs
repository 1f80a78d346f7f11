//! `SceneRenderPlugin`: spawns one entity per compiled geom (meshes and primitives straight from
//! `mjModel`, with MJCF colours and lights) and moves them to the published poses every frame,
//! interpolated between fixed steps. Rebuilt whenever [`LoadedScene`] changes generation.
//! Mesh geoms draw MuJoCo's full meshes or the observation renderer's decimated ones
//! ([`MeshDetailSettings`]: `view --meshes`, `auto` = decimated on a software adapter, L toggles).

use std::f32::consts::FRAC_PI_2;

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;

use super::materials::{GridMaterial, XrayMaterial};
use super::state::{
    GroupVisibility, LatestSnapshot, LoadedScene, MeshDetail, MeshDetailSettings, PreviousSnapshot,
    ViewSystems, describe_adapter,
};
use crate::scene::visual::{GROUPS, GeomShape, LightKind, MeshData};

/// MuJoCo is Z-up, Bevy Y-up: world_bevy = C * world_mujoco with C a -90 degree turn about X.
pub fn mj_to_bevy_rotation() -> Quat {
    Quat::from_rotation_x(-FRAC_PI_2)
}

/// A Bevy world point (or direction) back in MuJoCo's world (z up).
pub fn bevy_to_mj(p: Vec3) -> [f64; 3] {
    [f64::from(p.x), f64::from(-p.z), f64::from(p.y)]
}

/// The ray through the mouse cursor of `window` seen by camera `cam` (Bevy world), if the
/// cursor is in the window.
pub fn cursor_ray(window: &Window, cam: &Camera, gt: &GlobalTransform) -> Option<Ray3d> {
    window
        .cursor_position()
        .and_then(|c| cam.viewport_to_world(gt, c).ok())
}

/// A MuJoCo world point in Bevy coordinates.
pub fn mj_point(p: [f64; 3]) -> Vec3 {
    Vec3::new(p[0] as f32, p[2] as f32, -(p[1] as f32))
}

/// A MuJoCo world point (f32) in Bevy coordinates.
pub fn mj_point32(p: [f32; 3]) -> Vec3 {
    Vec3::new(p[0], p[2], -p[1])
}

/// A MuJoCo row-major world orientation as a Bevy rotation.
pub fn mj_rotation(m: &[f64; 9]) -> Quat {
    let r = Mat3::from_cols(
        Vec3::new(m[0] as f32, m[3] as f32, m[6] as f32),
        Vec3::new(m[1] as f32, m[4] as f32, m[7] as f32),
        Vec3::new(m[2] as f32, m[5] as f32, m[8] as f32),
    );
    (mj_to_bevy_rotation() * Quat::from_mat3(&r)).normalize()
}

/// One rendered geom.
#[derive(Component, Debug, Clone, Copy)]
pub struct GeomVisual {
    /// Geom id.
    pub geom: usize,
    /// Visibility group.
    pub group: usize,
    /// Takes part in collisions.
    pub collides: bool,
    /// Scale applied on top of the pose (ellipsoids).
    pub scale: Vec3,
}

/// One rendered MJCF light.
#[derive(Component, Debug, Clone, Copy)]
pub struct LightVisual {
    /// Light id.
    pub light: usize,
}

/// Marks everything spawned for the current scene (despawned on rebuild).
#[derive(Component, Debug, Clone, Copy)]
pub struct SceneEntity;

/// An entity drawing the MuJoCo mesh of geom `geom` (the geom itself or its ghost copy): its
/// [`Mesh3d`] follows [`MeshDetailSettings`], full or decimated.
#[derive(Component, Debug, Clone, Copy)]
pub struct GeomMesh {
    /// Geom id.
    pub geom: usize,
}

/// Per-geom material handles (normal and x-ray), kept to switch modes without rebuilding.
#[derive(Resource, Debug, Default)]
pub struct GeomMaterials {
    /// Normal material per geom id (None for the grid floor).
    pub standard: Vec<Option<Handle<StandardMaterial>>>,
    /// X-ray material per geom id.
    pub xray: Vec<Handle<XrayMaterial>>,
    /// Mesh and scale per geom id (None for geoms not drawn), shared with the ghost arm. MuJoCo
    /// mesh geoms have their full mesh here.
    pub meshes: Vec<Option<(Handle<Mesh>, Vec3)>>,
    /// The decimated mesh per geom id (Some for MuJoCo mesh geoms only): the observation
    /// renderer's, from [`LoadedScene::lod_meshes`].
    pub lod_meshes: Vec<Option<Handle<Mesh>>>,
}

impl GeomMaterials {
    /// The mesh to draw for geom `geom`: the decimated one when `lod` and the geom has one.
    pub fn mesh_for(&self, geom: usize, lod: bool) -> Option<Handle<Mesh>> {
        let lod_mesh = self.lod_meshes.get(geom).cloned().flatten();
        match lod_mesh {
            Some(h) if lod => Some(h),
            _ => self.meshes.get(geom)?.as_ref().map(|(h, _)| h.clone()),
        }
    }
}

/// Draws the compiled scene.
#[derive(Default)]
pub struct SceneRenderPlugin {
    /// Mesh detail at start (`view --meshes`).
    pub meshes: MeshDetail,
}

impl Plugin for SceneRenderPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<GroupVisibility>()
            .init_resource::<GeomMaterials>()
            .insert_resource(MeshDetailSettings::new(self.meshes))
            .configure_sets(
                Update,
                (
                    ViewSystems::Spawn,
                    ViewSystems::SyncTransforms,
                    ViewSystems::Overlays,
                )
                    .chain(),
            )
            .add_systems(
                Update,
                (
                    resolve_mesh_detail.before(ViewSystems::Spawn),
                    spawn_scene
                        .run_if(resource_changed::<LoadedScene>)
                        .in_set(ViewSystems::Spawn),
                    (
                        sync_geom_transforms,
                        sync_lights,
                        apply_group_visibility,
                        apply_mesh_detail,
                    )
                        .in_set(ViewSystems::SyncTransforms),
                ),
            );
    }
}

fn mesh_of(data: &MeshData) -> Mesh {
    triangle_mesh(&data.positions, &data.normals, &data.indices)
}

fn triangle_mesh(positions: &[[f32; 3]], normals: &[[f32; 3]], indices: &[u32]) -> Mesh {
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions.to_vec())
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals.to_vec())
    .with_inserted_indices(Indices::U32(indices.to_vec()))
}

/// A decimated render mesh (the observation renderer's) as a Bevy mesh, in the mesh frame.
fn lod_mesh_of(mesh: &crate::render::RenderMesh) -> Mesh {
    triangle_mesh(&mesh.positions, &mesh.normals, &mesh.indices)
}

/// Bevy builds capsules, cylinders and planes around +Y; MuJoCo's axis is +Z.
fn y_to_z(mesh: Mesh) -> Mesh {
    mesh.rotated_by(Quat::from_rotation_x(FRAC_PI_2))
}

fn primitive_mesh(shape: GeomShape, extent: f32) -> Option<(Mesh, Vec3)> {
    let one = Vec3::ONE;
    Some(match shape {
        GeomShape::Plane { half } => {
            // MuJoCo draws a 0-sized plane as infinite; a few scene extents is plenty.
            let size = |h: f32| {
                if h > 0.0 {
                    2.0 * h
                } else {
                    10.0 * extent.max(0.5)
                }
            };
            let mesh = Plane3d::default()
                .mesh()
                .size(size(half[0]), size(half[1]))
                .build();
            (y_to_z(mesh), one)
        }
        GeomShape::Sphere { radius } => (Sphere::new(radius).mesh().ico(3).ok()?, one),
        GeomShape::Capsule {
            radius,
            half_length,
        } => (
            y_to_z(Capsule3d::new(radius, 2.0 * half_length).into()),
            one,
        ),
        GeomShape::Cylinder {
            radius,
            half_length,
        } => (y_to_z(Cylinder::new(radius, 2.0 * half_length).into()), one),
        GeomShape::Ellipsoid { radii } => (
            Sphere::new(1.0).mesh().ico(3).ok()?,
            Vec3::new(radii[0], radii[1], radii[2]),
        ),
        GeomShape::Box { half } => (
            Cuboid::new(2.0 * half[0], 2.0 * half[1], 2.0 * half[2]).into(),
            one,
        ),
        GeomShape::Mesh { .. } | GeomShape::Unsupported => return None,
    })
}

#[allow(
    clippy::too_many_arguments,
    reason = "one spawn pass over the scene's asset stores"
)]
/// Spawns the scene's entities (and despawns the previous scene's).
pub fn spawn_scene(
    mut commands: Commands,
    loaded: Res<LoadedScene>,
    old: Query<Entity, With<SceneEntity>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut standard: ResMut<Assets<StandardMaterial>>,
    mut xray: ResMut<Assets<XrayMaterial>>,
    mut grid: ResMut<Assets<GridMaterial>>,
    mut materials: ResMut<GeomMaterials>,
    detail: Option<Res<MeshDetailSettings>>,
) {
    for e in &old {
        commands.entity(e).despawn();
    }
    let v = &loaded.visuals;
    let lod = detail.is_some_and(|d| d.lod());
    let mesh_handles: Vec<Handle<Mesh>> = v.meshes.iter().map(|m| meshes.add(mesh_of(m))).collect();
    let lod_handles: Vec<Handle<Mesh>> = loaded
        .lod_meshes
        .iter()
        .map(|m| meshes.add(lod_mesh_of(m)))
        .collect();
    materials.standard.clear();
    materials.xray.clear();
    materials.meshes.clear();
    materials.lod_meshes.clear();
    for g in &v.geoms {
        let [r, gg, b, a] = g.rgba;
        let colour = Color::srgba(r, gg, b, a);
        materials.xray.push(xray.add(XrayMaterial::tinted(colour)));
        let lod_mesh = match g.shape {
            GeomShape::Mesh { mesh } => lod_handles.get(mesh).cloned(),
            _ => None,
        };
        materials.lod_meshes.push(lod_mesh.clone());
        let (mesh, scale) = match g.shape {
            GeomShape::Mesh { mesh } => match mesh_handles.get(mesh) {
                Some(h) => (h.clone(), Vec3::ONE),
                None => {
                    materials.standard.push(None);
                    materials.meshes.push(None);
                    continue;
                }
            },
            shape => match primitive_mesh(shape, v.extent) {
                Some((m, s)) => (meshes.add(m), s),
                None => {
                    materials.standard.push(None);
                    materials.meshes.push(None);
                    continue;
                }
            },
        };
        materials.meshes.push(Some((mesh.clone(), scale)));
        let visual = GeomVisual {
            geom: g.id,
            group: g.group,
            collides: g.collides,
            scale,
        };
        let drawn = match lod_mesh {
            Some(h) if lod => h,
            _ => mesh,
        };
        let mut entity = commands.spawn((
            Mesh3d(drawn),
            Transform::from_scale(scale),
            visual,
            SceneEntity,
            Name::new(g.name.clone()),
        ));
        if matches!(g.shape, GeomShape::Mesh { .. }) {
            entity.insert(GeomMesh { geom: g.id });
        }
        if matches!(g.shape, GeomShape::Plane { .. }) {
            entity.insert(MeshMaterial3d(grid.add(GridMaterial::default())));
            materials.standard.push(None);
        } else {
            let handle = standard.add(StandardMaterial {
                base_color: colour,
                perceptual_roughness: 0.6,
                alpha_mode: if a < 0.999 {
                    AlphaMode::Blend
                } else {
                    AlphaMode::Opaque
                },
                ..default()
            });
            entity.insert(MeshMaterial3d(handle.clone()));
            materials.standard.push(Some(handle));
        }
    }
    for l in &v.lights {
        let [r, g, b] = l.diffuse;
        let color = Color::srgb(r, g, b);
        let brightness = (r + g + b) / 3.0;
        let mut e = commands.spawn((
            Transform::default(),
            LightVisual { light: l.id },
            SceneEntity,
            Visibility::default(),
        ));
        if !l.active {
            e.insert(Visibility::Hidden);
        }
        match l.kind {
            LightKind::Directional => {
                e.insert(DirectionalLight {
                    color,
                    illuminance: 6000.0 * brightness,
                    shadow_maps_enabled: false,
                    ..default()
                });
            }
            LightKind::Spot | LightKind::Point => {
                e.insert(SpotLight {
                    color,
                    intensity: 4.0e5 * brightness,
                    range: 20.0,
                    outer_angle: l.cutoff_deg.to_radians().clamp(0.1, FRAC_PI_2 * 0.99),
                    inner_angle: 0.0,
                    shadow_maps_enabled: false,
                    ..default()
                });
            }
        }
    }
}

/// Moves every geom to its pose, interpolated between the last two fixed steps.
fn sync_geom_transforms(
    latest: Res<LatestSnapshot>,
    previous: Res<PreviousSnapshot>,
    fixed: Res<Time<Fixed>>,
    mut q: Query<(&GeomVisual, &mut Transform)>,
) {
    let (now, before) = (&latest.0, &previous.0);
    let alpha = fixed.overstep_fraction().clamp(0.0, 1.0);
    let blend = before.geom_pos.len() == now.geom_pos.len() && before.time <= now.time;
    for (g, mut t) in &mut q {
        let (Some(p), Some(m)) = (now.geom_pos.get(g.geom), now.geom_mat.get(g.geom)) else {
            continue;
        };
        let (mut pos, mut rot) = (mj_point(*p), mj_rotation(m));
        if blend {
            let (p0, r0) = (
                mj_point(before.geom_pos[g.geom]),
                mj_rotation(&before.geom_mat[g.geom]),
            );
            pos = p0.lerp(pos, alpha);
            rot = r0.slerp(rot, alpha);
        }
        *t = Transform {
            translation: pos,
            rotation: rot,
            scale: g.scale,
        };
    }
}

fn sync_lights(latest: Res<LatestSnapshot>, mut q: Query<(&LightVisual, &mut Transform)>) {
    for (l, mut t) in &mut q {
        let (Some(p), Some(d)) = (
            latest.0.light_pos.get(l.light),
            latest.0.light_dir.get(l.light),
        ) else {
            continue;
        };
        let pos = mj_point(*p);
        let dir = mj_point(*d).normalize_or(Vec3::NEG_Y);
        let up = if dir.abs().dot(Vec3::Y) > 0.99 {
            Vec3::Z
        } else {
            Vec3::Y
        };
        *t = Transform::from_translation(pos).looking_to(dir, up);
    }
}

/// Learns the render adapter once it exists (a window app only) and resolves `auto`.
fn resolve_mesh_detail(
    adapter: Option<Res<bevy::render::renderer::RenderAdapterInfo>>,
    detail: Option<ResMut<MeshDetailSettings>>,
) {
    let (Some(adapter), Some(mut detail)) = (adapter, detail) else {
        return;
    };
    if detail.adapter.is_some() {
        return;
    }
    let (summary, software) = describe_adapter(&adapter);
    detail.adapter_known(summary, software);
}

/// Points every [`GeomMesh`] entity at the full or the decimated mesh, when the setting changes
/// and for entities spawned since.
pub fn apply_mesh_detail(
    detail: Option<Res<MeshDetailSettings>>,
    materials: Res<GeomMaterials>,
    mut q: Query<(Ref<GeomMesh>, &mut Mesh3d)>,
) {
    let Some(detail) = detail else {
        return;
    };
    let lod = detail.lod();
    for (g, mut mesh) in &mut q {
        if !detail.is_changed() && !g.is_added() {
            continue;
        }
        if let Some(want) = materials.mesh_for(g.geom, lod)
            && mesh.0 != want
        {
            mesh.0 = want;
        }
    }
}

fn apply_group_visibility(
    groups: Res<GroupVisibility>,
    mut q: Query<(Ref<GeomVisual>, &mut Visibility)>,
) {
    for (g, mut v) in &mut q {
        if !groups.is_changed() && !g.is_added() {
            continue;
        }
        let kind_shown = if g.collides {
            groups.collision
        } else {
            groups.visual
        };
        let shown = groups.groups[g.group.min(GROUPS - 1)] && kind_shown;
        v.set_if_neq(if shown {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        });
    }
}
