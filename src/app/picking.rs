//! `PickingPlugin`: the mouse in the 3D view. Ctrl + left drag on the cube pulls it with a spring
//! (like MuJoCo's viewer); Shift + left drag moves the teleop goal. Both drag in the plane through
//! the grabbed point facing the camera.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::scene_render::{bevy_to_mj, cursor_ray, mj_point, mj_point32};
use super::state::{
    LatestSnapshot, LoadedScene, MainCamera, PointerOverUi, SimCommand, SimCommandQueue,
    TeleopState,
};
use crate::session::Perturb;

/// What the mouse is dragging.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq)]
pub enum Drag {
    /// Nothing.
    #[default]
    None,
    /// The cube, grabbed at a point given in its frame, dragged in a plane facing the camera.
    Cube {
        /// Grabbed point in the cube frame (MuJoCo axes).
        local: [f64; 3],
        /// Drag plane: a Bevy-world point on it.
        plane_point: Vec3,
    },
    /// The teleop goal.
    Goal {
        /// Drag plane point (Bevy world).
        plane_point: Vec3,
    },
}

/// Mouse drags in the view.
pub struct PickingPlugin;

impl Plugin for PickingPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Drag>()
            .add_systems(Update, drag_with_mouse);
    }
}

/// Where `ray` meets the plane through `point` facing `normal`.
fn on_plane(ray: Ray3d, point: Vec3, normal: Vec3) -> Option<Vec3> {
    let d = ray.intersect_plane(point, InfinitePlane3d::new(normal))?;
    Some(ray.get_point(d))
}

#[allow(
    clippy::too_many_arguments,
    reason = "mouse, camera, scene and both drag targets"
)]
fn drag_with_mouse(
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    window: Query<&Window, With<PrimaryWindow>>,
    camera: Query<(&Camera, &GlobalTransform), With<MainCamera>>,
    over_ui: Option<Res<PointerOverUi>>,
    snap: Res<LatestSnapshot>,
    loaded: Res<LoadedScene>,
    mut teleop: ResMut<TeleopState>,
    mut drag: ResMut<Drag>,
    mut queue: ResMut<SimCommandQueue>,
) {
    if buttons.just_released(MouseButton::Left) {
        if matches!(*drag, Drag::Cube { .. }) {
            queue.push(SimCommand::Perturb(None));
        }
        *drag = Drag::None;
        return;
    }
    let (Ok(w), Ok((cam, gt))) = (window.single(), camera.single()) else {
        return;
    };
    let Some(ray) = cursor_ray(w, cam, gt) else {
        return;
    };
    let forward = gt.forward().as_vec3();
    if buttons.just_pressed(MouseButton::Left) && !over_ui.is_some_and(|o| o.0) {
        let ctrl = keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]);
        let shift = keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]);
        *drag = start_drag(ray, ctrl, shift, &snap, &loaded, &teleop);
    }
    match *drag {
        Drag::None => {}
        Drag::Cube { local, plane_point } => {
            if let Some(p) = on_plane(ray, plane_point, -forward) {
                queue.push(SimCommand::Perturb(Some(Perturb {
                    local_point: local,
                    target: bevy_to_mj(p),
                })));
            }
        }
        Drag::Goal { plane_point } => {
            if let Some(p) = on_plane(ray, plane_point, -forward) {
                teleop.target = bevy_to_mj(p);
                queue.push(SimCommand::Teleop {
                    target: teleop.target,
                    gripper: if teleop.gripper_open { 1.0 } else { -1.0 },
                });
            }
        }
    }
}

/// Starts a drag when the ray passes within reach of the cube (ctrl) or the goal (shift).
fn start_drag(
    ray: Ray3d,
    ctrl: bool,
    shift: bool,
    snap: &LatestSnapshot,
    loaded: &LoadedScene,
    teleop: &TeleopState,
) -> Drag {
    // Distance from the ray to a point, and the ray's closest point to it.
    let closest = |c: Vec3| {
        let t = (c - ray.origin).dot(*ray.direction).max(0.0);
        let p = ray.get_point(t);
        (p, p.distance(c))
    };
    if ctrl {
        let body = loaded.handles.cube_body;
        let (Some(pos), Some(geom_mat)) = (
            snap.0.body_pos.get(body),
            snap.0.geom_mat.get(loaded.handles.cube_geom),
        ) else {
            return Drag::None;
        };
        let centre = mj_point(*pos);
        let (hit, dist) = closest(centre);
        let reach = 0.03;
        if dist > reach {
            return Drag::None;
        }
        // The grabbed point in the cube frame: R^T (p - c), MuJoCo axes.
        let p = bevy_to_mj(hit);
        let d = [p[0] - pos[0], p[1] - pos[1], p[2] - pos[2]];
        let m = geom_mat;
        let local = [
            m[0] * d[0] + m[3] * d[1] + m[6] * d[2],
            m[1] * d[0] + m[4] * d[1] + m[7] * d[2],
            m[2] * d[0] + m[5] * d[1] + m[8] * d[2],
        ];
        return Drag::Cube {
            local,
            plane_point: hit,
        };
    }
    if shift && teleop.active {
        let goal = mj_point32(teleop.target.map(|v| v as f32));
        if closest(goal).1 < 0.03 {
            return Drag::Goal { plane_point: goal };
        }
    }
    Drag::None
}
