//! The image encoder: strided 3x3 convolutions with ReLU, flattened, one linear layer, then
//! LayerNorm (no affine) and tanh as in DrQ-v2's trunk. Parameters are plain tensors drawn from
//! a seeded initialiser, like the MLPs, so a seed gives the same network on every run.

use tch::{Kind, Tensor};

use crate::rl::config::EncoderConfig;
use crate::rl::rng::TorchInit;

/// A convolutional encoder over `[B, C, H, W]` images in 0..255.
#[derive(Debug)]
pub struct ConvEncoder {
    /// (weight [out, in, k, k], bias [out], stride) per convolution.
    pub convs: Vec<(Tensor, Tensor, i64)>,
    /// Linear layer after flattening: weight [flat, features], bias [features].
    pub fc: (Tensor, Tensor),
    /// Feature size.
    pub features: i64,
}

impl ConvEncoder {
    /// An encoder for `channels` x `h` x `w` images (PyTorch's default initialisation).
    pub fn new(
        channels: i64,
        h: i64,
        w: i64,
        cfg: &EncoderConfig,
        init: &mut TorchInit,
    ) -> Result<Self, String> {
        let (oh, ow) = cfg.check(h, w)?;
        let mut convs = Vec::new();
        let mut c_in = channels;
        for (&c, &s) in cfg.channels.iter().zip(&cfg.strides) {
            let fan_in = (c_in * cfg.kernel * cfg.kernel) as f64;
            let bound = 1.0 / fan_in.sqrt();
            convs.push((
                init.uniform(&[c, c_in, cfg.kernel, cfg.kernel], bound),
                init.uniform(&[c], bound),
                s,
            ));
            c_in = c;
        }
        let flat = c_in * oh * ow;
        let bound = 1.0 / (flat as f64).sqrt();
        let fc = (
            init.uniform(&[flat, cfg.features], bound),
            init.uniform(&[cfg.features], bound),
        );
        Ok(Self {
            convs,
            fc,
            features: cfg.features,
        })
    }

    /// Features `[B, features]` of `x` (`[B, C, H, W]`, float in 0..255); `detached` uses the
    /// weights without tracking gradients into them.
    pub fn forward(&self, x: &Tensor, detached: bool) -> Tensor {
        let p = |t: &Tensor| {
            if detached {
                t.detach()
            } else {
                t.shallow_clone()
            }
        };
        let mut h = x / 255.0 - 0.5;
        for (w, b, s) in &self.convs {
            h = h
                .conv2d(&p(w), Some(&p(b)), [*s, *s], [0, 0], [1, 1], 1)
                .relu();
        }
        let h = h.flatten(1, -1);
        let (w, b) = &self.fc;
        let h = p(b).addmm(&h, &p(w));
        h.layer_norm(
            [self.features],
            None::<&Tensor>,
            None::<&Tensor>,
            1e-5,
            false,
        )
        .tanh()
    }

    /// Every parameter.
    pub fn parameters(&self) -> Vec<&Tensor> {
        let mut out: Vec<&Tensor> = self.convs.iter().flat_map(|(w, b, _)| [w, b]).collect();
        out.push(&self.fc.0);
        out.push(&self.fc.1);
        out
    }

    /// Named tensors for files (`<prefix>.conv<k>.weight`, ..., `<prefix>.fc.weight`).
    pub fn named(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (k, (w, b, _)) in self.convs.iter().enumerate() {
            out.push((format!("{prefix}.conv{k}.weight"), w.shallow_clone()));
            out.push((format!("{prefix}.conv{k}.bias"), b.shallow_clone()));
        }
        out.push((format!("{prefix}.fc.weight"), self.fc.0.shallow_clone()));
        out.push((format!("{prefix}.fc.bias"), self.fc.1.shallow_clone()));
        out
    }

    /// A copy with the same values, not tracking gradients (for target networks and export).
    pub fn copy_untracked(&self) -> Self {
        let c = |t: &Tensor| t.detach().copy();
        Self {
            convs: self
                .convs
                .iter()
                .map(|(w, b, s)| (c(w), c(b), *s))
                .collect(),
            fc: (c(&self.fc.0), c(&self.fc.1)),
            features: self.features,
        }
    }
}

/// `[B, C, H, W]` u8 images (contiguous, B * C * H * W bytes) as a float tensor.
pub fn images_tensor(bytes: &[u8], batch: i64, c: i64, h: i64, w: i64) -> Tensor {
    Tensor::from_slice(bytes)
        .reshape([batch, c, h, w])
        .to_kind(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_config() {
        let cfg = EncoderConfig::default();
        assert_eq!(cfg.check(64, 64), Ok((7, 7)));
        assert!(cfg.check(8, 8).is_err());
        let enc = ConvEncoder::new(3, 64, 64, &cfg, &mut TorchInit::new(1)).expect("encoder");
        let x = Tensor::zeros([5, 3, 64, 64], (Kind::Float, tch::Device::Cpu));
        assert_eq!(enc.forward(&x, false).size(), [5, 64]);
        assert_eq!(enc.parameters().len(), 8);
    }
}
