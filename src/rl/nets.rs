//! The networks as plain parameter tensors: an MLP for the actor, and an ensemble MLP that runs
//! both critics in one batched pass (`baddbmm` over a leading ensemble dimension). Weights can
//! be used detached, so the actor's loss never sends gradients into the critics.

use tch::{Kind, Tensor};

use super::rng::TorchInit;
use super::tensors::{f32_data, f32_data_mut};

/// A ReLU MLP: `layers[i] = (weight [in, out], bias [out])`, no activation after the last.
#[derive(Debug)]
pub struct Mlp {
    /// Weight and bias per layer.
    pub layers: Vec<(Tensor, Tensor)>,
}

/// `members` MLPs of the same shape stacked: weight [E, in, out], bias [E, 1, out].
#[derive(Debug)]
pub struct EnsembleMlp {
    /// Weight and bias per layer.
    pub layers: Vec<(Tensor, Tensor)>,
    /// Ensemble size.
    pub members: i64,
    /// Layer normalisation (no affine) after each hidden layer, before the ReLU: keeps critic
    /// values from running away when learning from demonstrations (as RLPD does).
    pub layer_norm: bool,
}

fn sizes(input: i64, hidden: &[i64], output: i64) -> Vec<(i64, i64)> {
    let mut dims = vec![input];
    dims.extend_from_slice(hidden);
    dims.push(output);
    dims.windows(2).map(|w| (w[0], w[1])).collect()
}

impl Mlp {
    /// PyTorch-Linear initialisation (uniform +/- 1/sqrt(fan_in)) from `init`.
    pub fn new(input: i64, hidden: &[i64], output: i64, init: &mut TorchInit) -> Self {
        let layers = sizes(input, hidden, output)
            .into_iter()
            .map(|(i, o)| {
                let bound = 1.0 / (i as f64).sqrt();
                (init.uniform(&[i, o], bound), init.uniform(&[o], bound))
            })
            .collect();
        Self { layers }
    }

    /// Forward pass; `detached` uses the weights without tracking gradients into them.
    pub fn forward(&self, x: &Tensor, detached: bool) -> Tensor {
        let mut h = x.shallow_clone();
        let last = self.layers.len() - 1;
        for (k, (w, b)) in self.layers.iter().enumerate() {
            h = if detached {
                b.detach().addmm(&h, &w.detach())
            } else {
                b.addmm(&h, w)
            };
            if k < last {
                h = h.relu();
            }
        }
        h
    }

    /// Every parameter, weights then bias per layer.
    pub fn parameters(&self) -> Vec<&Tensor> {
        self.layers.iter().flat_map(|(w, b)| [w, b]).collect()
    }
}

impl EnsembleMlp {
    /// `members` independently initialised MLPs.
    pub fn new(
        members: i64,
        input: i64,
        hidden: &[i64],
        output: i64,
        init: &mut TorchInit,
    ) -> Self {
        let layers = sizes(input, hidden, output)
            .into_iter()
            .map(|(i, o)| {
                let bound = 1.0 / (i as f64).sqrt();
                (
                    init.uniform(&[members, i, o], bound),
                    init.uniform(&[members, 1, o], bound),
                )
            })
            .collect();
        Self {
            layers,
            members,
            layer_norm: false,
        }
    }

    /// Forward pass of every member on the same input `x` [B, in] -> [E, B, out].
    pub fn forward(&self, x: &Tensor, detached: bool) -> Tensor {
        let b = x.size()[0];
        let mut h = x.unsqueeze(0).expand([self.members, b, x.size()[1]], false);
        let last = self.layers.len() - 1;
        for (k, (w, bias)) in self.layers.iter().enumerate() {
            h = if detached {
                bias.detach().baddbmm(&h, &w.detach(), 1.0, 1.0)
            } else {
                bias.baddbmm(&h, w, 1.0, 1.0)
            };
            if k < last {
                if self.layer_norm {
                    let width = h.size()[2];
                    h = h.layer_norm([width], None::<Tensor>, None::<Tensor>, 1e-5, false);
                }
                h = h.relu();
            }
        }
        h
    }

    /// Every parameter.
    pub fn parameters(&self) -> Vec<&Tensor> {
        self.layers.iter().flat_map(|(w, b)| [w, b]).collect()
    }

    /// An untracked copy (for target networks).
    pub fn copy_untracked(&self) -> Self {
        let layers = self
            .layers
            .iter()
            .map(|(w, b)| {
                (
                    w.detach().copy().set_requires_grad(false),
                    b.detach().copy().set_requires_grad(false),
                )
            })
            .collect();
        Self {
            layers,
            members: self.members,
            layer_norm: self.layer_norm,
        }
    }
}

/// Polyak averaging: `target <- tau * online + (1 - tau) * target`, in place.
pub fn polyak(target: &EnsembleMlp, online: &EnsembleMlp, tau: f64) {
    tch::no_grad(|| {
        for ((tw, tb), (ow, ob)) in target.layers.iter().zip(&online.layers) {
            let (mut tw, mut tb) = (tw.shallow_clone(), tb.shallow_clone());
            let _ = tw.lerp_(ow, tau);
            let _ = tb.lerp_(ob, tau);
        }
    });
}

/// Polyak averaging as [`polyak`], in one fused pass per parameter over the tensors' memory
/// (CPU f32 parameters).
pub fn polyak_fused(target: &EnsembleMlp, online: &EnsembleMlp, tau: f64) {
    for ((tw, tb), (ow, ob)) in target.layers.iter().zip(&online.layers) {
        for (t, o) in [(tw, ow), (tb, ob)] {
            let mut t = t.shallow_clone();
            // SAFETY: target and online networks are distinct tensors.
            let (t, o) = unsafe { (f32_data_mut(&mut t), f32_data(o)) };
            so101_kernels::lerp(t, o, tau as f32);
        }
    }
}

/// Adam (Kingma & Ba, bias-corrected) over a fixed parameter list; its moments are tensors so
/// they checkpoint with the weights.
///
/// The moments live in one flat buffer each (`m`/`v` are views into them, per parameter), and a
/// step concatenates the gradients once and updates every moment in a handful of whole-buffer
/// ops, then adds each parameter's slice of the step. Per-tensor Adam spent ~9 small kernels and
/// 5 allocations on every parameter tensor; at SAC's shapes the dispatch cost of those was a
/// visible part of the update. The arithmetic is the per-tensor one, element for element.
#[derive(Debug)]
pub struct Adam {
    params: Vec<Tensor>,
    /// (offset, length) of each parameter in the flat buffers.
    spans: Vec<(i64, i64)>,
    flat_m: Tensor,
    flat_v: Tensor,
    /// First moments (views into the flat buffer).
    m: Vec<Tensor>,
    /// Second moments (views into the flat buffer).
    v: Vec<Tensor>,
    /// Steps taken.
    pub t: i64,
    /// Learning rate.
    pub lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl Adam {
    /// Adam with PyTorch's defaults (0.9, 0.999, 1e-8) over `params`.
    pub fn new(params: &[&Tensor], lr: f64) -> Self {
        let params: Vec<Tensor> = params.iter().map(|p| p.shallow_clone()).collect();
        let mut spans = Vec::with_capacity(params.len());
        let mut total = 0i64;
        for p in &params {
            let n = p.numel() as i64;
            spans.push((total, n));
            total += n;
        }
        let (kind, device) = params
            .first()
            .map_or((Kind::Float, tch::Device::Cpu), |p| (p.kind(), p.device()));
        let zeros = || Tensor::zeros([total], (kind, device)).set_requires_grad(false);
        let (flat_m, flat_v) = (zeros(), zeros());
        let views = |flat: &Tensor| -> Vec<Tensor> {
            params
                .iter()
                .zip(&spans)
                .map(|(p, &(off, n))| flat.narrow(0, off, n).view(p.size().as_slice()))
                .collect()
        };
        let (m, v) = (views(&flat_m), views(&flat_v));
        Self {
            params,
            spans,
            flat_m,
            flat_v,
            m,
            v,
            t: 0,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// First moments per parameter: views into the flat buffer, so a checkpoint restores
    /// them with `copy_`.
    pub fn m(&self) -> &[Tensor] {
        &self.m
    }

    /// Second moments per parameter (views, as [`Adam::m`]).
    pub fn v(&self) -> &[Tensor] {
        &self.v
    }

    /// Clears the gradients of every parameter.
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
    }

    /// One update from the current gradients.
    pub fn step(&mut self) {
        self.t += 1;
        let bc1 = 1.0 - self.beta1.powi(self.t as i32);
        let bc2 = 1.0 - self.beta2.powi(self.t as i32);
        let step_size = self.lr / bc1;
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self.params.iter().map(Tensor::grad).collect();
            if !grads.is_empty() && grads.iter().all(Tensor::defined) {
                let flat: Vec<Tensor> = grads.iter().map(|g| g.reshape([-1])).collect();
                let g = Tensor::cat(&flat, 0);
                self.moments(&self.flat_m, &self.flat_v, &g);
                let update = Self::update(&self.flat_m, &self.flat_v, bc2, step_size, self.eps);
                for (p, &(off, n)) in self.params.iter().zip(&self.spans) {
                    // A view (parameters are contiguous), so the add lands in the parameter.
                    let _ = p.view([-1]).g_add_(&update.narrow(0, off, n));
                }
            } else {
                // A parameter the loss did not reach keeps its moments and value, as per-tensor
                // Adam leaves it.
                for (k, g) in grads.iter().enumerate().filter(|(_, g)| g.defined()) {
                    self.moments(&self.m[k], &self.v[k], g);
                    let update = Self::update(&self.m[k], &self.v[k], bc2, step_size, self.eps);
                    let _ = self.params[k].shallow_clone().g_add_(&update);
                }
            }
        });
    }

    /// One update from the given gradients (one per parameter, same shapes), fused into one
    /// pass per parameter over the tensors' memory (CPU f32 parameters). The update of
    /// [`Adam::step`], rounded differently: `v / bc2` is a product by the reciprocal. The
    /// parameters' own `grad` is not used.
    pub fn step_fused(&mut self, grads: &[Tensor]) {
        assert_eq!(grads.len(), self.params.len(), "one gradient per parameter");
        self.t += 1;
        let step = so101_kernels::AdamStep::new(self.lr, self.beta1, self.beta2, self.eps, self.t);
        let (mut flat_m, mut flat_v) = (self.flat_m.shallow_clone(), self.flat_v.shallow_clone());
        // SAFETY: the moment buffers are this optimiser's own, distinct from each other, from
        // the parameters and from the gradients; nothing else reads them during the step.
        let (m, v) = unsafe { (f32_data_mut(&mut flat_m), f32_data_mut(&mut flat_v)) };
        for ((p, g), &(off, n)) in self.params.iter().zip(grads).zip(&self.spans) {
            let g = g.contiguous();
            let range = off as usize..(off + n) as usize;
            let mut p = p.shallow_clone();
            // SAFETY: each parameter is its own tensor, distinct from its gradient.
            let (p, g) = unsafe { (f32_data_mut(&mut p), f32_data(&g)) };
            so101_kernels::adam(p, g, &mut m[range.clone()], &mut v[range], step);
        }
    }

    fn moments(&self, m: &Tensor, v: &Tensor, g: &Tensor) {
        let _ = m.shallow_clone().lerp_(g, 1.0 - self.beta1);
        let mut v = v.shallow_clone();
        let _ = v.g_mul_scalar_(self.beta2);
        let _ = v.addcmul_(&(g * (1.0 - self.beta2)), g);
    }

    /// `-step_size * m / (sqrt(v / bc2) + eps)`.
    fn update(m: &Tensor, v: &Tensor, bc2: f64, step_size: f64, eps: f64) -> Tensor {
        let mut denom = v / bc2;
        let _ = denom.sqrt_();
        let _ = denom.g_add_scalar_(eps);
        (m * -step_size) / denom
    }
}

/// Sum over the last dimension, keeping it.
pub fn sum_last(x: &Tensor) -> Tensor {
    x.sum_dim_intlist(-1, true, Kind::Float)
}
