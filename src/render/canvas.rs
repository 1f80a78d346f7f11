//! Drawing on top of a rendered RGB image: lines, circles, boxes, 8x8 text, and the debug
//! overlays (`crate::overlay` primitives) projected through the camera that drew the image.
//! Labels are placed by screen space: one that would overlap another moves down and keeps a
//! leader line to its anchor, so labels never pile up. Used by video export and report thumbnails.

use nalgebra::Vector3;

use super::camera::CameraModel;
use crate::overlay::{Primitive, Rgba};

/// Height of one text line at scale 1, pixels.
pub const LINE_PX: i32 = 10;

/// An RGB image (row-major, 3 bytes per pixel) to draw on.
#[derive(Debug)]
pub struct Canvas<'a> {
    width: i32,
    height: i32,
    rgb: &'a mut [u8],
    placed: Vec<[i32; 4]>,
}

/// An 8-bit colour from a linear overlay colour (alpha ignored).
pub fn rgb8(c: Rgba) -> [u8; 3] {
    [0, 1, 2].map(|i| (c[i].clamp(0.0, 1.0) * 255.0).round() as u8)
}

impl<'a> Canvas<'a> {
    /// A canvas over `rgb`, which must hold `width * height * 3` bytes.
    pub fn new(rgb: &'a mut [u8], width: u32, height: u32) -> Self {
        debug_assert_eq!(rgb.len(), width as usize * height as usize * 3);
        Self {
            width: width as i32,
            height: height as i32,
            rgb,
            placed: Vec::new(),
        }
    }

    /// Width and height, pixels.
    pub fn size(&self) -> (i32, i32) {
        (self.width, self.height)
    }

    /// Sets one pixel; outside the image does nothing.
    pub fn put(&mut self, x: i32, y: i32, c: [u8; 3]) {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            let i = (y as usize * self.width as usize + x as usize) * 3;
            self.rgb[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Fills a rectangle (clipped).
    pub fn fill_rect(&mut self, x: i32, y: i32, w: i32, h: i32, c: [u8; 3]) {
        for yy in y.max(0)..(y + h).min(self.height) {
            for xx in x.max(0)..(x + w).min(self.width) {
                self.put(xx, yy, c);
            }
        }
    }

    /// A line `thickness` pixels wide (clipped).
    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), c: [u8; 3], thickness: i32) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let n = dx.abs().max(dy.abs()).ceil().clamp(1.0, 8192.0) as i32;
        let r = (thickness - 1) / 2;
        for i in 0..=n {
            let t = f64::from(i) / f64::from(n);
            let (x, y) = ((a.0 + t * dx).floor() as i32, (a.1 + t * dy).floor() as i32);
            self.fill_rect(x - r, y - r, thickness, thickness, c);
        }
    }

    /// A circle outline of radius `r` pixels.
    pub fn circle(&mut self, centre: (f64, f64), r: f64, c: [u8; 3]) {
        let n = (r * 8.0).ceil().clamp(8.0, 512.0) as i32;
        let at = |i: i32| {
            let t = std::f64::consts::TAU * f64::from(i) / f64::from(n);
            (centre.0 + r * t.cos(), centre.1 + r * t.sin())
        };
        for i in 0..n {
            self.line(at(i), at(i + 1), c, 2);
        }
    }

    /// Text with its top-left corner at `(x, y)`, 8x8 glyphs scaled by `scale`, on a dark
    /// backing box so it reads over any scene. Returns its width in pixels.
    pub fn text(&mut self, x: i32, y: i32, text: &str, c: [u8; 3], scale: i32) -> i32 {
        let w = text_width(text, scale);
        self.fill_rect(x - 1, y - 1, w + 2, 8 * scale + 2, [0, 0, 0]);
        for (k, ch) in text.chars().enumerate() {
            let glyph = font8x8::legacy::BASIC_LEGACY
                .get(ch as usize)
                .copied()
                .unwrap_or(font8x8::legacy::BASIC_LEGACY[b'?' as usize]);
            let x0 = x + k as i32 * 8 * scale;
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        let (px, py) = (x0 + col * scale, y + row as i32 * scale);
                        self.fill_rect(px, py, scale, scale, c);
                    }
                }
            }
        }
        w
    }

    /// A label for a point at `anchor`, placed by [`crate::overlay::place_label`] so it never
    /// overlaps a label drawn before, with a leader line to its anchor.
    pub fn label(&mut self, anchor: (f64, f64), text: &str, c: [u8; 3]) {
        let size = [(text_width(text, 1) + 2) as f32, LINE_PX as f32];
        let bounds = [0.0, 0.0, self.width as f32, self.height as f32];
        let placed: Vec<[f32; 4]> = self.placed.iter().map(|r| r.map(|v| v as f32)).collect();
        let r =
            crate::overlay::place_label(&placed, [anchor.0 as f32, anchor.1 as f32], size, bounds)
                .map(|v| v.round() as i32);
        self.line(
            anchor,
            (f64::from(r[0]), f64::from(r[1] + LINE_PX / 2)),
            c,
            1,
        );
        self.text(r[0] + 1, r[1] + 1, text, c, 1);
        self.placed.push(r);
    }

    /// Projects and draws overlay primitives seen by `cam` (the camera of the image).
    pub fn primitives(&mut self, cam: &CameraModel, prims: &[Primitive]) {
        let project = |p: [f32; 3]| {
            cam.project(&Vector3::new(
                f64::from(p[0]),
                f64::from(p[1]),
                f64::from(p[2]),
            ))
        };
        let focal = cam.focal_px();
        for p in prims {
            match p {
                Primitive::Sphere {
                    center,
                    radius,
                    color,
                } => {
                    if let Some((x, y, d)) = project(*center) {
                        let r = (focal * f64::from(*radius) / d).max(3.0);
                        self.circle((x, y), r, rgb8(*color));
                    }
                }
                Primitive::Arrow { from, to, color } => {
                    if let (Some(a), Some(b)) = (project(*from), project(*to)) {
                        self.line((a.0, a.1), (b.0, b.1), rgb8(*color), 2);
                        self.fill_rect(b.0 as i32 - 2, b.1 as i32 - 2, 5, 5, rgb8(*color));
                    }
                }
                Primitive::Axes {
                    origin,
                    rot,
                    length,
                } => {
                    let colours = [[230, 40, 40], [40, 220, 40], [60, 90, 255]];
                    for (i, colour) in colours.into_iter().enumerate() {
                        let axis = crate::overlay::axis(rot, i);
                        let tip = [0, 1, 2].map(|k| origin[k] + length * axis[k]);
                        if let (Some(a), Some(b)) = (project(*origin), project(tip)) {
                            self.line((a.0, a.1), (b.0, b.1), colour, 2);
                        }
                    }
                }
                Primitive::Line { from, to, color } => {
                    if let (Some(a), Some(b)) = (project(*from), project(*to)) {
                        self.line((a.0, a.1), (b.0, b.1), rgb8(*color), 1);
                    }
                }
                Primitive::Label { .. } => {}
            }
        }
        // Labels last, so they sit on top of the shapes they name.
        for p in prims {
            if let Primitive::Label { at, text, color } = p
                && let Some((x, y, _)) = project(*at)
            {
                self.label((x, y), text, rgb8(*color));
            }
        }
    }
}

/// Width of `text` in pixels at `scale`.
pub fn text_width(text: &str, scale: i32) -> i32 {
    text.chars().count() as i32 * 8 * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlaps(a: &[i32; 4], b: &[i32; 4]) -> bool {
        a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3]
    }

    #[test]
    fn labels_at_one_anchor_never_overlap() {
        let mut rgb = vec![0u8; 200 * 100 * 3];
        let mut c = Canvas::new(&mut rgb, 200, 100);
        for t in ["gripperframe", "graspframe", "IK target", "depth 0.8 mm"] {
            c.label((50.0, 40.0), t, [255, 255, 255]);
        }
        let placed = c.placed.clone();
        assert_eq!(placed.len(), 4);
        for (i, a) in placed.iter().enumerate() {
            for b in &placed[i + 1..] {
                assert!(!overlaps(a, b), "{a:?} overlaps {b:?}");
            }
        }
        assert!(rgb.contains(&255), "text was drawn");
    }

    #[test]
    fn text_and_shapes_stay_inside_the_image() {
        let mut rgb = vec![7u8; 20 * 10 * 3];
        let mut c = Canvas::new(&mut rgb, 20, 10);
        c.text(15, 5, "clipped", [200, 0, 0], 2);
        c.line((-50.0, -50.0), (100.0, 100.0), [0, 200, 0], 3);
        c.circle((10.0, 5.0), 40.0, [0, 0, 200]);
        assert_eq!(rgb.len(), 600);
        assert!(rgb.chunks(3).any(|p| p == [0, 200, 0]));
    }
}
