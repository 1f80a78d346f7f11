//! TorchScript actors: our policies exported as a traced module (raw observation in,
//! deterministic action in [-1, 1] out, normalisation baked in), and any TorchScript actor with
//! that contract loaded for evaluation (e.g. one exported from Stable-Baselines3).

use std::path::{Path, PathBuf};

use tch::{CModule, Kind, Tensor};

use super::policy::{Policy, PolicyError};

/// libtorch errors carry a C++ backtrace; keep the message lines before it.
fn short(e: &tch::TchError) -> String {
    e.to_string()
        .lines()
        .take_while(|l| !l.starts_with("frame #") && !l.starts_with("Exception raised from"))
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A loaded TorchScript actor.
#[derive(Debug)]
pub struct TorchScriptActor {
    module: CModule,
    obs_dim: usize,
    path: PathBuf,
}

impl TorchScriptActor {
    /// Loads `path` and checks it maps a [1, obs_dim] observation to a finite [1, 4] action.
    pub fn load(path: &Path, obs_dim: usize) -> Result<Self, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            path: path.to_owned(),
            message,
        };
        if !path.is_file() {
            return Err(PolicyError::Io {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let module = CModule::load(path)
            .map_err(|e| invalid(format!("not a TorchScript module: {}", short(&e))))?;
        let actor = Self {
            module,
            obs_dim,
            path: path.to_owned(),
        };
        let probe = Tensor::zeros([1, obs_dim as i64], (Kind::Float, tch::Device::Cpu));
        let out = actor.module.forward_ts(&[probe]).map_err(|e| {
            invalid(format!(
                "does not accept a [1, {obs_dim}] observation (wrong observation layout?): {e}"
            ))
        })?;
        if out.size() != [1, 4] {
            return Err(invalid(format!(
                "returns shape {:?}, expected [1, 4]",
                out.size()
            )));
        }
        Ok(actor)
    }

    /// The action for one raw observation.
    pub fn act(&self, obs: &[f64]) -> Result<[f64; 4], PolicyError> {
        let x = Tensor::from_slice(obs)
            .to_kind(Kind::Float)
            .reshape([1, self.obs_dim as i64]);
        let y =
            tch::no_grad(|| self.module.forward_ts(&[x])).map_err(|e| PolicyError::Invalid {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        let v = Vec::<f64>::try_from(y.reshape([-1]).to_kind(Kind::Double)).unwrap_or_default();
        Ok(std::array::from_fn(|i| {
            v.get(i)
                .copied()
                .filter(|a| a.is_finite())
                .unwrap_or(0.0)
                .clamp(-1.0, 1.0)
        }))
    }
}

impl Policy {
    /// Traces this policy (normaliser + actor + tanh of the mean) into a TorchScript module.
    pub fn to_torchscript(&self) -> Result<CModule, tch::TchError> {
        let obs = self.meta.obs_names.len() as i64;
        let example = Tensor::zeros([1, obs], (Kind::Float, tch::Device::Cpu));
        // Every constant the graph uses must exist before tracing starts: tensors created
        // while tracing are recorded as ops on memory the module does not own.
        let (shift, scale, clip) = self.normalizer_tensors();
        let layers = self.actor_layers();
        let act = self.meta.action_names.len() as i64;
        let mut f = |inputs: &[Tensor]| {
            let mut h = ((&inputs[0] - &shift) * &scale).clamp(-clip, clip);
            let last = layers.len() - 1;
            for (k, (w, b)) in layers.iter().enumerate() {
                h = b.addmm(&h, w);
                if k < last {
                    h = h.relu();
                }
            }
            vec![h.narrow(1, 0, act).tanh()]
        };
        CModule::create_by_tracing("So101LabActor", "forward", &[example], &mut f)
    }

    /// Writes the TorchScript export atomically.
    pub fn export_torchscript(&self, path: &Path) -> std::io::Result<()> {
        let module = self.to_torchscript().map_err(std::io::Error::other)?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{}.tmp",
            path.file_name()
                .map_or("actor".into(), |f| f.to_string_lossy())
        ));
        module.save(&tmp).map_err(std::io::Error::other)?;
        std::fs::rename(&tmp, path)
    }
}
