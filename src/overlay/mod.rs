//! Debug overlays as data: pure functions from a [`SimSnapshot`] to drawing primitives
//! (spheres, arrows, axes, labels). The app turns primitives into gizmos; tests check them
//! without a renderer. Colours live here too, so the legend and the drawing cannot disagree.

use nalgebra::{Matrix3, Vector3};

use crate::scene::SceneHandles;
use crate::sim::{ContactInfo, SimSnapshot};

/// Linear RGBA colour.
pub type Rgba = [f32; 4];

/// The TCP (`gripperframe`) marker.
pub const GRIPPERFRAME_COLOR: Rgba = [1.0, 0.1, 0.8, 1.0];
/// The `graspframe` marker.
pub const GRASPFRAME_COLOR: Rgba = [0.1, 0.85, 1.0, 1.0];
/// The IK target.
pub const IK_TARGET_COLOR: Rgba = [1.0, 0.9, 0.1, 1.0];
/// The scripted pick's target.
pub const PICK_TARGET_COLOR: Rgba = [0.2, 1.0, 0.3, 1.0];
/// The teleoperation goal.
pub const TELEOP_TARGET_COLOR: Rgba = [1.0, 0.55, 0.1, 1.0];
/// A contact point.
pub const CONTACT_COLOR: Rgba = [1.0, 0.25, 0.2, 1.0];
/// A pad-cube contact point (the ones a good grasp is made of).
pub const PAD_CONTACT_COLOR: Rgba = [0.1, 1.0, 0.2, 1.0];
/// Contact normals.
pub const NORMAL_COLOR: Rgba = [0.3, 0.5, 1.0, 1.0];
/// Contact forces.
pub const FORCE_COLOR: Rgba = [1.0, 0.6, 0.0, 1.0];
/// A contact selected in the table.
pub const SELECTED_COLOR: Rgba = [1.0, 1.0, 1.0, 1.0];

/// Every overlay colour with what it means, for the legend.
pub const LEGEND: [(&str, Rgba); 10] = [
    ("gripperframe (TCP)", GRIPPERFRAME_COLOR),
    ("graspframe", GRASPFRAME_COLOR),
    ("IK target", IK_TARGET_COLOR),
    ("scripted pick target", PICK_TARGET_COLOR),
    ("teleop goal", TELEOP_TARGET_COLOR),
    ("contact point", CONTACT_COLOR),
    ("pad-cube contact", PAD_CONTACT_COLOR),
    ("contact normal", NORMAL_COLOR),
    ("contact force", FORCE_COLOR),
    ("selected contact", SELECTED_COLOR),
];

/// Radius of the site marker spheres, metres.
pub const SITE_MARKER_RADIUS: f32 = 0.006;
/// Length of the normal arrows, metres.
pub const NORMAL_LENGTH: f32 = 0.02;

/// One thing to draw, world frame (MuJoCo axes: Z up).
#[derive(Debug, Clone, PartialEq)]
pub enum Primitive {
    /// A wire sphere.
    Sphere {
        /// Centre.
        center: [f32; 3],
        /// Radius.
        radius: f32,
        /// Colour.
        color: Rgba,
    },
    /// An arrow from `from` to `to`.
    Arrow {
        /// Tail.
        from: [f32; 3],
        /// Head.
        to: [f32; 3],
        /// Colour.
        color: Rgba,
    },
    /// A frame's axes (x red, y green, z blue).
    Axes {
        /// Origin.
        origin: [f32; 3],
        /// Orientation, row-major (columns are the axes).
        rot: [f32; 9],
        /// Axis length.
        length: f32,
    },
    /// A plain line segment.
    Line {
        /// One end.
        from: [f32; 3],
        /// The other end.
        to: [f32; 3],
        /// Colour.
        color: Rgba,
    },
    /// Text anchored at a point.
    Label {
        /// Anchor.
        at: [f32; 3],
        /// Text.
        text: String,
        /// Colour.
        color: Rgba,
    },
}

fn f32x3(v: [f64; 3]) -> [f32; 3] {
    v.map(|x| x as f32)
}

/// Spheres and labels at `gripperframe` and `graspframe`.
pub fn site_markers(snap: &SimSnapshot, handles: &SceneHandles) -> Vec<Primitive> {
    let mut out = Vec::new();
    for (site, color, text) in [
        (
            handles.gripperframe_site,
            GRIPPERFRAME_COLOR,
            "gripperframe",
        ),
        (handles.graspframe_site, GRASPFRAME_COLOR, "graspframe"),
    ] {
        if let Some(p) = snap.site(site) {
            let center = f32x3(p);
            out.push(Primitive::Sphere {
                center,
                radius: SITE_MARKER_RADIUS,
                color,
            });
            out.push(Primitive::Label {
                at: center,
                text: text.to_owned(),
                color,
            });
        }
    }
    out
}

/// Axes for each site in `sites`.
pub fn site_frames(snap: &SimSnapshot, sites: &[usize], length: f32) -> Vec<Primitive> {
    sites
        .iter()
        .filter_map(|&s| {
            Some(Primitive::Axes {
                origin: f32x3(*snap.site_pos.get(s)?),
                rot: snap.site_mat.get(s)?.map(|x| x as f32),
                length,
            })
        })
        .collect()
}

/// The IK target, the teleop goal and the scripted pick's target with its phase.
pub fn targets(snap: &SimSnapshot) -> Vec<Primitive> {
    let a = &snap.annotations;
    let phase = format!("pick: {}", a.pick_phase.as_deref().unwrap_or("?"));
    let mut out = Vec::new();
    for (at, scale, color, text) in [
        (a.ik_target, 1.4, IK_TARGET_COLOR, "IK target"),
        (a.teleop_target, 1.2, TELEOP_TARGET_COLOR, "teleop goal"),
        (a.pick_target, 1.8, PICK_TARGET_COLOR, phase.as_str()),
    ] {
        let Some(t) = at else {
            continue;
        };
        out.push(Primitive::Sphere {
            center: f32x3(t),
            radius: SITE_MARKER_RADIUS * scale,
            color,
        });
        out.push(Primitive::Label {
            at: f32x3(t),
            text: text.to_owned(),
            color,
        });
    }
    if let Some(m) = a.place_target {
        out.extend(place_region(&m));
    }
    if let Some((from, to)) = a.perturb {
        out.push(Primitive::Arrow {
            from: f32x3(from),
            to: f32x3(to),
            color: TELEOP_TARGET_COLOR,
        });
    }
    out
}

/// Segments of the drawn success circle.
const REGION_SEGMENTS: usize = 48;

/// The place target: a circle of the success radius on the table, a cross at its centre and a
/// label; green while the cube centre is inside.
pub fn place_region(m: &crate::sim::PlaceMarker) -> Vec<Primitive> {
    let color = if m.cube_inside {
        PAD_CONTACT_COLOR
    } else {
        PICK_TARGET_COLOR
    };
    // A hair above the table so the lines are not z-fighting with it.
    let z = (m.pos[2] + 0.0005) as f32;
    let (cx, cy, r) = (m.pos[0] as f32, m.pos[1] as f32, m.radius_m as f32);
    let at = |k: usize| {
        let a = k as f32 / REGION_SEGMENTS as f32 * std::f32::consts::TAU;
        [cx + r * a.cos(), cy + r * a.sin(), z]
    };
    let mut out: Vec<Primitive> = (0..REGION_SEGMENTS)
        .map(|k| Primitive::Line {
            from: at(k),
            to: at(k + 1),
            color,
        })
        .collect();
    let arm = r * 0.4;
    for (dx, dy) in [(arm, 0.0), (0.0, arm)] {
        out.push(Primitive::Line {
            from: [cx - dx, cy - dy, z],
            to: [cx + dx, cy + dy, z],
            color,
        });
    }
    out.push(Primitive::Label {
        at: [cx, cy, z + 0.01],
        text: format!("target (r {:.0} mm)", m.radius_m * 1e3),
        color,
    });
    out
}

/// Whether a contact is between a finger pad and the cube.
pub fn is_pad_cube(c: &ContactInfo, handles: &SceneHandles) -> bool {
    c.is_between(handles.static_pad_geom, handles.cube_geom)
        || c.is_between(handles.moving_pad_geom, handles.cube_geom)
}

/// Contact points, normals and force arrows (`force_scale` metres per newton); the contact at
/// index `selected` is drawn white; pad-cube contacts are green and labelled with depth.
pub fn contacts(
    snap: &SimSnapshot,
    handles: &SceneHandles,
    force_scale: f32,
    selected: Option<usize>,
) -> Vec<Primitive> {
    let mut out = Vec::new();
    for (i, c) in snap.contacts.iter().enumerate() {
        let p = f32x3(c.pos);
        let pad = is_pad_cube(c, handles);
        let color = if selected == Some(i) {
            SELECTED_COLOR
        } else if pad {
            PAD_CONTACT_COLOR
        } else {
            CONTACT_COLOR
        };
        out.push(Primitive::Sphere {
            center: p,
            radius: 0.0015,
            color,
        });
        let n = Vector3::from(f32x3(c.normal));
        out.push(Primitive::Arrow {
            from: p,
            to: (Vector3::from(p) + n * NORMAL_LENGTH).into(),
            color: NORMAL_COLOR,
        });
        let f = Vector3::from(f32x3(c.force_world));
        if f.norm() > 1e-6 {
            out.push(Primitive::Arrow {
                from: p,
                to: (Vector3::from(p) + f * force_scale).into(),
                color: FORCE_COLOR,
            });
        }
        if pad || selected == Some(i) {
            out.push(Primitive::Label {
                at: p,
                text: format!("{:.2} mm", c.penetration * 1e3),
                color,
            });
        }
    }
    out
}

/// The pads' colour in the calibration view.
pub const PAD_FACE_COLOR: Rgba = [0.2, 1.0, 0.6, 1.0];
/// The wrist camera's frustum in the calibration view.
pub const FRUSTUM_COLOR: Rgba = [0.95, 0.95, 0.4, 1.0];
/// Depth to which the wrist camera's frustum is drawn, metres.
pub const FRUSTUM_DEPTH_M: f64 = 0.12;

/// The wrist camera as the calibration view draws it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrustumSpec {
    /// Camera id.
    pub camera: usize,
    /// Vertical field of view, degrees.
    pub fovy_deg: f64,
    /// Width / height of its images.
    pub aspect: f64,
}

/// The calibration view: `gripperframe` and `graspframe` (markers and axes), the edges of both
/// pad boxes (`pad_half_size`, metres), and the wrist camera's frustum.
pub fn calibration(
    snap: &SimSnapshot,
    handles: &SceneHandles,
    pad_half_size: [f64; 3],
    wrist: Option<FrustumSpec>,
) -> Vec<Primitive> {
    let mut out = site_markers(snap, handles);
    out.extend(site_frames(
        snap,
        &[handles.gripperframe_site, handles.graspframe_site],
        0.02,
    ));
    for (geom, name) in [
        (handles.static_pad_geom, "static pad"),
        (handles.moving_pad_geom, "moving pad"),
    ] {
        let (Some(p), Some(m)) = (snap.geom_pos.get(geom), snap.geom_mat.get(geom)) else {
            continue;
        };
        let (c, r) = (Vector3::from(*p), Matrix3::from_row_slice(m));
        let corner = |i: usize| {
            let sign = |bit: usize| if i >> bit & 1 == 1 { 1.0 } else { -1.0 };
            let local = Vector3::new(
                sign(0) * pad_half_size[0],
                sign(1) * pad_half_size[1],
                sign(2) * pad_half_size[2],
            );
            f32x3((c + r * local).into())
        };
        for i in 0..8usize {
            for bit in 0..3 {
                let j = i | (1 << bit);
                if j != i {
                    out.push(Primitive::Line {
                        from: corner(i),
                        to: corner(j),
                        color: PAD_FACE_COLOR,
                    });
                }
            }
        }
        out.push(Primitive::Label {
            at: f32x3(*p),
            text: name.to_owned(),
            color: PAD_FACE_COLOR,
        });
    }
    if let Some(w) = wrist {
        out.extend(frustum(snap, w));
    }
    out
}

/// The edges of a camera's view pyramid out to [`FRUSTUM_DEPTH_M`].
fn frustum(snap: &SimSnapshot, w: FrustumSpec) -> Vec<Primitive> {
    let (Some(p), Some(m)) = (snap.cam_pos.get(w.camera), snap.cam_mat.get(w.camera)) else {
        return Vec::new();
    };
    let (eye, r) = (Vector3::from(*p), Matrix3::from_row_slice(m));
    let half_h = FRUSTUM_DEPTH_M * (0.5 * w.fovy_deg.to_radians()).tan();
    let half_w = half_h * w.aspect;
    // Camera frame: x right, y up, looking along -z.
    let corners: Vec<[f32; 3]> = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
        .iter()
        .map(|(sx, sy)| {
            f32x3((eye + r * Vector3::new(sx * half_w, sy * half_h, -FRUSTUM_DEPTH_M)).into())
        })
        .collect();
    let mut out = Vec::new();
    for i in 0..4 {
        for (from, to) in [(f32x3(*p), corners[i]), (corners[i], corners[(i + 1) % 4])] {
            out.push(Primitive::Line {
                from,
                to,
                color: FRUSTUM_COLOR,
            });
        }
    }
    out.push(Primitive::Label {
        at: corners[2],
        text: "wrist camera".to_owned(),
        color: FRUSTUM_COLOR,
    });
    out
}

/// Where a label of `size` (width, height) for a point at `anchor` goes on screen, given the
/// rectangles `placed` of labels already there (all `[left, top, width, height]`, pixels): to the
/// anchor's upper right, moved down past every label it would overlap, kept inside `bounds`
/// (left, top, right, bottom). Labels placed this way never overlap; a moved one should get a
/// leader line to its anchor.
pub fn place_label(
    placed: &[[f32; 4]],
    anchor: [f32; 2],
    size: [f32; 2],
    bounds: [f32; 4],
) -> [f32; 4] {
    let overlaps = |a: &[f32; 4], b: &[f32; 4]| {
        a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3]
    };
    let left = (anchor[0] + 8.0).min(bounds[2] - size[0]).max(bounds[0]);
    let mut rect = [left, anchor[1] - size[1] - 4.0, size[0], size[1]];
    rect[1] = rect[1].max(bounds[1]);
    // Each move goes below a placed label, so this ends after at most placed.len() moves.
    while let Some(hit) = placed.iter().find(|r| overlaps(r, &rect)) {
        rect[1] = hit[1] + hit[3] + 1.0;
    }
    rect
}

/// A frame's axis `i` (0 = x) as a world vector, for renderers of [`Primitive::Axes`].
pub fn axis(rot: &[f32; 9], i: usize) -> [f32; 3] {
    let m = Matrix3::from_row_slice(rot);
    m.column(i).into()
}

#[cfg(test)]
mod tests {
    use super::place_label;

    #[test]
    fn labels_at_one_point_stack_without_overlapping() {
        let mut placed: Vec<[f32; 4]> = Vec::new();
        for w in [90.0, 70.0, 60.0, 55.0, 80.0] {
            let r = place_label(&placed, [100.0, 50.0], [w, 12.0], [0.0, 0.0, 400.0, 300.0]);
            for p in &placed {
                let apart = r[1] >= p[1] + p[3] || p[1] >= r[1] + r[3] || r[0] >= p[0] + p[2];
                assert!(apart, "{r:?} overlaps {p:?}");
            }
            assert!(r[0] >= 0.0 && r[0] + r[2] <= 400.0);
            placed.push(r);
        }
        // Near the right edge a label moves left to stay inside.
        let r = place_label(&[], [395.0, 50.0], [60.0, 12.0], [0.0, 0.0, 400.0, 300.0]);
        assert_eq!(r[0] + r[2], 400.0);
    }
}
