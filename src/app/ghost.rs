//! `GhostPlugin`: the teleop goal's IK solution drawn as a translucent arm ("ghost") where the
//! arm will settle, before it gets there, in one tint (cyan; red when the goal is out of reach).
//! Only the links whose pose differs from the arm's are drawn, so the ghost never sits on top of
//! the arm it previews.

use bevy::prelude::*;

use super::materials::XrayMaterial;
use super::scene_render::{GeomMaterials, GeomMesh, SceneEntity, mj_point, mj_rotation};
use super::state::{LatestSnapshot, LoadedScene, OverlaySettings, ViewSystems};

/// A ghost copy of one robot geom.
#[derive(Component, Debug, Clone, Copy)]
pub struct GhostGeom {
    /// Geom id.
    pub geom: usize,
}

#[derive(Resource, Debug, Clone)]
struct GhostMaterials {
    reachable: Handle<XrayMaterial>,
    unreachable: Handle<XrayMaterial>,
}

/// The IK preview arm.
pub struct GhostPlugin;

impl Plugin for GhostPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, make_materials).add_systems(
            Update,
            (
                spawn_ghost
                    .run_if(resource_changed::<LoadedScene>)
                    .after(super::scene_render::spawn_scene)
                    .in_set(ViewSystems::Spawn),
                place_ghost.in_set(ViewSystems::SyncTransforms),
            ),
        );
    }
}

fn make_materials(mut commands: Commands, mut materials: ResMut<Assets<XrayMaterial>>) {
    commands.insert_resource(GhostMaterials {
        reachable: materials.add(XrayMaterial::tinted(Color::srgb(0.3, 0.9, 1.0))),
        unreachable: materials.add(XrayMaterial::tinted(Color::srgb(1.0, 0.3, 0.3))),
    });
}

/// One ghost per visual (non-colliding) geom of the robot, sharing the real geom's mesh.
fn spawn_ghost(
    mut commands: Commands,
    loaded: Res<LoadedScene>,
    materials: Option<Res<GhostMaterials>>,
    geoms: Res<GeomMaterials>,
) {
    let Some(materials) = materials else {
        return;
    };
    let h = &loaded.handles;
    for (info, mesh) in loaded.visuals.geoms.iter().zip(&geoms.meshes) {
        let Some((mesh, scale)) = mesh else {
            continue;
        };
        if info.body == 0 || info.body == h.cube_body || info.collides {
            continue;
        }
        // `GeomMesh` has the ghost follow the mesh detail setting (full or decimated) too.
        commands.spawn((
            Mesh3d(mesh.clone()),
            MeshMaterial3d(materials.reachable.clone()),
            Transform::from_scale(*scale),
            Visibility::Hidden,
            GhostGeom { geom: info.id },
            GeomMesh { geom: info.id },
            SceneEntity,
        ));
    }
}

fn place_ghost(
    snap: Res<LatestSnapshot>,
    settings: Res<OverlaySettings>,
    materials: Option<Res<GhostMaterials>>,
    mut q: Query<(
        &GhostGeom,
        &mut Transform,
        &mut Visibility,
        &mut MeshMaterial3d<XrayMaterial>,
    )>,
) {
    let ghost = snap.0.annotations.ghost.as_ref().filter(|_| settings.ghost);
    for (g, mut t, mut vis, mut material) in &mut q {
        let pose = ghost.and_then(|gh| Some((gh.geom_pos.get(g.geom)?, gh.geom_mat.get(g.geom)?)));
        let shown = ghost.is_some_and(|gh| gh.differs(&snap.0, g.geom));
        let Some((p, m)) = pose.filter(|_| shown) else {
            vis.set_if_neq(Visibility::Hidden);
            continue;
        };
        vis.set_if_neq(Visibility::Inherited);
        t.translation = mj_point(*p);
        t.rotation = mj_rotation(m);
        if let (Some(mats), Some(gh)) = (&materials, ghost) {
            let want = if gh.converged {
                &mats.reachable
            } else {
                &mats.unreachable
            };
            if material.0 != *want {
                material.0 = want.clone();
            }
        }
    }
}
