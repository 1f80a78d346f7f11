//! The actors a live session can load: our policy files (state or pixel) and TorchScript
//! exports, with what each reports besides its action.

use std::path::Path;

use crate::rl::ActOutput;
use crate::rl::policy::{Policy, PolicyError};
use crate::rl::torchscript::TorchScriptActor;

/// A loaded actor: one of our policy files or a TorchScript export.
#[derive(Debug)]
pub enum LoadedPolicy {
    /// Our safetensors policy (has mean and std).
    Native(Box<Policy>),
    /// A TorchScript actor (deterministic action only).
    TorchScript(TorchScriptActor),
    /// A policy that sees: the env's image tensor and state (distilled or pixel SAC).
    Pixel(Box<crate::rl::pixel::PixelPolicy>),
    /// A training checkpoint: actor, both critics and the entropy coefficient, so Q values and
    /// alpha can be shown.
    Checkpoint {
        /// The learner.
        sac: Box<crate::rl::Sac>,
        /// Its observation normaliser.
        norm: crate::rl::normalize::ObsNormalizer,
    },
}

impl LoadedPolicy {
    /// Loads `path`: `.pt`/`.ts`/`.torchscript` as TorchScript, anything else as our format.
    pub fn load(path: &Path, obs_dim: usize) -> Result<Self, PolicyError> {
        let ts = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("pt" | "ts" | "torchscript")
        );
        if ts {
            return Ok(Self::TorchScript(TorchScriptActor::load(path, obs_dim)?));
        }
        if let Ok((_, meta)) = crate::rl::policy::read_policy_file(path)
            && meta.image.is_some()
        {
            return Ok(Self::Pixel(Box::new(crate::rl::pixel::PixelPolicy::load(
                path,
            )?)));
        }
        match Policy::load(path) {
            Ok(p) => Ok(Self::Native(Box::new(p))),
            // Not a policy file: maybe a training checkpoint (same safetensors container).
            Err(policy_err) => match crate::rl::checkpoint::load_learner(path, obs_dim, 4) {
                Ok((sac, state)) => Ok(Self::Checkpoint {
                    sac: Box::new(sac),
                    norm: state.obs_norm,
                }),
                Err(_) => Err(policy_err),
            },
        }
    }

    /// The deterministic action and outputs (mean, std; Q and alpha for checkpoints) for a raw
    /// observation and, for pixel policies, the env's image tensor.
    pub fn act(&mut self, obs: &[f64], pixels: Option<&[u8]>) -> Result<ActOutput, PolicyError> {
        match self {
            Self::Native(p) => Ok(p.act(obs)),
            Self::Pixel(p) => match pixels {
                Some(px) if px.len() == p.image_shape().len() => Ok(p.act(obs, px)),
                _ => Err(PolicyError::Invalid {
                    path: std::path::PathBuf::from("(loaded policy)"),
                    message: format!(
                        "the policy sees {:?} images, but the task renders {}",
                        p.meta.image.as_ref().map(|i| i.planes.len()),
                        pixels.map_or("none".to_owned(), |px| format!("{} bytes", px.len()))
                    ),
                }),
            },
            Self::TorchScript(a) => {
                let action = a.act(obs)?.to_vec();
                Ok(ActOutput {
                    action,
                    mean: Vec::new(),
                    std: Vec::new(),
                    q: Vec::new(),
                    alpha: None,
                })
            }
            Self::Checkpoint { sac, norm } => {
                let mut x = Vec::new();
                norm.apply(obs, &mut x);
                let mut out = sac.act(&x, true);
                out.q = q_values(sac, &x, &out.action);
                out.alpha = Some(sac.alpha());
                Ok(out)
            }
        }
    }
}

/// Both critics' Q for normalised observation `x` and `action`.
fn q_values(sac: &crate::rl::Sac, x: &[f32], action: &[f64]) -> Vec<f64> {
    tch::no_grad(|| {
        let obs = tch::Tensor::from_slice(x).reshape([1, x.len() as i64]);
        let a: Vec<f32> = action.iter().map(|v| *v as f32).collect();
        let act = tch::Tensor::from_slice(&a).reshape([1, a.len() as i64]);
        let q = sac
            .q_values(&obs, &act)
            .reshape([-1])
            .to_kind(tch::Kind::Double);
        Vec::<f64>::try_from(q).unwrap_or_default()
    })
}
