//! `OverlayPlugin`: draws the core overlay primitives ([`crate::overlay`]) with gizmos on top
//! of the scene, each overlay behind its own switch, and swaps the arm and cube into the x-ray
//! material on request. Labels are handed to the UI, which writes them next to their points.

use bevy::prelude::*;

use super::scene_render::{GeomMaterials, GeomVisual, mj_point32};
use super::state::{LatestSnapshot, LoadedScene, OverlayLabels, OverlaySettings, ViewSystems};
use crate::overlay::{self, Primitive, Rgba};

/// Draws the overlays.
pub struct OverlayPlugin {
    /// Initial settings.
    pub settings: OverlaySettings,
}

impl Plugin for OverlayPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.settings.clone())
            .init_resource::<OverlayLabels>()
            .add_systems(Startup, gizmos_on_top)
            .add_systems(
                Update,
                (draw_overlays, apply_xray).in_set(ViewSystems::Overlays),
            );
    }
}

fn gizmos_on_top(mut store: ResMut<GizmoConfigStore>) {
    let (config, _) = store.config_mut::<DefaultGizmoConfigGroup>();
    // Overlays are for seeing inside the grasp: never hide them behind the jaws.
    config.depth_bias = -1.0;
    config.line.width = 2.0;
}

fn color(c: Rgba) -> Color {
    Color::srgba(c[0], c[1], c[2], c[3])
}

/// The primitives of every enabled overlay for `snap`.
pub fn primitives(
    settings: &OverlaySettings,
    loaded: &LoadedScene,
    snap: &LatestSnapshot,
) -> Vec<Primitive> {
    let (s, h) = (&snap.0, &loaded.handles);
    let mut out = Vec::new();
    if settings.site_markers {
        out.extend(overlay::site_markers(s, h));
    }
    if settings.site_frames {
        out.extend(overlay::site_frames(
            s,
            &[h.gripperframe_site, h.graspframe_site],
            0.03,
        ));
    }
    if settings.targets {
        out.extend(overlay::targets(s));
    }
    if settings.calibration {
        let wrist = h
            .cameras
            .iter()
            .find(|(n, _)| *n == "wrist")
            .and_then(|&(_, id)| {
                let cam = loaded.visuals.cameras.iter().find(|c| c.id == id)?;
                let aspect = loaded.config.wrist_camera.as_ref().map_or(4.0 / 3.0, |w| {
                    f64::from(w.capture_width) / f64::from(w.capture_height.max(1))
                });
                Some(overlay::FrustumSpec {
                    camera: id,
                    fovy_deg: f64::from(cam.fovy_deg),
                    aspect,
                })
            });
        out.extend(overlay::calibration(
            s,
            h,
            loaded.config.pads.half_size_m,
            wrist,
        ));
    }
    if settings.contacts {
        out.extend(overlay::contacts(
            s,
            h,
            settings.force_scale,
            settings.selected_contact,
        ));
    }
    out
}

fn draw_overlays(
    settings: Res<OverlaySettings>,
    loaded: Res<LoadedScene>,
    snap: Res<LatestSnapshot>,
    mut labels: ResMut<OverlayLabels>,
    mut gizmos: Gizmos,
) {
    labels.0.clear();
    for p in primitives(&settings, &loaded, &snap) {
        match p {
            Primitive::Sphere {
                center,
                radius,
                color: c,
            } => {
                let at = mj_point32(center);
                gizmos.sphere(Isometry3d::from_translation(at), radius, color(c));
                // A cross through the centre marks the exact point, not just the outline.
                let r = radius * 0.6;
                for axis in [Vec3::X, Vec3::Y, Vec3::Z] {
                    gizmos.line(at - axis * r, at + axis * r, color(c));
                }
            }
            Primitive::Arrow { from, to, color: c } => {
                gizmos.arrow(mj_point32(from), mj_point32(to), color(c));
            }
            Primitive::Line { from, to, color: c } => {
                gizmos.line(mj_point32(from), mj_point32(to), color(c));
            }
            Primitive::Axes {
                origin,
                rot,
                length,
            } => {
                let o = mj_point32(origin);
                let colours = [
                    Color::srgb(1.0, 0.2, 0.2),
                    Color::srgb(0.2, 1.0, 0.2),
                    Color::srgb(0.3, 0.4, 1.0),
                ];
                for (i, c) in colours.into_iter().enumerate() {
                    let a = mj_point32(overlay::axis(&rot, i));
                    gizmos.line(o, o + a * length, c);
                }
            }
            Primitive::Label { at, text, color } => labels.0.push((mj_point32(at), text, color)),
        }
    }
}

/// Swaps the materials of every non-plane geom between normal and x-ray, when x-ray is switched
/// or the scene is rebuilt. Not merely when the settings were touched: the controls panel's
/// checkboxes borrow them mutably every frame, and re-inserting every geom's material each frame
/// re-extracts and re-specializes them all (CPU time a software renderer shares).
fn apply_xray(
    settings: Res<OverlaySettings>,
    loaded: Res<LoadedScene>,
    materials: Res<GeomMaterials>,
    mut commands: Commands,
    q: Query<(Entity, &GeomVisual)>,
    mut applied: Local<Option<(bool, u64)>>,
) {
    if !settings.is_changed() && !loaded.is_changed() {
        return;
    }
    let state = (settings.xray, loaded.generation);
    if *applied == Some(state) {
        return;
    }
    *applied = Some(state);
    for (e, g) in &q {
        let Some(Some(standard)) = materials.standard.get(g.geom) else {
            continue;
        };
        let Some(xray) = materials.xray.get(g.geom) else {
            continue;
        };
        let mut entity = commands.entity(e);
        if settings.xray {
            entity
                .remove::<MeshMaterial3d<StandardMaterial>>()
                .insert(MeshMaterial3d(xray.clone()));
        } else {
            entity
                .remove::<MeshMaterial3d<super::materials::XrayMaterial>>()
                .insert(MeshMaterial3d(standard.clone()));
        }
    }
}
