//! The pinhole camera of an MJCF camera, with MuJoCo's conventions: the camera frame is
//! `cam_xpos` / `cam_xmat` (x right, y up, looking along -z), `fovy` is the vertical field of
//! view, pixels are square, the principal point is the image centre, and row 0 is the top of
//! the image (as MuJoCo's Python `Renderer` returns it). Depth is the distance along the optical
//! axis, as MuJoCo's depth buffer linearised.

use nalgebra::{Matrix3, Rotation3, Vector3};

/// Where a camera is and what it sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CameraModel {
    /// Camera position, world.
    pub pos: Vector3<f64>,
    /// Camera axes as columns (x right, y up, z backward), world.
    pub rot: Matrix3<f64>,
    /// Vertical field of view, degrees.
    pub fovy_deg: f64,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Near clipping distance, metres (`vis.map.znear * stat.extent`, as MuJoCo).
    pub znear: f64,
    /// Far clipping distance, metres; background pixels get this depth.
    pub zfar: f64,
}

/// How to frame `points`: the centre of their bounding box (a mean would lean towards where
/// points are dense) and the distance at which the sphere around the box (half its diagonal, at
/// least 1 cm) fits a view of vertical field of view `fovy_deg` and width / height `aspect`,
/// times `margin`. Every point of the box is then in view, from any direction.
pub fn fit_points(
    points: &[Vector3<f64>],
    fovy_deg: f64,
    aspect: f64,
    margin: f64,
) -> (Vector3<f64>, f64) {
    let lo = points
        .iter()
        .fold(Vector3::repeat(f64::INFINITY), |a, p| a.inf(p));
    let hi = points
        .iter()
        .fold(Vector3::repeat(f64::NEG_INFINITY), |a, p| a.sup(p));
    if points.is_empty() {
        return (Vector3::zeros(), 1.0);
    }
    let radius = ((hi - lo).norm() / 2.0).max(0.01);
    let half_v = 0.5 * fovy_deg.to_radians();
    let half = half_v.min((half_v.tan() * aspect.max(0.1)).atan());
    ((lo + hi) / 2.0, margin * radius / half.sin())
}

/// A perturbation of a camera in its own frame (domain randomisation of the mount).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct CameraJitter {
    /// Offset of the position in the camera frame, metres.
    pub offset_m: [f64; 3],
    /// Rotation vector (axis times angle, radians) in the camera frame.
    pub rotation_rad: [f64; 3],
    /// Added to the field of view, degrees.
    pub fovy_deg: f64,
}

impl CameraModel {
    /// Focal length in pixels: half the image height over tan(fovy / 2).
    pub fn focal_px(&self) -> f64 {
        0.5 * f64::from(self.height) / (0.5 * self.fovy_deg.to_radians()).tan()
    }

    /// The principal point (image centre), pixels.
    pub fn centre_px(&self) -> (f64, f64) {
        (0.5 * f64::from(self.width), 0.5 * f64::from(self.height))
    }

    /// A world point in the camera frame (z < 0 in front of the camera).
    pub fn to_camera(&self, world: &Vector3<f64>) -> Vector3<f64> {
        self.rot.transpose() * (world - self.pos)
    }

    /// Projects a world point: `(column, row, depth)` in pixels (continuous, pixel centres at
    /// +0.5) and metres along the optical axis; `None` behind the near plane.
    pub fn project(&self, world: &Vector3<f64>) -> Option<(f64, f64, f64)> {
        let p = self.to_camera(world);
        let depth = -p.z;
        if depth < self.znear {
            return None;
        }
        let f = self.focal_px();
        let (cx, cy) = self.centre_px();
        Some((cx + f * p.x / depth, cy - f * p.y / depth, depth))
    }

    /// The unit-depth ray through pixel centre `(col, row)`, camera frame (z = -1).
    pub fn pixel_ray_camera(&self, col: f64, row: f64) -> Vector3<f64> {
        let f = self.focal_px();
        let (cx, cy) = self.centre_px();
        Vector3::new((col + 0.5 - cx) / f, -(row + 0.5 - cy) / f, -1.0)
    }

    /// The ray through pixel centre `(col, row)` in world coordinates, scaled so that a point at
    /// depth `d` is `pos + d * ray`.
    pub fn pixel_ray_world(&self, col: f64, row: f64) -> Vector3<f64> {
        self.rot * self.pixel_ray_camera(col, row)
    }

    /// The camera moved by `jitter` (in its own frame).
    pub fn jittered(&self, jitter: &CameraJitter) -> Self {
        let r = Rotation3::from_scaled_axis(Vector3::from(jitter.rotation_rad));
        Self {
            pos: self.pos + self.rot * Vector3::from(jitter.offset_m),
            rot: self.rot * r.matrix(),
            fovy_deg: (self.fovy_deg + jitter.fovy_deg).clamp(1.0, 179.0),
            ..*self
        }
    }

    /// A camera at `eye` looking at `target`, with world +z up in the image.
    pub fn look_at(
        eye: Vector3<f64>,
        target: Vector3<f64>,
        fovy_deg: f64,
        width: u32,
        height: u32,
    ) -> Self {
        let back = (eye - target)
            .try_normalize(1e-12)
            .unwrap_or_else(Vector3::z);
        let right = Vector3::z()
            .cross(&back)
            .try_normalize(1e-9)
            .unwrap_or_else(Vector3::x);
        let up = back.cross(&right);
        Self {
            pos: eye,
            rot: Matrix3::from_columns(&[right, up, back]),
            fovy_deg,
            width,
            height,
            znear: 0.01,
            zfar: 10.0,
        }
    }

    /// A camera looking along `-from` (a direction from the subject towards the camera) that
    /// keeps every one of `points` inside the image with a margin: the view that frames a
    /// subject however it moves.
    pub fn framing(
        points: &[Vector3<f64>],
        from: Vector3<f64>,
        fovy_deg: f64,
        width: u32,
        height: u32,
    ) -> Self {
        let aspect = f64::from(width.max(1)) / f64::from(height.max(1));
        // 1.08: a margin so markers and labels near the edge stay in view.
        let (centre, distance) = fit_points(points, fovy_deg, aspect, 1.08);
        let dir = from.try_normalize(1e-12).unwrap_or_else(Vector3::z);
        Self::look_at(centre + distance * dir, centre, fovy_deg, width, height)
    }

    /// The same view at another resolution (same vertical field of view).
    pub fn with_size(&self, width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            ..*self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cam() -> CameraModel {
        CameraModel {
            pos: Vector3::new(0.0, 0.0, 1.0),
            rot: Matrix3::identity(),
            fovy_deg: 90.0,
            width: 100,
            height: 100,
            znear: 0.01,
            zfar: 10.0,
        }
    }

    #[test]
    fn projection_follows_mujoco_conventions() {
        let c = cam();
        // Straight ahead (-z) lands on the centre.
        let (u, v, d) = c.project(&Vector3::new(0.0, 0.0, 0.0)).expect("in front");
        assert_eq!((u, v, d), (50.0, 50.0, 1.0));
        // +y (camera up) is toward row 0; +x toward the last column. fovy 90: the top edge at
        // depth 1 is y = 1.
        let (u, v, _) = c.project(&Vector3::new(1.0, 1.0, 0.0)).expect("in front");
        assert!((u - 100.0).abs() < 1e-12 && v.abs() < 1e-12);
        assert!(c.project(&Vector3::new(0.0, 0.0, 2.0)).is_none(), "behind");
    }

    #[test]
    fn pixel_rays_invert_projection() {
        let c = cam();
        let ray = c.pixel_ray_world(12.0, 70.0);
        let p = c.pos + 0.7 * ray;
        let (u, v, d) = c.project(&p).expect("in front");
        assert!((u - 12.5).abs() < 1e-9 && (v - 70.5).abs() < 1e-9 && (d - 0.7).abs() < 1e-12);
    }
}
