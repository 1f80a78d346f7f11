//! All randomness of the learner comes from seeded ChaCha8 streams (initialisation, action noise,
//! replay sampling), so a seeded CPU run is reproducible and its RNG state checkpoints as data.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use tch::Tensor;

/// Parameter initialisation.
#[derive(Debug)]
pub struct TorchInit {
    rng: ChaCha8Rng,
    device: tch::Device,
}

impl TorchInit {
    /// Seeded initialiser.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            device: tch::Device::Cpu,
        }
    }

    /// Places the tensors on `device` (values are still drawn on the CPU, so a seed gives the
    /// same weights on every device).
    pub fn on(mut self, device: tch::Device) -> Self {
        self.device = device;
        self
    }

    /// A trainable tensor uniform in [-bound, bound].
    pub fn uniform(&mut self, shape: &[i64], bound: f64) -> Tensor {
        let n: i64 = shape.iter().product();
        let data: Vec<f32> = (0..n)
            .map(|_| self.rng.random_range(-bound..=bound) as f32)
            .collect();
        Tensor::from_slice(&data)
            .reshape(shape)
            .to_device(self.device)
            .set_requires_grad(true)
    }
}

/// Standard-normal noise for the squashed Gaussian, drawn on the CPU from ChaCha8.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Noise {
    rng: ChaCha8Rng,
    #[serde(skip)]
    buf: Vec<f32>,
}

impl Noise {
    /// Seeded noise.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            buf: Vec::new(),
        }
    }

    /// A [rows, cols] tensor of N(0, 1) samples.
    pub fn normal(&mut self, rows: i64, cols: i64) -> Tensor {
        let values = self.draw((rows * cols) as usize);
        Tensor::from_slice(values).reshape([rows, cols])
    }

    /// The next `n` N(0, 1) samples of the stream (`normal` draws the same ones, row-major).
    pub fn draw(&mut self, n: usize) -> &[f32] {
        self.buf.clear();
        self.buf
            .extend((0..n).map(|_| self.rng.sample::<f32, _>(StandardNormal)));
        &self.buf
    }
}
