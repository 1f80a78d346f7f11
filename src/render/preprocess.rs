//! Image preprocessing shared by simulated and real images, plus PNG and contact-sheet output.
//!
//! The real SO-101 wrist camera (innoMaker, 640x480 capture) goes through a centre crop to a
//! square and an area-average resize to the policy's size; [`centre_crop_resize`] is that one
//! preprocessing step, and the env's `real_capture` option renders the simulated camera at the
//! capture size and sends it through the same function.

use std::path::Path;

/// A centre crop of `(w, h)` with the aspect ratio of `(out_w, out_h)`: `(x0, y0, cw, ch)`.
pub fn centre_crop(w: u32, h: u32, out_w: u32, out_h: u32) -> (u32, u32, u32, u32) {
    // Largest crop with the output aspect: cw / ch = out_w / out_h.
    let (w64, h64, ow, oh) = (
        u64::from(w),
        u64::from(h),
        u64::from(out_w.max(1)),
        u64::from(out_h.max(1)),
    );
    let (cw, ch) = if w64 * oh >= h64 * ow {
        ((h64 * ow / oh) as u32, h)
    } else {
        (w, (w64 * oh / ow) as u32)
    };
    ((w - cw) / 2, (h - ch) / 2, cw.max(1), ch.max(1))
}

/// Centre-crops an RGB image to the output aspect ratio and resizes it by area averaging (each
/// output pixel is the mean of the source pixels it covers, with fractional weights at the
/// edges). Deterministic; the same function serves real and simulated captures.
pub fn centre_crop_resize(rgb: &[u8], w: u32, h: u32, out_w: u32, out_h: u32) -> Vec<u8> {
    let (x0, y0, cw, ch) = centre_crop(w, h, out_w, out_h);
    let sx = f64::from(cw) / f64::from(out_w);
    let sy = f64::from(ch) / f64::from(out_h);
    let mut out = vec![0u8; (out_w * out_h * 3) as usize];
    let spans = |start: u32, scale: f64, i: u32, limit: u32| {
        let a = f64::from(start) + f64::from(i) * scale;
        let b = a + scale;
        let first = a.floor() as u32;
        let last = (b.ceil() as u32).min(limit);
        (a, b, first, last)
    };
    for oy in 0..out_h {
        let (ya, yb, yf, yl) = spans(y0, sy, oy, h);
        for ox in 0..out_w {
            let (xa, xb, xf, xl) = spans(x0, sx, ox, w);
            let mut acc = [0.0f64; 3];
            let mut total = 0.0;
            for y in yf..yl {
                let wy = (f64::from(y + 1).min(yb) - f64::from(y).max(ya)).max(0.0);
                for x in xf..xl {
                    let wx = (f64::from(x + 1).min(xb) - f64::from(x).max(xa)).max(0.0);
                    let wgt = wx * wy;
                    let i = 3 * (y * w + x) as usize;
                    for c in 0..3 {
                        acc[c] += wgt * f64::from(rgb[i + c]);
                    }
                    total += wgt;
                }
            }
            let o = 3 * (oy * out_w + ox) as usize;
            for c in 0..3 {
                out[o + c] = (acc[c] / total.max(1e-12)).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Centre-crops a one-value-per-pixel image and resizes it by taking the source pixel under
/// each output pixel's centre (depth and labels must not be averaged across edges).
pub fn centre_crop_nearest<T: Copy>(src: &[T], w: u32, h: u32, out_w: u32, out_h: u32) -> Vec<T> {
    let (x0, y0, cw, ch) = centre_crop(w, h, out_w, out_h);
    let mut out = Vec::with_capacity((out_w * out_h) as usize);
    for oy in 0..out_h {
        let y = y0 + ((f64::from(oy) + 0.5) * f64::from(ch) / f64::from(out_h)) as u32;
        for ox in 0..out_w {
            let x = x0 + ((f64::from(ox) + 0.5) * f64::from(cw) / f64::from(out_w)) as u32;
            out.push(src[(y.min(h - 1) * w + x.min(w - 1)) as usize]);
        }
    }
    out
}

/// Encodes an RGB image as PNG bytes.
pub fn encode_png(w: u32, h: u32, rgb: &[u8]) -> std::io::Result<Vec<u8>> {
    use image::ImageEncoder;
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(rgb, w, h, image::ExtendedColorType::Rgb8)
        .map_err(std::io::Error::other)?;
    Ok(bytes)
}

/// Writes an RGB image as PNG, atomically (temp file, then rename).
pub fn write_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> std::io::Result<()> {
    crate::fsutil::write_atomic(path, &encode_png(w, h, rgb)?)
}

/// Tiles equally sized RGB images into one, `cols` per row, with a `gap`-pixel dark border.
pub fn contact_sheet(
    images: &[Vec<u8>],
    w: u32,
    h: u32,
    cols: u32,
    gap: u32,
) -> (u32, u32, Vec<u8>) {
    let cols = cols.max(1);
    let rows = (images.len() as u32).div_ceil(cols).max(1);
    let (sw, sh) = (cols * (w + gap) + gap, rows * (h + gap) + gap);
    let mut out = vec![24u8; (sw * sh * 3) as usize];
    for (k, img) in images.iter().enumerate() {
        let (c, r) = (k as u32 % cols, k as u32 / cols);
        let (ox, oy) = (gap + c * (w + gap), gap + r * (h + gap));
        for y in 0..h {
            let src = (3 * y * w) as usize;
            let dst = (3 * ((oy + y) * sw + ox)) as usize;
            let len = (3 * w) as usize;
            if let (Some(s), Some(d)) = (img.get(src..src + len), out.get_mut(dst..dst + len)) {
                d.copy_from_slice(s);
            }
        }
    }
    (sw, sh, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_is_centred_and_square() {
        assert_eq!(centre_crop(640, 480, 84, 84), (80, 0, 480, 480));
        assert_eq!(centre_crop(480, 640, 1, 1), (0, 80, 480, 480));
        assert_eq!(centre_crop(100, 100, 84, 84), (0, 0, 100, 100));
    }

    #[test]
    fn area_resize_averages_and_keeps_constants() {
        // A 4x2 image: left half 0, right half 200 -> 2x1 after a 2x2 crop? No: crop to 2:1
        // keeps it whole; each output pixel averages its 2x2 block.
        let mut img = vec![0u8; 4 * 2 * 3];
        for y in 0..2 {
            for x in 2..4 {
                for c in 0..3 {
                    img[3 * (y * 4 + x) + c] = 200;
                }
            }
        }
        let out = centre_crop_resize(&img, 4, 2, 2, 1);
        assert_eq!(out, vec![0, 0, 0, 200, 200, 200]);
        let grey = vec![77u8; 640 * 480 * 3];
        assert!(
            centre_crop_resize(&grey, 640, 480, 84, 84)
                .iter()
                .all(|&v| v == 77)
        );
        // A fractional scale (480 / 84) still averages a constant to itself.
        let labels: Vec<u8> = (0..640 * 480).map(|i| (i % 640 >= 320) as u8).collect();
        let near = centre_crop_nearest(&labels, 640, 480, 84, 84);
        assert_eq!(near[0], 0);
        assert_eq!(near[83], 1);
    }
}
