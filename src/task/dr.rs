//! Domain randomisation: ranges (`configs/dr/*.toml`, or `[dr]` in a task config), one sample
//! per episode drawn from the episode seed, and the sample applied to the renderer (lights,
//! floor and cube surfaces, camera mount) and to the physics (cube size, mass and friction,
//! servo gains, action latency). The sample is stored in the episode header, so a replay shows
//! the same world.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::{Check, ConfigError, FieldError};
use crate::render::{Appearance, CameraJitter, Pattern, Surface};

/// A closed interval `[min, max]`.
pub type Range = [f64; 2];

fn check_range(field: &str, r: Range, lo: f64, hi: f64) -> Result<(), FieldError> {
    Check::range(&format!("{field}[0]"), r[0], lo, hi)?;
    Check::range(&format!("{field}[1]"), r[1], lo, hi)?;
    if r[0] > r[1] {
        return Err(FieldError {
            field: field.to_owned(),
            value: format!("[{}, {}]", r[0], r[1]),
            allowed: "[min, max] with min <= max".into(),
        });
    }
    Ok(())
}

/// Surface patterns a randomised surface may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// The model's own material (texture and colour).
    Model,
    /// One colour.
    Plain,
    /// Two-colour squares.
    Checker,
    /// Brightness noise.
    Noise,
}

/// Ranges for one surface (floor or cube).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurfaceRanges {
    /// Lower corner of the colour box (linear RGB 0..1).
    pub rgb_min: [f64; 3],
    /// Upper corner of the colour box.
    pub rgb_max: [f64; 3],
    /// Patterns to choose from, uniformly.
    pub patterns: Vec<PatternKind>,
    /// Checker square size, metres.
    pub checker_size_m: Range,
    /// Noise amplitude (relative brightness).
    pub noise_amplitude: Range,
    /// Noise feature size, metres.
    pub noise_scale_m: Range,
}

impl Default for SurfaceRanges {
    fn default() -> Self {
        Self {
            rgb_min: [0.0; 3],
            rgb_max: [1.0; 3],
            patterns: vec![PatternKind::Model],
            checker_size_m: [0.01, 0.1],
            noise_amplitude: [0.0, 0.3],
            noise_scale_m: [0.005, 0.05],
        }
    }
}

impl SurfaceRanges {
    fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        for k in 0..3 {
            check_range(
                &format!("{prefix}.rgb_min/rgb_max[{k}]"),
                [self.rgb_min[k], self.rgb_max[k]],
                0.0,
                1.0,
            )?;
        }
        if self.patterns.is_empty() {
            return Err(FieldError {
                field: format!("{prefix}.patterns"),
                value: "[]".into(),
                allowed: "one or more of \"model\", \"plain\", \"checker\", \"noise\"".into(),
            });
        }
        check_range(
            &format!("{prefix}.checker_size_m"),
            self.checker_size_m,
            0.001,
            1.0,
        )?;
        check_range(
            &format!("{prefix}.noise_amplitude"),
            self.noise_amplitude,
            0.0,
            1.0,
        )?;
        check_range(
            &format!("{prefix}.noise_scale_m"),
            self.noise_scale_m,
            0.001,
            1.0,
        )
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> Option<Surface> {
        let kind = self.patterns[rng.random_range(0..self.patterns.len())];
        let rgb: [f32; 3] =
            std::array::from_fn(|k| uniform(rng, [self.rgb_min[k], self.rgb_max[k]]) as f32);
        let pattern = match kind {
            PatternKind::Model => return None,
            PatternKind::Plain => Pattern::Plain,
            PatternKind::Checker => Pattern::Checker {
                rgb2: std::array::from_fn(|k| {
                    uniform(rng, [self.rgb_min[k], self.rgb_max[k]]) as f32
                }),
                size_m: uniform(rng, self.checker_size_m) as f32,
            },
            PatternKind::Noise => Pattern::Noise {
                amplitude: uniform(rng, self.noise_amplitude) as f32,
                scale_m: uniform(rng, self.noise_scale_m) as f32,
                seed: rng.random(),
            },
        };
        Some(Surface { rgb, pattern })
    }
}

/// Light ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LightRanges {
    /// Rotation of the lights' directions about a random axis, degrees.
    pub direction_deg: Range,
    /// Scale of the model lights' diffuse and specular colours.
    pub intensity: Range,
    /// Scale of the headlight.
    pub headlight: Range,
}

impl Default for LightRanges {
    fn default() -> Self {
        Self {
            direction_deg: [0.0, 0.0],
            intensity: [1.0, 1.0],
            headlight: [1.0, 1.0],
        }
    }
}

/// Camera mount ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraRanges {
    /// Length of a random offset of the camera position, metres.
    pub position_m: Range,
    /// Angle of a random rotation about a random axis, degrees.
    pub rotation_deg: Range,
    /// Added to the field of view, degrees.
    pub fovy_deg: Range,
}

impl Default for CameraRanges {
    fn default() -> Self {
        Self {
            position_m: [0.0, 0.0],
            rotation_deg: [0.0, 0.0],
            fovy_deg: [0.0, 0.0],
        }
    }
}

/// Cube physics ranges.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CubePhysicsRanges {
    /// Edge length, metres.
    pub size_m: Option<Range>,
    /// Mass, kg.
    pub mass_kg: Option<Range>,
    /// Sliding friction.
    pub friction: Option<Range>,
}

/// Servo ranges.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServoRanges {
    /// Scale of every position servo's gain kp.
    pub kp_scale: Option<Range>,
    /// Env steps between an action and its effect (integers, inclusive).
    pub latency_steps: Option<[usize; 2]>,
}

/// Domain randomisation ranges. Every field is optional; absent = not randomised.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrConfig {
    /// Lights.
    pub light: LightRanges,
    /// Floor surface.
    pub floor: SurfaceRanges,
    /// Cube surface.
    pub cube: SurfaceRanges,
    /// Cube size, mass and friction.
    pub cube_physics: CubePhysicsRanges,
    /// Camera mount.
    pub camera: CameraRanges,
    /// Servos.
    pub servo: ServoRanges,
}

impl DrConfig {
    /// Loads and validates a DR file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::config::load_toml(path, |c: &Self| c.validate(""))
    }

    /// Checks every range (`prefix` is prepended to field names, e.g. `dr.`).
    pub fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        let f = |name: &str| format!("{prefix}{name}");
        check_range(
            &f("light.direction_deg"),
            self.light.direction_deg,
            0.0,
            180.0,
        )?;
        check_range(&f("light.intensity"), self.light.intensity, 0.0, 10.0)?;
        check_range(&f("light.headlight"), self.light.headlight, 0.0, 10.0)?;
        self.floor.validate(&f("floor"))?;
        self.cube.validate(&f("cube"))?;
        let p = &self.cube_physics;
        if let Some(r) = p.size_m {
            check_range(&f("cube_physics.size_m"), r, 0.01, 0.06)?;
        }
        if let Some(r) = p.mass_kg {
            check_range(&f("cube_physics.mass_kg"), r, 0.001, 1.0)?;
        }
        if let Some(r) = p.friction {
            check_range(&f("cube_physics.friction"), r, 0.05, 3.0)?;
        }
        check_range(&f("camera.position_m"), self.camera.position_m, 0.0, 0.05)?;
        check_range(
            &f("camera.rotation_deg"),
            self.camera.rotation_deg,
            0.0,
            30.0,
        )?;
        check_range(&f("camera.fovy_deg"), self.camera.fovy_deg, -30.0, 30.0)?;
        if let Some(r) = self.servo.kp_scale {
            check_range(&f("servo.kp_scale"), r, 0.1, 5.0)?;
        }
        if let Some([lo, hi]) = self.servo.latency_steps {
            check_range(&f("servo.latency_steps"), [lo as f64, hi as f64], 0.0, 10.0)?;
        }
        Ok(())
    }

    /// True when some physics parameter is randomised (the env then needs its own model).
    pub fn randomises_physics(&self) -> bool {
        self.cube_physics.size_m.is_some()
            || self.cube_physics.mass_kg.is_some()
            || self.cube_physics.friction.is_some()
            || self.servo.kp_scale.is_some()
    }

    /// The sample of the episode with reset seed `seed`. It uses its own stream of the seed, so
    /// turning DR on does not move the cube.
    pub fn sample(&self, seed: u64) -> DrSample {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0xd0_4a11);
        let light_angle = uniform(&mut rng, self.light.direction_deg).to_radians();
        let light_axis = random_unit(&mut rng);
        let appearance = Appearance {
            light_rotation_rad: light_axis.map(|a| a * light_angle),
            light_scale: uniform(&mut rng, self.light.intensity) as f32,
            headlight_scale: uniform(&mut rng, self.light.headlight) as f32,
            floor: self.floor.sample(&mut rng),
            cube: self.cube.sample(&mut rng),
            camera: {
                let dir = random_unit(&mut rng);
                let length = uniform(&mut rng, self.camera.position_m);
                let offset = dir.map(|a| a * length);
                let angle = uniform(&mut rng, self.camera.rotation_deg).to_radians();
                let axis = random_unit(&mut rng);
                CameraJitter {
                    offset_m: offset,
                    rotation_rad: axis.map(|a| a * angle),
                    fovy_deg: uniform(&mut rng, self.camera.fovy_deg),
                }
            },
        };
        let mut opt = |r: Option<Range>| r.map(|r| uniform(&mut rng, r));
        let physics = PhysicsSample {
            cube_size_m: opt(self.cube_physics.size_m),
            cube_mass_kg: opt(self.cube_physics.mass_kg),
            cube_friction: opt(self.cube_physics.friction),
            kp_scale: opt(self.servo.kp_scale),
        };
        let latency_steps = self
            .servo
            .latency_steps
            .map_or(0, |[lo, hi]| rng.random_range(lo..=hi.max(lo)));
        DrSample {
            appearance,
            physics,
            latency_steps,
        }
    }
}

fn uniform(rng: &mut ChaCha8Rng, r: Range) -> f64 {
    if r[1] > r[0] {
        rng.random_range(r[0]..=r[1])
    } else {
        r[0]
    }
}

fn random_unit(rng: &mut ChaCha8Rng) -> [f64; 3] {
    // Uniform on the sphere: z uniform in [-1, 1], azimuth uniform.
    let z: f64 = rng.random_range(-1.0..=1.0);
    let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    let r = (1.0 - z * z).max(0.0).sqrt();
    [r * phi.cos(), r * phi.sin(), z]
}

/// Sampled physics parameters (absent = the scene's own).
pub type PhysicsSample = crate::sim::PhysicsEdits;

/// One episode's randomised world.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DrSample {
    /// What the cameras see.
    pub appearance: Appearance,
    /// Physics parameters.
    pub physics: PhysicsSample,
    /// Env steps between an action and its effect.
    pub latency_steps: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_seeded_and_within_ranges() {
        let mut c = DrConfig::default();
        c.light.intensity = [0.5, 1.5];
        c.cube_physics.size_m = Some([0.028, 0.032]);
        c.servo.latency_steps = Some([0, 2]);
        c.floor.patterns = vec![PatternKind::Checker, PatternKind::Noise];
        assert_eq!(c.sample(5), c.sample(5));
        assert_ne!(c.sample(5), c.sample(6));
        for seed in 0..50 {
            let s = c.sample(seed);
            assert!((0.5..=1.5).contains(&s.appearance.light_scale));
            let size = s.physics.cube_size_m.expect("randomised");
            assert!((0.028..=0.032).contains(&size));
            assert!(s.latency_steps <= 2);
            assert!(s.appearance.floor.is_some());
            assert!(s.physics.cube_mass_kg.is_none());
        }
    }

    #[test]
    fn reversed_range_names_the_field() {
        let mut c = DrConfig::default();
        c.cube_physics.mass_kg = Some([0.05, 0.02]);
        let e = c.validate("").expect_err("min > max");
        assert_eq!(e.field, "cube_physics.mass_kg");
        assert!(e.allowed.contains("min <= max"));
    }
}
