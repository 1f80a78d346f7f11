//! How the scene looks beyond its geometry: light direction and intensity, floor and cube
//! surfaces, and the camera mount. The default is exactly the compiled model's; domain
//! randomisation fills the fields per episode, and an episode header stores them so a replay
//! shows the same world.

use serde::{Deserialize, Serialize};

use super::camera::CameraJitter;

/// A procedural surface pattern, evaluated in the geom's own frame (metres).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pattern {
    /// One colour.
    Plain,
    /// Squares of `size_m`, alternating between the surface colour and `rgb2`.
    Checker {
        /// Second colour.
        rgb2: [f32; 3],
        /// Side of one square, metres.
        size_m: f32,
    },
    /// Value noise: the colour is scaled by 1 +/- `amplitude` with features of `scale_m`.
    Noise {
        /// Relative brightness variation (0..1).
        amplitude: f32,
        /// Feature size, metres.
        scale_m: f32,
        /// Pattern seed.
        seed: u32,
    },
}

/// A surface override: base colour and pattern.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Surface {
    /// Base colour, linear 0..1.
    pub rgb: [f32; 3],
    /// Pattern over the surface.
    pub pattern: Pattern,
}

impl Surface {
    /// The albedo at local point `p` (metres, geom frame).
    #[inline]
    pub fn albedo(&self, p: [f32; 3]) -> [f32; 3] {
        match self.pattern {
            Pattern::Plain => self.rgb,
            Pattern::Checker { rgb2, size_m } => {
                let s = 1.0 / size_m.max(1e-4);
                let parity = (p[0] * s).floor() as i64
                    + (p[1] * s).floor() as i64
                    + (p[2] * s).floor() as i64;
                if parity & 1 == 0 { self.rgb } else { rgb2 }
            }
            Pattern::Noise {
                amplitude,
                scale_m,
                seed,
            } => {
                let s = 1.0 / scale_m.max(1e-4);
                let n = value_noise([p[0] * s, p[1] * s, p[2] * s], seed);
                let k = 1.0 + amplitude * (2.0 * n - 1.0);
                self.rgb.map(|c| c * k)
            }
        }
    }
}

fn hash3(x: i32, y: i32, z: i32, seed: u32) -> f32 {
    let mut h = (x as u32).wrapping_mul(0x8da6_b343)
        ^ (y as u32).wrapping_mul(0xd816_3841)
        ^ (z as u32).wrapping_mul(0xcb1a_b31f)
        ^ seed.wrapping_mul(0x9e37_79b9);
    h ^= h >> 13;
    h = h.wrapping_mul(0x5bd1_e995);
    h ^= h >> 15;
    (h & 0x00ff_ffff) as f32 / 16_777_215.0
}

/// Trilinear value noise in 0..1.
fn value_noise(p: [f32; 3], seed: u32) -> f32 {
    let i = p.map(|v| v.floor());
    let f: [f32; 3] = std::array::from_fn(|k| {
        let t = p[k] - i[k];
        t * t * (3.0 - 2.0 * t)
    });
    let (x, y, z) = (i[0] as i32, i[1] as i32, i[2] as i32);
    let mut acc = 0.0;
    for dz in 0..2 {
        for dy in 0..2 {
            for dx in 0..2 {
                let w = (if dx == 1 { f[0] } else { 1.0 - f[0] })
                    * (if dy == 1 { f[1] } else { 1.0 - f[1] })
                    * (if dz == 1 { f[2] } else { 1.0 - f[2] });
                acc += w * hash3(x + dx, y + dy, z + dz, seed);
            }
        }
    }
    acc
}

/// Everything about the picture that is not geometry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Appearance {
    /// Rotation vector (radians, world frame) applied to every model light's direction.
    pub light_rotation_rad: [f64; 3],
    /// Scale of every model light's diffuse and specular colour.
    pub light_scale: f32,
    /// Scale of the headlight (ambient and diffuse).
    pub headlight_scale: f32,
    /// The floor's surface (`None` = the model's material and texture).
    pub floor: Option<Surface>,
    /// The cube's surface (`None` = the model's colour).
    pub cube: Option<Surface>,
    /// Perturbation of the camera mount.
    pub camera: CameraJitter,
}

impl Default for Appearance {
    fn default() -> Self {
        Self {
            light_rotation_rad: [0.0; 3],
            light_scale: 1.0,
            headlight_scale: 1.0,
            floor: None,
            cube: None,
            camera: CameraJitter::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_deterministic_and_bounded() {
        let s = Surface {
            rgb: [0.5, 0.4, 0.3],
            pattern: Pattern::Noise {
                amplitude: 0.3,
                scale_m: 0.01,
                seed: 7,
            },
        };
        for i in 0..200 {
            let p = [i as f32 * 0.0013, -(i as f32) * 0.0021, 0.004];
            let a = s.albedo(p);
            assert_eq!(a, s.albedo(p));
            assert!(
                a.iter()
                    .zip(s.rgb)
                    .all(|(x, c)| *x >= c * 0.7 - 1e-6 && *x <= c * 1.3 + 1e-6)
            );
        }
        let c = Surface {
            rgb: [1.0; 3],
            pattern: Pattern::Checker {
                rgb2: [0.0; 3],
                size_m: 0.1,
            },
        };
        assert_eq!(c.albedo([0.05, 0.05, 0.0]), [1.0; 3]);
        assert_eq!(c.albedo([0.15, 0.05, 0.0]), [0.0; 3]);
    }
}
