//! The pixel policy file: the same safetensors container as state policies, with the image
//! layout, the encoder's shape and the state normaliser in the metadata, and the encoder and
//! head weights. Loading checks every tensor's shape; a policy whose inputs do not match the
//! env, or that reads privileged state for a real-robot task, is an error.

use std::path::Path;

use tch::{Kind, Tensor};

use super::actor::{ImageShape, PixelActor};
use super::encoder::{ConvEncoder, images_tensor};
use crate::rl::ActOutput;
use crate::rl::nets::Mlp;
use crate::rl::normalize::ObsNormalizer;
use crate::rl::policy::{PolicyError, PolicyMeta, normalizer_of, read_policy_file};
use crate::rl::tensors;

/// A loaded (or freshly trained) policy that sees images.
#[derive(Debug)]
pub struct PixelPolicy {
    /// Metadata (inputs, normaliser, training record).
    pub meta: PolicyMeta,
    /// The network.
    pub actor: PixelActor,
    normalizer: ObsNormalizer,
}

impl PixelPolicy {
    /// A policy from a trained actor (copied, untracked) and its state normaliser.
    pub fn from_parts(meta: PolicyMeta, actor: &PixelActor, normalizer: &ObsNormalizer) -> Self {
        let c = |t: &Tensor| t.detach().to_device(tch::Device::Cpu).copy();
        let actor = PixelActor {
            encoder: ConvEncoder {
                convs: actor
                    .encoder
                    .convs
                    .iter()
                    .map(|(w, b, s)| (c(w), c(b), *s))
                    .collect(),
                fc: (c(&actor.encoder.fc.0), c(&actor.encoder.fc.1)),
                features: actor.encoder.features,
            },
            head: Mlp {
                layers: actor
                    .head
                    .layers
                    .iter()
                    .map(|(w, b)| (c(w), c(b)))
                    .collect(),
            },
            image: actor.image,
            act_dim: actor.act_dim,
            gaussian: actor.gaussian,
        };
        Self {
            meta,
            actor,
            normalizer: normalizer.clone(),
        }
    }

    /// Writes the policy file atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let meta = serde_json::to_string(&self.meta).map_err(std::io::Error::other)?;
        tensors::save(path, &self.actor.named(), &meta)
    }

    /// Loads and validates a pixel policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let (mut file, meta) = read_policy_file(path)?;
        let invalid = |message: String| PolicyError::Invalid {
            path: path.to_owned(),
            message,
        };
        let (Some(spec), Some(enc)) = (&meta.image, &meta.encoder) else {
            return Err(invalid(
                "not a pixel policy (no image layout or encoder)".into(),
            ));
        };
        let image = ImageShape::of(spec);
        let (oh, ow) = enc.check(image.height, image.width).map_err(invalid)?;
        let mut take = |name: String, shape: &[i64]| {
            file.take(&name, shape).map_err(|e| invalid(e.to_string()))
        };
        let mut convs = Vec::new();
        let mut c_in = image.planes;
        for (k, (&c, &s)) in enc.channels.iter().zip(&enc.strides).enumerate() {
            let w = take(
                format!("encoder.conv{k}.weight"),
                &[c, c_in, enc.kernel, enc.kernel],
            )?;
            let b = take(format!("encoder.conv{k}.bias"), &[c])?;
            convs.push((w, b, s));
            c_in = c;
        }
        let flat = c_in * oh * ow;
        let fc = (
            take("encoder.fc.weight".into(), &[flat, enc.features])?,
            take("encoder.fc.bias".into(), &[enc.features])?,
        );
        let act = meta.action_names.len() as i64;
        let mut dims = vec![enc.features + meta.obs_names.len() as i64];
        dims.extend(meta.net_arch.iter().map(|&h| h as i64));
        dims.push(if meta.deterministic_head {
            act
        } else {
            2 * act
        });
        let mut layers = Vec::new();
        for (k, w) in dims.windows(2).enumerate() {
            layers.push((
                take(format!("head.{k}.weight"), &[w[0], w[1]])?,
                take(format!("head.{k}.bias"), &[w[1]])?,
            ));
        }
        let normalizer = normalizer_of(&meta, path)?;
        let actor = PixelActor {
            encoder: ConvEncoder {
                convs,
                fc,
                features: enc.features,
            },
            head: Mlp { layers },
            image,
            act_dim: act,
            gaussian: !meta.deterministic_head,
        };
        Ok(Self {
            meta,
            actor,
            normalizer,
        })
    }

    /// The image input's shape.
    pub fn image_shape(&self) -> ImageShape {
        self.actor.image
    }

    fn state_tensor(&self, obs: &[f64]) -> Tensor {
        let mut buf = Vec::new();
        self.normalizer.apply(obs, &mut buf);
        Tensor::from_slice(&buf).reshape([1, buf.len() as i64])
    }

    fn image_tensor(&self, pixels: &[u8]) -> Tensor {
        let s = self.actor.image;
        images_tensor(pixels, 1, s.planes, s.height, s.width)
    }

    /// Deterministic actions for a batch: states `[B, state]` (raw) and images `[B * image]`.
    pub fn act_batch(&self, states: &[f64], pixels: &[u8], batch: usize) -> Vec<[f64; 4]> {
        if batch == 0 {
            return Vec::new();
        }
        let dim = states.len() / batch;
        let mut flat = Vec::with_capacity(states.len());
        let mut buf = Vec::new();
        for row in states.chunks_exact(dim) {
            self.normalizer.apply(row, &mut buf);
            flat.extend_from_slice(&buf);
        }
        let s = self.actor.image;
        let a = tch::no_grad(|| {
            let state = Tensor::from_slice(&flat).reshape([batch as i64, dim as i64]);
            let img = images_tensor(pixels, batch as i64, s.planes, s.height, s.width);
            self.actor.action(&img, &state).to_kind(Kind::Double)
        });
        let v = Vec::<f64>::try_from(a.reshape([-1])).unwrap_or_default();
        v.chunks_exact(self.actor.act_dim as usize)
            .map(|c| std::array::from_fn(|i| c.get(i).copied().unwrap_or(0.0)))
            .collect()
    }

    /// The deterministic action for one observation (state and image tensor).
    pub fn act(&self, obs: &[f64], pixels: &[u8]) -> ActOutput {
        let action = self
            .act_batch(obs, pixels, 1)
            .first()
            .map(|a| a.to_vec())
            .unwrap_or_default();
        ActOutput {
            action,
            mean: Vec::new(),
            std: Vec::new(),
            q: Vec::new(),
            alpha: None,
        }
    }

    /// Where the policy looks: |d action_i / d pixel| summed over the action dimensions, one
    /// value per input byte (planes x height x width), scaled so the largest is 1.
    pub fn saliency(&self, obs: &[f64], pixels: &[u8]) -> Vec<f32> {
        let img = self.image_tensor(pixels).set_requires_grad(true);
        let state = self.state_tensor(obs);
        let y = self.actor.action(&img, &state);
        let mut total = Tensor::zeros_like(&img);
        for i in 0..self.actor.act_dim {
            let g =
                Tensor::run_backward(&[y.narrow(1, i, 1).sum(Kind::Float)], &[&img], true, false);
            if let Some(g) = g.first() {
                total += g.abs();
            }
        }
        let max = total.max().double_value(&[]).max(1e-12);
        Vec::<f32>::try_from((total / max).reshape([-1])).unwrap_or_default()
    }

    /// Errors unless `obs_names` is exactly the state layout this policy was trained on.
    pub fn check_layout(&self, obs_names: &[String], path: &Path) -> Result<(), PolicyError> {
        crate::rl::policy::check_obs_layout(&self.meta.obs_names, obs_names, path)
    }

    /// The privileged-state guard (see [`crate::rl::policy::check_privileged_inputs`]).
    pub fn check_privileged(
        &self,
        task: &crate::task::TaskConfig,
        path: &Path,
    ) -> Result<(), PolicyError> {
        crate::rl::policy::check_privileged_inputs(&self.meta.obs_names, task, path)
    }
}
