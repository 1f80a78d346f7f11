//! The pixel actor: the image encoder, then an MLP over [image features, normalised state].
//! A distilled student's head outputs the action directly (tanh); a pixel SAC actor's head
//! outputs the Gaussian's mean and raw log-std, like the state actor.

use tch::Tensor;

use super::encoder::ConvEncoder;
use crate::rl::config::EncoderConfig;
use crate::rl::nets::Mlp;
use crate::rl::rng::TorchInit;

/// Shape of an image input: channels (planes), height, width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageShape {
    /// Planes (stacked frames x channels x cameras).
    pub planes: i64,
    /// Height, pixels.
    pub height: i64,
    /// Width, pixels.
    pub width: i64,
}

impl ImageShape {
    /// Bytes of one image.
    pub fn len(&self) -> usize {
        (self.planes * self.height * self.width) as usize
    }

    /// True for an empty shape.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of an image observation layout.
    pub fn of(spec: &crate::task::ImageSpec) -> Self {
        Self {
            planes: spec.planes.len() as i64,
            height: i64::from(spec.height),
            width: i64::from(spec.width),
        }
    }
}

/// Encoder plus head.
#[derive(Debug)]
pub struct PixelActor {
    /// Image encoder.
    pub encoder: ConvEncoder,
    /// Head over [features, state].
    pub head: Mlp,
    /// Image shape.
    pub image: ImageShape,
    /// Action dimensions.
    pub act_dim: i64,
    /// The head outputs mean and raw log-std (SAC) instead of the action.
    pub gaussian: bool,
}

impl PixelActor {
    /// A seeded actor.
    pub fn new(
        image: ImageShape,
        state_dim: i64,
        act_dim: i64,
        encoder: &EncoderConfig,
        hidden: &[i64],
        gaussian: bool,
        init: &mut TorchInit,
    ) -> Result<Self, String> {
        let encoder = ConvEncoder::new(image.planes, image.height, image.width, encoder, init)?;
        let out = if gaussian { 2 * act_dim } else { act_dim };
        let head = Mlp::new(encoder.features + state_dim, hidden, out, init);
        Ok(Self {
            encoder,
            head,
            image,
            act_dim,
            gaussian,
        })
    }

    /// Raw head output for `[B, C, H, W]` images (float 0..255) and `[B, state]` normalised
    /// state. `detach_encoder` keeps gradients out of the encoder (DrQ: only the critic trains
    /// it); `detached` keeps them out of everything.
    pub fn forward(
        &self,
        images: &Tensor,
        state: &Tensor,
        detach_encoder: bool,
        detached: bool,
    ) -> Tensor {
        let mut f = self.encoder.forward(images, detached);
        if detach_encoder {
            f = f.detach();
        }
        self.head
            .forward(&Tensor::cat(&[f, state.shallow_clone()], 1), detached)
    }

    /// The deterministic action in [-1, 1].
    pub fn action(&self, images: &Tensor, state: &Tensor) -> Tensor {
        let y = self.forward(images, state, false, true);
        if self.gaussian {
            y.narrow(1, 0, self.act_dim).tanh()
        } else {
            y.tanh()
        }
    }

    /// Every parameter (encoder, then head).
    pub fn parameters(&self) -> Vec<&Tensor> {
        let mut p = self.encoder.parameters();
        p.extend(self.head.parameters());
        p
    }

    /// Named tensors for files.
    pub fn named(&self) -> Vec<(String, Tensor)> {
        let mut out = self.encoder.named("encoder");
        for (k, (w, b)) in self.head.layers.iter().enumerate() {
            out.push((format!("head.{k}.weight"), w.shallow_clone()));
            out.push((format!("head.{k}.bias"), b.shallow_clone()));
        }
        out
    }
}
