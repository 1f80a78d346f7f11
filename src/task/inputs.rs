//! What a policy receives, laid out for people: every state entry with its name, raw and
//! normalised value and whether it is privileged, and the image tensor cut back into pictures
//! (colour, depth as grey, segmentation in class colours) per camera and stacked frame. The
//! app's policy view draws exactly this.

use super::image_obs::{ImageChannel, ImageSpec};
use super::obs::SpaceSpec;

/// One element of the state vector.
#[derive(Debug, Clone, PartialEq)]
pub struct StateEntry {
    /// Element name, e.g. `joint_pos/gripper`.
    pub name: String,
    /// The value the env produced.
    pub raw: f64,
    /// After the policy's normaliser (standardised and clipped), when it has one.
    pub normalized: Option<f64>,
    /// Only a simulator knows it (the cube pose).
    pub privileged: bool,
}

/// A policy's observation normaliser: per-element mean and variance, and the clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization {
    /// Means.
    pub mean: Vec<f64>,
    /// Variances.
    pub var: Vec<f64>,
    /// Clip of the standardised values.
    pub clip: f64,
}

/// The state vector as entries.
pub fn state_entries(
    space: &SpaceSpec,
    obs: &[f64],
    norm: Option<&Normalization>,
) -> Vec<StateEntry> {
    space
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let raw = obs.get(i).copied().unwrap_or(f64::NAN);
            let normalized = norm.and_then(|n| {
                let (m, v) = (n.mean.get(i)?, n.var.get(i)?);
                Some(((raw - m) / (v + 1e-8).sqrt()).clamp(-n.clip, n.clip))
            });
            StateEntry {
                name: name.clone(),
                raw,
                normalized,
                privileged: space.is_privileged(i) || super::obs::is_privileged_name(name),
            }
        })
        .collect()
}

/// One picture cut from the image tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTile {
    /// `camera/channel@t-k`.
    pub label: String,
    /// Camera index in the spec.
    pub camera: usize,
    /// Frames back (0 = newest).
    pub age: usize,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// RGB bytes.
    pub rgb: Vec<u8>,
}

/// Colours of the segmentation classes (background, floor, cube, robot, other).
pub const CLASS_COLOURS: [[u8; 3]; 5] = [
    [20, 20, 28],
    [90, 110, 140],
    [230, 60, 50],
    [240, 200, 80],
    [120, 220, 120],
];

/// The image tensor as pictures, oldest frame first, in tensor order within a frame.
pub fn image_tiles(spec: &ImageSpec, pixels: &[u8]) -> Vec<ImageTile> {
    let hw = (spec.width * spec.height) as usize;
    let mut tiles = Vec::new();
    let mut plane = 0usize;
    let take = |plane: usize| pixels.get(plane * hw..(plane + 1) * hw).unwrap_or(&[]);
    for age in (0..spec.frame_stack).rev() {
        for (camera, cam) in spec.cameras.iter().enumerate() {
            for ch in &spec.channels {
                let rgb: Vec<u8> = match ch {
                    ImageChannel::Rgb => {
                        let (r, g, b) = (take(plane), take(plane + 1), take(plane + 2));
                        (0..hw)
                            .flat_map(|i| {
                                [r.get(i), g.get(i), b.get(i)].map(|v| v.copied().unwrap_or(0))
                            })
                            .collect()
                    }
                    ImageChannel::Depth => take(plane).iter().flat_map(|&d| [d, d, d]).collect(),
                    ImageChannel::Segmentation => take(plane)
                        .iter()
                        .flat_map(|&c| CLASS_COLOURS.get(c as usize).copied().unwrap_or([255; 3]))
                        .collect(),
                };
                plane += ch.planes().len();
                let name = match ch {
                    ImageChannel::Rgb => "rgb",
                    ImageChannel::Depth => "depth",
                    ImageChannel::Segmentation => "segmentation",
                };
                tiles.push(ImageTile {
                    label: format!("{cam}/{name}@t-{age}"),
                    camera,
                    age,
                    width: spec.width,
                    height: spec.height,
                    rgb,
                });
            }
        }
    }
    tiles
}

/// Where a pixel policy looks: per frame and camera, the input-gradient magnitude (`saliency`,
/// one value per input byte, 0..1) as a heat map over the greyed picture.
pub fn saliency_tiles(spec: &ImageSpec, pixels: &[u8], saliency: &[f32]) -> Vec<ImageTile> {
    let hw = (spec.width * spec.height) as usize;
    let per_camera: usize = spec.channels.iter().map(|c| c.planes().len()).sum();
    let mut tiles = Vec::new();
    let mut plane = 0usize;
    for age in (0..spec.frame_stack).rev() {
        for (camera, cam) in spec.cameras.iter().enumerate() {
            let planes = plane..plane + per_camera;
            let grey = |i: usize| {
                planes
                    .clone()
                    .map(|p| f32::from(pixels.get(p * hw + i).copied().unwrap_or(0)))
                    .sum::<f32>()
                    / per_camera as f32
            };
            let heat = |i: usize| {
                planes
                    .clone()
                    .map(|p| saliency.get(p * hw + i).copied().unwrap_or(0.0))
                    .fold(0.0f32, f32::max)
            };
            let max = (0..hw).map(heat).fold(1e-12f32, f32::max);
            let rgb = (0..hw)
                .flat_map(|i| {
                    let h = (heat(i) / max).sqrt();
                    let g = 0.35 * grey(i);
                    [
                        (g + 255.0 * h).min(255.0) as u8,
                        (g + 160.0 * h * h).min(255.0) as u8,
                        g as u8,
                    ]
                })
                .collect();
            tiles.push(ImageTile {
                label: format!("{cam}/saliency@t-{age}"),
                camera,
                age,
                width: spec.width,
                height: spec.height,
                rgb,
            });
            plane += per_camera;
        }
    }
    tiles
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::ImageObsConfig;

    #[test]
    fn tiles_follow_the_tensor_layout() {
        let cfg = ImageObsConfig {
            width: 2,
            height: 2,
            channels: vec![ImageChannel::Rgb, ImageChannel::Segmentation],
            frame_stack: 2,
            ..ImageObsConfig::default()
        };
        let spec = cfg.spec();
        assert_eq!(spec.planes.len(), 8);
        assert_eq!(spec.planes[0], "wrist/r@t-1");
        assert_eq!(spec.planes[7], "wrist/segmentation@t-0");
        // Plane p holds the value p everywhere.
        let pixels: Vec<u8> = (0..8u8).flat_map(|p| [p; 4]).collect();
        let tiles = image_tiles(&spec, &pixels);
        assert_eq!(tiles.len(), 4);
        assert_eq!(tiles[0].label, "wrist/rgb@t-1");
        assert_eq!(&tiles[0].rgb[..3], &[0, 1, 2]);
        assert_eq!(&tiles[1].rgb[..3], &CLASS_COLOURS[3]);
        assert_eq!(&tiles[2].rgb[..3], &[4, 5, 6]);
        assert_eq!(tiles[3].age, 0);
    }

    #[test]
    fn saliency_lights_up_where_the_gradient_is() {
        let cfg = ImageObsConfig {
            width: 2,
            height: 2,
            frame_stack: 1,
            ..ImageObsConfig::default()
        };
        let spec = cfg.spec();
        let pixels = vec![100u8; 12];
        let mut saliency = vec![0.0f32; 12];
        saliency[4 + 3] = 1.0; // green plane, pixel 3
        let tiles = saliency_tiles(&spec, &pixels, &saliency);
        assert_eq!(tiles.len(), 1);
        assert_eq!(tiles[0].label, "wrist/saliency@t-0");
        assert!(tiles[0].rgb[9] > 200 && tiles[0].rgb[0] < 60);
    }

    #[test]
    fn entries_normalise_and_mark_privileged() {
        let space = crate::task::obs::observation_space(&crate::task::ObsConfig::default());
        let obs: Vec<f64> = (0..space.dim()).map(|i| i as f64).collect();
        let norm = Normalization {
            mean: vec![1.0; space.dim()],
            var: vec![4.0; space.dim()],
            clip: 5.0,
        };
        let e = state_entries(&space, &obs, Some(&norm));
        assert_eq!(e[3].raw, 3.0);
        assert!((e[3].normalized.expect("normalised") - 1.0).abs() < 1e-6);
        assert_eq!(e[20].normalized, Some(5.0), "clipped");
        let privileged: Vec<&str> = e
            .iter()
            .filter(|x| x.privileged)
            .map(|x| x.name.as_str())
            .collect();
        assert_eq!(privileged, ["cube_pos/x", "cube_pos/y", "cube_pos/z"]);
    }
}
