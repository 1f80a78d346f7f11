//! Image augmentation: DrQ's random shift. Each image moves by a whole number of pixels in
//! [-pad, pad] on both axes with the border replicated (the same as padding by `pad` with edge
//! pixels and cropping back at a random offset). Offsets come from a seeded ChaCha8 stream, so
//! a seed gives the same augmented batch every time.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Shifts `[C, H, W]` image `src` by (`dx`, `dy`) into `dst`, replicating the border.
pub fn shift_image(src: &[u8], dst: &mut [u8], c: usize, h: usize, w: usize, dx: i32, dy: i32) {
    for ch in 0..c {
        let plane = &src[ch * h * w..(ch + 1) * h * w];
        let out = &mut dst[ch * h * w..(ch + 1) * h * w];
        for y in 0..h {
            let sy = (y as i32 + dy).clamp(0, h as i32 - 1) as usize;
            let row = &plane[sy * w..(sy + 1) * w];
            for x in 0..w {
                let sx = (x as i32 + dx).clamp(0, w as i32 - 1) as usize;
                out[y * w + x] = row[sx];
            }
        }
    }
}

/// Random shifts for a batch.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RandomShift {
    /// Largest shift, pixels.
    pub pad: i32,
    rng: ChaCha8Rng,
}

impl RandomShift {
    /// Shifts of up to `pad` pixels from `seed`.
    pub fn new(pad: i32, seed: u64) -> Self {
        Self {
            pad,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Augments `batch` images of shape `[C, H, W]` stored back to back in `images` into `out`.
    pub fn apply(&mut self, images: &[u8], out: &mut Vec<u8>, c: usize, h: usize, w: usize) {
        let n = c * h * w;
        out.resize(images.len(), 0);
        for (src, dst) in images.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            if self.pad == 0 {
                dst.copy_from_slice(src);
                continue;
            }
            let dx = self.rng.random_range(-self.pad..=self.pad);
            let dy = self.rng.random_range(-self.pad..=self.pad);
            shift_image(src, dst, c, h, w, dx, dy);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_replicate_the_border() {
        // One 3x3 plane 0..9, shifted right by one (dx = -1 reads from the left).
        let src: Vec<u8> = (0..9).collect();
        let mut dst = vec![0u8; 9];
        shift_image(&src, &mut dst, 1, 3, 3, -1, 0);
        assert_eq!(dst, [0, 0, 1, 3, 3, 4, 6, 6, 7]);
        shift_image(&src, &mut dst, 1, 3, 3, 0, 5);
        assert_eq!(dst, [6, 7, 8, 6, 7, 8, 6, 7, 8]);
    }

    #[test]
    fn augmentation_is_deterministic_under_a_seed() {
        let images: Vec<u8> = (0..4 * 2 * 16 * 16).map(|i| (i * 7 % 251) as u8).collect();
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        RandomShift::new(4, 9).apply(&images, &mut a, 2, 16, 16);
        RandomShift::new(4, 9).apply(&images, &mut b, 2, 16, 16);
        RandomShift::new(4, 10).apply(&images, &mut c, 2, 16, 16);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, images, "something moved");
    }
}
