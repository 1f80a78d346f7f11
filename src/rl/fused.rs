//! The SAC update with hand-written gradients (`SacConfig::fused_update`), for the CPU.
//!
//! The same losses as [`Sac::update`], but no autograd graph: the forward passes keep what their
//! backward passes need, the matrix products go to libtorch (MKL), and everything between them
//! is a fused loop over the tensors' memory (`so101_kernels`; plain loops for the small
//! [B, |A|] targets, TD errors and action-head gradients). At SAC's shapes the autograd update
//! spends about as long on dispatching small kernels, recording the graph and allocating
//! temporaries as on its GEMMs; this path does one GEMM per product and one pass per elementwise
//! stage. The actor's two forward passes (next observations for the target, observations for its
//! own loss) share one GEMM per layer, since the critic update does not change the actor.
//!
//! Gradients are checked against the autograd update in this module's tests (same seed, same
//! batch: the parameters after three steps agree to float rounding).

use so101_kernels as kernels;
use tch::{Kind, Tensor};

use super::nets::{EnsembleMlp, Mlp};
use super::replay::Batch;
use super::sac::{LOG_STD_HALF_RANGE, LOG_STD_MAX, LOG_STD_MIN, Sac, UpdateStats};
use super::tensors::{f32_data, f32_data_mut};
use super::timing::Lap;

/// One hidden layer's saved output: the ReLU output, and with layer normalisation the
/// normalised pre-activation and each row's reciprocal std.
struct Hidden {
    a: Tensor,
    norm: Option<(Tensor, Tensor)>,
}

/// What an ensemble forward pass keeps for its backward pass.
struct EnsembleTape {
    /// The shared input [B, in].
    input: Tensor,
    hidden: Vec<Hidden>,
    /// The output [E, B, out].
    out: Tensor,
}

fn ensemble_forward(net: &EnsembleMlp, x: &Tensor) -> EnsembleTape {
    let (e, b) = (net.members, x.size()[0]);
    let mut h = x.unsqueeze(0).expand([e, b, x.size()[1]], false);
    let mut hidden = Vec::with_capacity(net.layers.len());
    let last = net.layers.len() - 1;
    for (k, (w, bias)) in net.layers.iter().enumerate() {
        // The product alone, then bias and activation in one pass over each member's rows.
        let mut z = h.bmm(w);
        let width = z.size()[2] as usize;
        let rows = b as usize * width;
        // Layer normalisation's outputs: the ReLU output and each row's reciprocal std.
        let norm_out = (net.layer_norm && k < last).then(|| {
            (
                z.empty_like(),
                Tensor::empty([e * b], (Kind::Float, z.device())),
            )
        });
        // SAFETY: `z` is fresh, written through this slice only; `bias` is a parameter
        // nothing writes here.
        let (zs, bias) = unsafe { (f32_data_mut(&mut z), f32_data(bias)) };
        let members = zs.chunks_exact_mut(rows).zip(bias.chunks_exact(width));
        if k == last {
            for (zm, bm) in members {
                kernels::bias_add(zm, bm);
            }
            return EnsembleTape {
                input: x.shallow_clone(),
                hidden,
                out: z,
            };
        }
        let layer = if let Some((mut a, mut rstd)) = norm_out {
            // SAFETY: `a` and `rstd` are fresh, written through these slices only.
            let (a_s, rstd_s) = unsafe { (f32_data_mut(&mut a), f32_data_mut(&mut rstd)) };
            let outputs = a_s
                .chunks_exact_mut(rows)
                .zip(rstd_s.chunks_exact_mut(b as usize));
            for ((zm, bm), (am, rm)) in members.zip(outputs) {
                kernels::layer_norm_relu(zm, bm, am, rm, 1e-5);
            }
            Hidden {
                a,
                norm: Some((z, rstd)),
            }
        } else {
            for (zm, bm) in members {
                kernels::bias_relu(zm, bm);
            }
            Hidden { a: z, norm: None }
        };
        h = layer.a.shallow_clone();
        hidden.push(layer);
    }
    unreachable!("an ensemble has an output layer")
}

/// Column sums of each member's rows of `dout` [E, B, out] (the output layer's bias gradient),
/// shaped as the ensemble's bias [E, 1, out].
fn member_column_sums(dout: &Tensor) -> Tensor {
    let size = dout.size();
    let (rows, width) = (size[1] as usize, size[2] as usize);
    let mut sums = vec![0.0f32; size[0] as usize * width];
    // SAFETY: `dout` is only read while the sums are taken.
    for (member, s) in unsafe { f32_data(dout) }
        .chunks_exact(rows * width)
        .zip(sums.chunks_exact_mut(width))
    {
        for row in member.chunks_exact(width) {
            for (acc, &g) in s.iter_mut().zip(row) {
                *acc += g;
            }
        }
    }
    to_tensor(&sums, &[size[0], 1, size[2]])
}

/// Backward pass of an ensemble from `dout` [E, B, out]: the parameter gradients in
/// `parameters()` order when `weights`, and when `input_cols = (start, len)` the gradient of
/// those input columns summed over the members [B, len].
fn ensemble_backward(
    net: &EnsembleMlp,
    tape: &EnsembleTape,
    dout: Tensor,
    weights: bool,
    input_cols: Option<(i64, i64)>,
) -> (Vec<Tensor>, Option<Tensor>) {
    let mut grads = Vec::with_capacity(2 * net.layers.len());
    let mut db = member_column_sums(&dout);
    let mut dz = dout;
    let mut dx = None;
    for k in (0..net.layers.len()).rev() {
        let w = &net.layers[k].0;
        if weights {
            let dw = if k == 0 {
                tape.input.tr().matmul(&dz)
            } else {
                tape.hidden[k - 1].a.transpose(1, 2).bmm(&dz)
            };
            grads.push(db.shallow_clone());
            grads.push(dw);
        }
        if k > 0 {
            // Through the activation of layer k - 1, whose bias gradient comes out of the same
            // pass.
            let mut dh = dz.bmm(&w.transpose(1, 2));
            let layer = &tape.hidden[k - 1];
            let size = dh.size();
            let (rows, width) = ((size[1] * size[2]) as usize, size[2] as usize);
            let mut bias_grad = Tensor::empty([size[0], 1, size[2]], (Kind::Float, dh.device()));
            // SAFETY: `dh` and `bias_grad` are fresh and written through one slice each; the
            // tape's activation is a distinct buffer, only read.
            let (d, a, g) = unsafe {
                (
                    f32_data_mut(&mut dh),
                    f32_data(&layer.a),
                    f32_data_mut(&mut bias_grad),
                )
            };
            let members = d
                .chunks_exact_mut(rows)
                .zip(a.chunks_exact(rows))
                .zip(g.chunks_exact_mut(width));
            match &layer.norm {
                Some((xhat, rstd)) => {
                    // SAFETY: the tape's normalised values and reciprocal stds, only read.
                    let (xhat, rstd) = unsafe { (f32_data(xhat), f32_data(rstd)) };
                    let norms = xhat
                        .chunks_exact(rows)
                        .zip(rstd.chunks_exact(size[1] as usize));
                    for (((d, a), g), (x, r)) in members.zip(norms) {
                        kernels::layer_norm_relu_backward(d, a, x, r, g);
                    }
                }
                None => {
                    for ((d, a), g) in members {
                        kernels::relu_backward(d, a, g);
                    }
                }
            }
            dz = dh;
            db = bias_grad;
        } else if let Some((start, len)) = input_cols {
            let cols = dz.bmm(&w.narrow(1, start, len).transpose(1, 2));
            dx = Some(cols.sum_dim_intlist([0].as_slice(), false, Kind::Float));
        }
    }
    grads.reverse();
    (grads, dx)
}

/// An actor forward pass: the input of every layer (the observations, then each hidden ReLU
/// output) and the output.
fn mlp_forward(net: &Mlp, x: &Tensor) -> (Vec<Tensor>, Tensor) {
    let mut inputs = Vec::with_capacity(net.layers.len());
    let mut h = x.shallow_clone();
    let last = net.layers.len() - 1;
    for (k, (w, b)) in net.layers.iter().enumerate() {
        let mut z = h.mm(w);
        // SAFETY: `z` is fresh; the bias is a parameter nothing writes here.
        let (zs, bias) = unsafe { (f32_data_mut(&mut z), f32_data(b)) };
        if k < last {
            kernels::bias_relu(zs, bias);
        } else {
            kernels::bias_add(zs, bias);
        }
        inputs.push(h);
        h = z;
    }
    (inputs, h)
}

/// Parameter gradients of the actor (in `parameters()` order) from the output gradient
/// `dout` [R, out], for the rows `rows` of the saved layer inputs.
fn mlp_backward(net: &Mlp, inputs: &[Tensor], rows: (i64, i64), dout: Tensor) -> Vec<Tensor> {
    let mut grads = Vec::with_capacity(2 * net.layers.len());
    let mut db = member_column_sums(&dout.unsqueeze(0)).reshape([-1]);
    let mut dz = dout;
    for k in (0..net.layers.len()).rev() {
        let input = inputs[k].narrow(0, rows.0, rows.1);
        grads.push(db.shallow_clone());
        grads.push(input.tr().mm(&dz));
        if k > 0 {
            let mut dh = dz.mm(&net.layers[k].0.tr());
            db = Tensor::empty([dh.size()[1]], (Kind::Float, dh.device()));
            let a = input.contiguous();
            // SAFETY: `dh` and `db` are fresh; `a` is a saved activation, only read.
            let (d, a, g) = unsafe { (f32_data_mut(&mut dh), f32_data(&a), f32_data_mut(&mut db)) };
            kernels::relu_backward(d, a, g);
            dz = dh;
        }
    }
    grads.reverse();
    grads
}

/// The squashed Gaussian of every row (`kernels::squashed_gaussian`, the arithmetic of
/// `Sac::sample_with_mean` in f32): actions, log-probabilities and what the backward pass needs.
struct Head {
    action: Vec<f32>,
    logp: Vec<f32>,
    /// tanh of the raw log-std output.
    raw_tanh: Vec<f32>,
    std: Vec<f32>,
}

const HALF_RANGE: f32 = LOG_STD_HALF_RANGE as f32;

fn head_forward(out: &[f32], eps: &[f32], width: usize) -> Head {
    let n = eps.len();
    let mut head = Head {
        action: vec![0.0; n],
        logp: vec![0.0; n / width],
        raw_tanh: vec![0.0; n],
        std: vec![0.0; n],
    };
    kernels::squashed_gaussian(
        out,
        eps,
        [LOG_STD_MIN as f32, LOG_STD_MAX as f32],
        kernels::SquashedHead {
            action: &mut head.action,
            logp: &mut head.logp,
            raw_tanh: &mut head.raw_tanh,
            std: &mut head.std,
        },
    );
    head
}

/// The smallest value, or NaN if any is NaN (as `amin`: a diverging critic shows).
fn nan_min(values: impl Iterator<Item = f32>) -> f32 {
    values.fold(
        f32::INFINITY,
        |m, v| if v < m || v.is_nan() { v } else { m },
    )
}

fn to_tensor(values: &[f32], shape: &[i64]) -> Tensor {
    Tensor::from_slice(values).reshape(shape)
}

fn mean(values: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = values.len().max(1) as f64;
    values.sum::<f64>() / n
}

impl Sac {
    /// [`Sac::update`] with hand-written gradients (module docs). CPU only.
    pub(super) fn update_fused(&mut self, batch: &Batch, reward_scale: f64) -> UpdateStats {
        tch::no_grad(|| self.fused_step(batch, reward_scale))
    }

    fn fused_step(&mut self, batch: &Batch, reward_scale: f64) -> UpdateStats {
        let mut lap = Lap::start();
        let alpha = self.alpha();
        let b = batch.obs.size()[0];
        let (bn, act) = (b as usize, self.act_dim as usize);

        // Actor on next observations (rows 0..B) and observations (rows B..2B) at once; the
        // noise is drawn in the autograd update's order.
        let actor_in = Tensor::cat(
            &[
                self.actor_view(&batch.next_obs),
                self.actor_view(&batch.obs),
            ],
            0,
        );
        let (actor_inputs, actor_out) = mlp_forward(&self.actor, &actor_in);
        let eps = self.noise.draw(2 * bn * act).to_vec();
        // SAFETY: the actor's output is only read. So is every tensor read below: the batch's,
        // the tapes' outputs and fresh results, none written while their slices live.
        let head = head_forward(unsafe { f32_data(&actor_out) }, &eps, act);
        let next_action = to_tensor(&head.action[..bn * act], &[b, self.act_dim]);
        let pi_action = to_tensor(&head.action[bn * act..], &[b, self.act_dim]);

        // Critic targets.
        let target_in = Tensor::cat(&[&batch.next_obs, &next_action], 1);
        let q_next = ensemble_forward(&self.critic_target, &target_in).out;
        // SAFETY: read only; nothing writes this tensor during the update.
        let (q_next, members) = (unsafe { f32_data(&q_next) }, self.critic.members as usize);
        let rewards = batch.rewards.contiguous();
        let dones = batch.dones.contiguous();
        let discounts = batch.discounts.as_ref().map(Tensor::contiguous);
        // SAFETY: read only; nothing writes this tensor during the update.
        let (rewards, dones) = unsafe { (f32_data(&rewards), f32_data(&dones)) };
        // SAFETY: read only; nothing writes this tensor during the update.
        let discounts = discounts.as_ref().map(|d| unsafe { f32_data(d) });
        let target: Vec<f32> = (0..bn)
            .map(|i| {
                let min_q = nan_min((0..members).map(|e| q_next[e * bn + i]));
                let soft = min_q - head.logp[i] * alpha as f32;
                let discount = discounts.map_or(self.gamma as f32, |d| d[i]);
                rewards[i] * reward_scale as f32 + (1.0 - dones[i]) * discount * soft
            })
            .collect();

        // Critic loss: sum over members of the mean squared TD error.
        let critic_in = Tensor::cat(&[&batch.obs, &batch.actions], 1);
        let tape = ensemble_forward(&self.critic, &critic_in);
        // SAFETY: read only; nothing writes this tensor during the update.
        let q = unsafe { f32_data(&tape.out) };
        let mut td = vec![0.0f64; members];
        let mut dq = vec![0.0f32; members * bn];
        for e in 0..members {
            for i in 0..bn {
                let err = q[e * bn + i] - target[i];
                td[e] += f64::from(err * err);
                dq[e * bn + i] = err * (2.0 / b as f32);
            }
        }
        let qf1_value = mean(q[..bn].iter().map(|&v| f64::from(v)));
        lap.to(&mut self.times.forward);
        let dq = to_tensor(&dq, &[members as i64, b, 1]);
        let (grads, _) = ensemble_backward(&self.critic, &tape, dq, true, None);
        lap.to(&mut self.times.backward);
        self.critic_opt.step_fused(&grads);
        lap.to(&mut self.times.optimiser);

        // Actor loss through the updated critics: mean(alpha logp - min Q) plus the BC term.
        let pi_in = Tensor::cat(&[&batch.obs, &pi_action], 1);
        let tape = ensemble_forward(&self.critic, &pi_in);
        // SAFETY: read only; nothing writes this tensor during the update.
        let q_pi = unsafe { f32_data(&tape.out) };
        let mut q_min = vec![0.0f32; bn];
        let mut dq = vec![0.0f32; members * bn];
        for i in 0..bn {
            let min = nan_min((0..members).map(|e| q_pi[e * bn + i]));
            // Ties share the gradient, as `amin`'s backward does.
            let ties = (0..members).filter(|&e| q_pi[e * bn + i] == min).count() as f32;
            for e in 0..members {
                if q_pi[e * bn + i] == min {
                    dq[e * bn + i] = -1.0 / (b as f32 * ties);
                }
            }
            q_min[i] = min;
        }
        let logp = &head.logp[bn..];
        let mut actor_loss = mean(
            logp.iter()
                .zip(&q_min)
                .map(|(&l, &q)| f64::from(l * alpha as f32 - q)),
        );
        lap.to(&mut self.times.forward);
        let dq = to_tensor(&dq, &[members as i64, b, 1]);
        let cols = (self.obs_dim + self.critic_extra, self.act_dim);
        let (_, d_action) = ensemble_backward(&self.critic, &tape, dq, false, Some(cols));
        let d_action = d_action
            .expect("the action columns' gradient was asked for")
            .contiguous();
        // SAFETY: read only; nothing writes this tensor during the update.
        let d_action = unsafe { f32_data(&d_action) };

        // SAFETY: read only; nothing writes this tensor during the update.
        let out = unsafe { f32_data(&actor_out) };
        let demo = self.bc_demo(batch, &q_min);
        let mut bc_loss = 0.0;
        let mut dout = vec![0.0f32; 2 * bn * act];
        let logp_coef = alpha as f32 / b as f32;
        for i in 0..bn {
            let r = bn + i;
            for j in 0..act {
                let (h, o) = (r * act + j, i * 2 * act + j);
                let a = head.action[h];
                let dx = d_action[i * act + j] * (1.0 - a * a) + logp_coef * 2.0 * a;
                let d_log_std = dx * head.std[h] * eps[h] - logp_coef;
                dout[o] = dx;
                dout[o + act] =
                    d_log_std * HALF_RANGE * (1.0 - head.raw_tanh[h] * head.raw_tanh[h]);
            }
        }
        if let Some((start, demo_actions, weight)) = &demo {
            let rows = bn - start;
            let scale = (rows * act) as f32;
            let mut err = 0.0f64;
            for i in *start..bn {
                for j in 0..act {
                    let m = out[(bn + i) * 2 * act + j].tanh();
                    let diff = m - demo_actions[(i - start) * act + j];
                    err += f64::from(diff * diff);
                    dout[i * 2 * act + j] += *weight as f32 * 2.0 * diff * (1.0 - m * m) / scale;
                }
            }
            bc_loss = err / f64::from(scale);
            actor_loss += bc_loss * weight;
        }
        let dout = to_tensor(&dout, &[b, 2 * self.act_dim]);
        let grads = mlp_backward(&self.actor, &actor_inputs, (b, b), dout);
        lap.to(&mut self.times.backward);
        self.actor_opt.step_fused(&grads);

        let mean_logp = mean(logp.iter().map(|&l| f64::from(l)));
        let mut alpha_loss = 0.0;
        if let Some(opt) = &mut self.alpha_opt {
            let log_alpha = self.log_alpha.double_value(&[0]);
            alpha_loss = -log_alpha * (mean_logp + self.target_entropy);
            let grad = -(mean_logp + self.target_entropy) as f32;
            opt.step_fused(&[Tensor::from_slice(&[grad])]);
        }
        super::nets::polyak_fused(&self.critic_target, &self.critic, self.tau);
        lap.to(&mut self.times.optimiser);
        UpdateStats {
            qf1_loss: td[0] / bn as f64,
            qf2_loss: td.get(1).map_or(0.0, |t| t / bn as f64),
            qf1_value,
            actor_loss,
            alpha,
            alpha_loss,
            entropy: -mean_logp,
            bc_loss,
        }
    }

    /// The batch's demonstration rows for the BC term: the first such row, their actions, and
    /// the term's weight; `None` without the term.
    fn bc_demo(&self, batch: &Batch, q_min: &[f32]) -> Option<(usize, Vec<f32>, f64)> {
        let start = self.bc_start(batch)?;
        let actions = batch.actions.narrow(0, start, batch.demo_rows).contiguous();
        let mean_abs_q = mean(q_min.iter().map(|q| f64::from(q.abs())));
        Some((
            start as usize,
            // SAFETY: rows of the batch's actions, only read.
            unsafe { f32_data(&actions) }.to_vec(),
            self.bc_scale(mean_abs_q),
        ))
    }
}

#[cfg(test)]
mod tests;
