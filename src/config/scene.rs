//! `SceneConfig`: everything people tune when a grasp misbehaves, applied by `scene::build`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Check, ConfigError, FieldError};

/// The lift scene: robot source, physics options, actuators, cube, finger pads, sites, collision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SceneConfig {
    /// Directory holding `so101_new_calib.xml` and its `assets/` meshes; empty = the pinned wheel
    /// unpacked by `tools/setup.sh`.
    pub robot_dir: PathBuf,
    /// Solver and integrator options.
    pub physics: PhysicsConfig,
    /// Position-servo gains and force limits.
    pub actuators: ActuatorConfig,
    /// The cube to lift.
    pub cube: CubeConfig,
    /// The box pads at the fingertips.
    pub pads: PadConfig,
    /// Contact parameters of the pads (what touches the cube).
    pub contact: ContactConfig,
    /// TCP and grasp sites on the gripper body.
    pub sites: SitesConfig,
    /// Which robot geoms collide.
    pub collision: CollisionConfig,
    /// The grasp predicate.
    pub grasp: GraspConfig,
    /// The wrist camera, calibrated to the real SO-101 mount. Absent in files written before it
    /// existed: those keep the camera of `sites.wrist_camera_*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrist_camera: Option<WristCameraConfig>,
}

/// The wrist camera of the real arm: an innoMaker USB camera (130 deg diagonal / 103 deg
/// horizontal on its 16:9 sensor) in the SO-101 wrist mount, capturing 640x480 (4:3, full
/// sensor height). Policies see a centre crop of that capture resized to their input size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WristCameraConfig {
    /// Position in the gripper body frame, metres.
    pub pos: [f64; 3],
    /// Orientation as MJCF `euler` (radians, the model's `eulerseq`) in the gripper body frame.
    pub euler: [f64; 3],
    /// Vertical field of view of the capture, degrees (also the field of view of its square
    /// centre crop: the crop keeps the full height).
    pub fovy_deg: f64,
    /// Capture width of the real camera, pixels.
    pub capture_width: u32,
    /// Capture height of the real camera, pixels.
    pub capture_height: u32,
}

impl Default for WristCameraConfig {
    #[allow(
        clippy::approx_constant,
        reason = "3.14159 is the calibration's own number, kept as measured"
    )]
    fn default() -> Self {
        Self {
            pos: [0.008, -0.065, -0.019],
            euler: [0.398, 0.0, 3.14159],
            fovy_deg: 70.5,
            capture_width: 640,
            capture_height: 480,
        }
    }
}

/// MuJoCo's `<option>` values that matter for grasping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhysicsConfig {
    /// Physics timestep in seconds.
    pub timestep_secs: f64,
    /// `euler`, `implicitfast`, `implicit` or `rk4`.
    pub integrator: Integrator,
    /// `newton`, `cg` or `pgs`.
    pub solver: Solver,
    /// `elliptic` or `pyramidal` friction cones.
    pub cone: Cone,
    /// Ratio of frictional to normal constraint impedance; higher stops slip.
    pub impratio: f64,
    /// Main solver iterations.
    pub iterations: i64,
    /// Noslip post-processing iterations (0 = off).
    pub noslip_iterations: i64,
}

/// Numerical integrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Integrator {
    /// Semi-implicit Euler.
    Euler,
    /// Implicit in velocity, fast variant.
    Implicitfast,
    /// Implicit in velocity.
    Implicit,
    /// Fourth-order Runge-Kutta.
    Rk4,
}

/// Constraint solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    /// Newton's method.
    Newton,
    /// Conjugate gradient.
    Cg,
    /// Projected Gauss-Seidel.
    Pgs,
}

/// Friction cone type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cone {
    /// Elliptic cones (stop slip better).
    Elliptic,
    /// Pyramidal cones.
    Pyramidal,
}

/// Position servos of the six joints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActuatorConfig {
    /// Proportional gain of every position servo (N m / rad).
    pub kp: f64,
    /// Force (torque) limit of the five arm servos, N m.
    pub arm_force_limit: f64,
    /// Force limit of the gripper servo, N m.
    pub gripper_force_limit: f64,
}

/// The cube: a free box resting on the floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CubeConfig {
    /// Edge length in metres.
    pub size_m: f64,
    /// Mass in kilograms.
    pub mass_kg: f64,
    /// Sliding, torsional and rolling friction. MuJoCo takes the max with the other geom, so
    /// against the pads (friction 1) this sliding value never applies.
    pub friction: [f64; 3],
}

/// Box pads at the fingertips: what actually holds the cube.
///
/// Each pad is placed from a point on its jaw's contact surface (in the jaw body's frame) and the
/// surface's inward normal: its centre sits `protrusion_m - half_size_m[axis]` along the normal,
/// so the pad face stands `protrusion_m` proud of the jaw mesh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PadConfig {
    /// Half sizes of the pad box (x, y, z in the pad frame), metres.
    pub half_size_m: [f64; 3],
    /// How far the pad face stands beyond the jaw mesh surface, metres.
    pub protrusion_m: f64,
    /// Contact-surface point of the static jaw, in the `gripper` body frame.
    pub static_surface_point: [f64; 3],
    /// Unit normal of that surface pointing toward the cube (gripper body frame).
    pub static_surface_normal: [f64; 3],
    /// Contact-surface point of the moving jaw, in the moving jaw body frame.
    pub moving_surface_point: [f64; 3],
    /// Unit normal of that surface pointing toward the cube (moving jaw frame).
    pub moving_surface_normal: [f64; 3],
}

/// Contact parameters of the finger pads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactConfig {
    /// Sliding, torsional and rolling friction of the pads.
    pub pad_friction: [f64; 3],
    /// Contact dimensionality of the pads (1, 3, 4 or 6).
    pub pad_condim: i64,
    /// solref (time constant, damping ratio) of the pads.
    pub pad_solref: [f64; 2],
    /// solimp (dmin, dmax, width, midpoint, power) of the pads.
    pub pad_solimp: [f64; 5],
    /// Weight of the pads' solref/solimp when MuJoCo mixes them with the cube's (cube: 1).
    pub pad_solmix: f64,
}

/// Sites on the gripper body, in its frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SitesConfig {
    /// `gripperframe`: the TCP, centred between the fingertips.
    pub gripperframe_pos: [f64; 3],
    /// `graspframe`: between the fingers, about 6 cm back toward the wrist.
    pub graspframe_pos: [f64; 3],
    /// Legacy wrist camera position in the gripper body frame (used only without
    /// `[wrist_camera]`, i.e. by scenes recorded before the calibrated camera).
    pub wrist_camera_pos: [f64; 3],
    /// Legacy wrist camera orientation (w, x, y, z); it looks along its -z.
    pub wrist_camera_quat: [f64; 4],
    /// Legacy wrist camera vertical field of view, degrees.
    pub wrist_camera_fovy_deg: f64,
}

/// Collision set of the robot.
///
/// Robot collision geoms get contype 2 / conaffinity 1 and the world (floor, cube) 1 / 1, so the
/// robot touches the floor and the cube but never itself (its links overlap at the joints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollisionConfig {
    /// Bodies whose upstream collision meshes (convex hulls) stay on. The others are switched
    /// off: the base and shoulder never reach the cube, and the hulls of the hand fill the gap
    /// between the jaws, so the hand collides through `boxes` instead.
    pub mesh_bodies: Vec<String>,
    /// Primitive boxes that replace the hand's hull collision.
    pub boxes: Vec<CollisionBox>,
    /// Let robot links collide with each other (contype/conaffinity 1/1, MuJoCo still skips
    /// parent-child pairs), as the upstream model does. Off: the links overlap at the joints
    /// and only cost collision checks.
    pub self_collision: bool,
}

/// An axis-aligned collision box in a body's frame, given by two opposite corners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollisionBox {
    /// Body the box is attached to.
    pub body: String,
    /// Geom name.
    pub name: String,
    /// Lower corner (x, y, z), metres, body frame.
    pub min: [f64; 3],
    /// Upper corner.
    pub max: [f64; 3],
}

/// When the robot counts as grasping the cube.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraspConfig {
    /// The gripper joint must be below this (rad; low = closed) ...
    pub closed_below_rad: f64,
    // ... and both pads must touch the cube.
}

impl Default for SceneConfig {
    fn default() -> Self {
        Self {
            robot_dir: PathBuf::new(),
            physics: PhysicsConfig::default(),
            actuators: ActuatorConfig::default(),
            cube: CubeConfig::default(),
            pads: PadConfig::default(),
            contact: ContactConfig::default(),
            sites: SitesConfig::default(),
            collision: CollisionConfig::default(),
            grasp: GraspConfig::default(),
            wrist_camera: Some(WristCameraConfig::default()),
        }
    }
}

impl Default for PhysicsConfig {
    fn default() -> Self {
        Self {
            timestep_secs: 0.002,
            integrator: Integrator::Euler,
            solver: Solver::Newton,
            cone: Cone::Elliptic,
            impratio: 10.0,
            iterations: 100,
            noslip_iterations: 3,
        }
    }
}

impl Default for ActuatorConfig {
    fn default() -> Self {
        Self {
            kp: 17.8,
            arm_force_limit: 3.35,
            gripper_force_limit: 10.0,
        }
    }
}

impl Default for CubeConfig {
    fn default() -> Self {
        Self {
            size_m: 0.03,
            mass_kg: 0.03,
            friction: [0.5, 0.005, 0.0001],
        }
    }
}

impl Default for PadConfig {
    fn default() -> Self {
        Self {
            half_size_m: [0.00125; 3],
            protrusion_m: 0.00015,
            static_surface_point: [-0.0079, -0.0002, -0.0965],
            static_surface_normal: [1.0, 0.0, 0.0],
            moving_surface_point: [-0.0123, -0.07305, 0.0189],
            moving_surface_normal: [-1.0, 0.0, 0.0],
        }
    }
}

impl Default for ContactConfig {
    fn default() -> Self {
        Self {
            pad_friction: [1.0, 0.05, 0.001],
            pad_condim: 3,
            pad_solref: [0.004, 1.0],
            pad_solimp: [0.99, 0.999, 0.001, 0.5, 2.0],
            pad_solmix: 1000.0,
        }
    }
}

impl Default for SitesConfig {
    fn default() -> Self {
        Self {
            gripperframe_pos: [0.00725, -0.0002, -0.0965],
            graspframe_pos: [0.00725, -0.0002, -0.0365],
            wrist_camera_pos: [0.0, 0.045, -0.03],
            wrist_camera_quat: [0.9659, -0.2588, 0.0, 0.0],
            wrist_camera_fovy_deg: 75.0,
        }
    }
}

impl Default for CollisionConfig {
    fn default() -> Self {
        let b = |body: &str, name: &str, min: [f64; 3], max: [f64; 3]| CollisionBox {
            body: body.to_owned(),
            name: name.to_owned(),
            min,
            max,
        };
        Self {
            mesh_bodies: vec!["upper_arm".into(), "lower_arm".into(), "wrist".into()],
            boxes: vec![
                b(
                    "gripper",
                    "fixed_finger_tip",
                    [-0.0141, -0.0058, -0.1044],
                    [-0.0079, 0.0054, -0.0942],
                ),
                b(
                    "gripper",
                    "fixed_finger_mid",
                    [-0.0212, -0.0076, -0.0942],
                    [-0.0099, 0.0071, -0.0810],
                ),
                b(
                    "gripper",
                    "fixed_finger_up",
                    [-0.0284, -0.0089, -0.0810],
                    [-0.0116, 0.0084, -0.0610],
                ),
                b(
                    "gripper",
                    "fixed_finger_root",
                    [-0.0345, -0.0121, -0.0610],
                    [-0.0133, 0.0117, -0.0430],
                ),
                b(
                    "gripper",
                    "gripper_housing",
                    [-0.0352, -0.0280, -0.0430],
                    [0.0300, 0.0240, 0.0010],
                ),
                b(
                    "moving_jaw_so101_v1",
                    "moving_finger_tip",
                    [-0.0123, -0.0820, 0.0140],
                    [-0.0030, -0.0718, 0.0238],
                ),
                b(
                    "moving_jaw_so101_v1",
                    "moving_finger_mid",
                    [-0.0103, -0.0718, 0.0118],
                    [0.0015, -0.0618, 0.0260],
                ),
                b(
                    "moving_jaw_so101_v1",
                    "moving_finger_up",
                    [-0.0083, -0.0618, 0.0090],
                    [0.0070, -0.0280, 0.0290],
                ),
                b(
                    "moving_jaw_so101_v1",
                    "moving_jaw_root",
                    [-0.0100, -0.0280, -0.0050],
                    [0.0100, 0.0090, 0.0430],
                ),
            ],
            self_collision: false,
        }
    }
}

impl Default for GraspConfig {
    fn default() -> Self {
        Self {
            closed_below_rad: 0.25,
        }
    }
}

impl SceneConfig {
    /// Loads and validates a scene config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        super::load_toml(path, Self::validate)
    }

    /// Parses and validates TOML text; `origin` names the source in errors.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        super::parse_toml(text, origin, Self::validate)
    }

    /// The robot directory, falling back to the one `tools/setup.sh` installed.
    pub fn resolved_robot_dir(&self) -> PathBuf {
        if self.robot_dir.as_os_str().is_empty() {
            crate::paths::robot_dir()
        } else {
            self.robot_dir.clone()
        }
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), FieldError> {
        let p = &self.physics;
        Check::range("physics.timestep_secs", p.timestep_secs, 1e-5, 0.01)?;
        Check::range("physics.impratio", p.impratio, 1.0, 100.0)?;
        Check::int_range("physics.iterations", p.iterations, 1, 1000)?;
        Check::int_range("physics.noslip_iterations", p.noslip_iterations, 0, 100)?;
        let a = &self.actuators;
        Check::range("actuators.kp", a.kp, 0.1, 1000.0)?;
        Check::range("actuators.arm_force_limit", a.arm_force_limit, 0.01, 100.0)?;
        Check::range(
            "actuators.gripper_force_limit",
            a.gripper_force_limit,
            0.01,
            100.0,
        )?;
        let c = &self.cube;
        Check::range("cube.size_m", c.size_m, 0.005, 0.08)?;
        Check::range("cube.mass_kg", c.mass_kg, 0.001, 1.0)?;
        Check::each("cube.friction", &c.friction, 0.0, 5.0)?;
        let pad = &self.pads;
        Check::each("pads.half_size_m", &pad.half_size_m, 0.0002, 0.01)?;
        Check::range("pads.protrusion_m", pad.protrusion_m, -0.002, 0.002)?;
        Check::each(
            "pads.static_surface_point",
            &pad.static_surface_point,
            -0.2,
            0.2,
        )?;
        Check::each(
            "pads.moving_surface_point",
            &pad.moving_surface_point,
            -0.2,
            0.2,
        )?;
        unit_vector("pads.static_surface_normal", pad.static_surface_normal)?;
        unit_vector("pads.moving_surface_normal", pad.moving_surface_normal)?;
        let k = &self.contact;
        Check::each("contact.pad_friction", &k.pad_friction, 0.0, 5.0)?;
        if ![1, 3, 4, 6].contains(&k.pad_condim) {
            return Err(FieldError {
                field: "contact.pad_condim".into(),
                value: k.pad_condim.to_string(),
                allowed: "one of 1, 3, 4, 6".into(),
            });
        }
        Check::range("contact.pad_solmix", k.pad_solmix, 0.0, 1e6)?;
        Check::range("contact.pad_solref[0]", k.pad_solref[0], 1e-4, 1.0)?;
        Check::range("contact.pad_solref[1]", k.pad_solref[1], 0.01, 10.0)?;
        Check::range("contact.pad_solimp[0]", k.pad_solimp[0], 0.0, 0.9999)?;
        Check::range("contact.pad_solimp[1]", k.pad_solimp[1], 0.0, 0.9999)?;
        Check::range("contact.pad_solimp[2]", k.pad_solimp[2], 0.0, 0.1)?;
        Check::range("contact.pad_solimp[3]", k.pad_solimp[3], 0.0, 1.0)?;
        Check::range("contact.pad_solimp[4]", k.pad_solimp[4], 1.0, 10.0)?;
        Check::each(
            "sites.gripperframe_pos",
            &self.sites.gripperframe_pos,
            -0.2,
            0.2,
        )?;
        Check::each(
            "sites.graspframe_pos",
            &self.sites.graspframe_pos,
            -0.2,
            0.2,
        )?;
        Check::each(
            "sites.wrist_camera_pos",
            &self.sites.wrist_camera_pos,
            -0.3,
            0.3,
        )?;
        Check::range(
            "sites.wrist_camera_fovy_deg",
            self.sites.wrist_camera_fovy_deg,
            10.0,
            160.0,
        )?;
        if let Some(w) = &self.wrist_camera {
            Check::each("wrist_camera.pos", &w.pos, -0.3, 0.3)?;
            Check::each("wrist_camera.euler", &w.euler, -7.0, 7.0)?;
            Check::range("wrist_camera.fovy_deg", w.fovy_deg, 10.0, 160.0)?;
            Check::int_range(
                "wrist_camera.capture_width",
                i64::from(w.capture_width),
                16,
                4096,
            )?;
            Check::int_range(
                "wrist_camera.capture_height",
                i64::from(w.capture_height),
                16,
                4096,
            )?;
        }
        for (i, b) in self.collision.boxes.iter().enumerate() {
            for k in 0..3 {
                let ordered = b.min[k] < b.max[k];
                let inside = b.min[k].abs() < 0.5 && b.max[k].abs() < 0.5;
                if !(ordered && inside) {
                    return Err(FieldError {
                        field: format!("collision.boxes[{i}] ({})", b.name),
                        value: format!("min {:?} max {:?}", b.min, b.max),
                        allowed: "min < max on every axis, within +/-0.5 m".into(),
                    });
                }
            }
        }
        Check::range(
            "grasp.closed_below_rad",
            self.grasp.closed_below_rad,
            -0.17,
            1.74,
        )?;
        Ok(())
    }
}

fn unit_vector(field: &str, v: [f64; 3]) -> Result<(), FieldError> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if (norm - 1.0).abs() < 1e-3 {
        Ok(())
    } else {
        Err(FieldError {
            field: field.to_owned(),
            value: format!("{v:?} (norm {norm:.4})"),
            allowed: "a unit vector (norm 1 +/- 0.001)".to_owned(),
        })
    }
}
