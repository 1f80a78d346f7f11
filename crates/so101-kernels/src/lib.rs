//! Fused f32 loops for the SAC update: Adam, Polyak averaging, a linear layer's bias with its
//! ReLU or layer normalisation (forward, and backward with the bias gradient), and the squashed
//! Gaussian action head. Each is one pass over plain slices where ATen needs several kernels (and
//! as many dispatches and temporaries) at the update's small shapes.
//!
//! A crate of its own so that dev builds compile it optimised (`[profile.dev.package]` in the
//! workspace manifest): the main crate builds at opt-level 1, which does not vectorise loops.
//! It knows nothing of tensors; `so101_lab::rl::fused` hands it the tensors' memory.

/// Defines `$name` calling `$body`, through a copy compiled for AVX2 where the CPU has it. Only
/// the vector width changes: no FMA contraction, and every sum keeps its order, so both copies
/// give the same bits on one machine. (Across machines the libm functions of the action head and
/// MKL's GEMMs can still differ, as they do for the autograd update.)
macro_rules! with_avx2 {
    (
        $(#[$doc:meta])*
        pub fn $name:ident / $avx:ident => $body:ident ($($arg:ident: $ty:ty),* $(,)?)
    ) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just above.
                return unsafe { $avx($($arg),*) };
            }
            $body($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx($($arg: $ty),*) {
            $body($($arg),*)
        }
    };
}

/// The scalars of one Adam step (Kingma & Ba, bias-corrected), computed in f64 as PyTorch
/// does before they meet the f32 tensors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    /// `lr / (1 - beta1^t)`.
    pub step_size: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// `1 - beta1`, the first moment's interpolation weight.
    pub one_minus_beta1: f32,
    /// `1 - beta2`.
    pub one_minus_beta2: f32,
    /// `1 / (1 - beta2^t)`.
    pub inv_bias_correction2: f32,
    /// Added to the denominator.
    pub eps: f32,
}

impl AdamStep {
    /// The scalars of step `t` (1-based) with learning rate `lr`.
    pub fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, t: i64) -> Self {
        let t = t.clamp(1, i64::from(i32::MAX)) as i32;
        Self {
            step_size: (lr / (1.0 - beta1.powi(t))) as f32,
            beta2: beta2 as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            inv_bias_correction2: (1.0 / (1.0 - beta2.powi(t))) as f32,
            eps: eps as f32,
        }
    }
}

with_avx2! {
    /// One Adam step in place: `m <- lerp(m, g, 1 - beta1)`, `v <- beta2 v + (1 - beta2) g^2`,
    /// `p <- p - step_size m / (sqrt(v / bc2) + eps)` (with `v / bc2` as `v * (1 / bc2)`).
    /// All four slices have the same length.
    pub fn adam / adam_avx2 => adam_body(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        s: AdamStep
    )
}

#[inline(always)]
fn adam_body(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], s: AdamStep) {
    assert!(g.len() == p.len() && m.len() == p.len() && v.len() == p.len());
    let (w1, w2, inv_bc2) = (s.one_minus_beta1, s.one_minus_beta2, s.inv_bias_correction2);
    // `v * (1 / bc2)` rather than `v / bc2`: one division fewer where the divider bounds the loop.
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m += w1 * (g - *m);
        *v = *v * s.beta2 + (g * w2) * g;
        let denom = (*v * inv_bc2).sqrt() + s.eps;
        *p += (*m * -s.step_size) / denom;
    }
}

with_avx2! {
    /// `target <- target + w (online - target)` in place (Polyak averaging with weight `w`).
    pub fn lerp / lerp_avx2 => lerp_body(
        target: &mut [f32],
        online: &[f32],
        w: f32
    )
}

#[inline(always)]
fn lerp_body(target: &mut [f32], online: &[f32], w: f32) {
    assert_eq!(target.len(), online.len());
    for (t, &o) in target.iter_mut().zip(online) {
        *t += w * (o - *t);
    }
}

#[inline(always)]
/// Sum with eight independent accumulators, so the loop vectorises without reassociating
/// floats behind the compiler's back.
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

#[inline(always)]
/// As [`sum`], of `x * y`.
fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (cx, cy) = (x.chunks_exact(8), y.chunks_exact(8));
    let rest: f32 = cx
        .remainder()
        .iter()
        .zip(cy.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in cx.zip(cy) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    acc.iter().sum::<f32>() + rest
}

with_avx2! {
    /// Adds `bias` to every row of `z` (rows of `bias.len()`), then layer normalisation
    /// without affine parameters, then ReLU: `z` is overwritten with the normalised values
    /// (kept for the backward pass), `a` receives `max(normalised, 0)` and `rstd` each row's
    /// `1 / sqrt(var + eps)` (biased variance, as PyTorch).
    pub fn layer_norm_relu / layer_norm_relu_avx2 => layer_norm_relu_body(
        z: &mut [f32],
        bias: &[f32],
        a: &mut [f32],
        rstd: &mut [f32],
        eps: f32
    )
}

#[inline(always)]
fn layer_norm_relu_body(z: &mut [f32], bias: &[f32], a: &mut [f32], rstd: &mut [f32], eps: f32) {
    let width = bias.len();
    assert!(width > 0 && z.len() == a.len() && z.len() == rstd.len() * width);
    let n = width as f32;
    for ((zr, ar), r) in z
        .chunks_exact_mut(width)
        .zip(a.chunks_exact_mut(width))
        .zip(rstd.iter_mut())
    {
        for (x, &b) in zr.iter_mut().zip(bias) {
            *x += b;
        }
        let mean = sum(zr) / n;
        for x in zr.iter_mut() {
            *x -= mean;
        }
        let var = dot(zr, zr) / n;
        *r = 1.0 / (var + eps).sqrt();
        for (x, y) in zr.iter_mut().zip(ar.iter_mut()) {
            *x *= *r;
            // Not `max`: NaN stays NaN, as in ATen's ReLU.
            *y = if *x < 0.0 { 0.0 } else { *x };
        }
    }
}

with_avx2! {
    /// The backward pass of [`layer_norm_relu`]: `d` holds the gradient with respect to its
    /// output `a` and is overwritten with the gradient with respect to its input, from the saved
    /// output `a`, normalised values `xhat` and `rstd`:
    /// `dz = rstd (dy - mean(dy) - xhat mean(dy xhat))` with `dy = d` where `a > 0`, else 0.
    /// `bias_grad` (the row width) receives the column sums of `dz`: the gradient of the bias
    /// added before the normalisation.
    pub fn layer_norm_relu_backward / layer_norm_relu_backward_avx2
        => layer_norm_relu_backward_body(
        d: &mut [f32],
        a: &[f32],
        xhat: &[f32],
        rstd: &[f32],
        bias_grad: &mut [f32]
    )
}

#[inline(always)]
fn layer_norm_relu_backward_body(
    d: &mut [f32],
    a: &[f32],
    xhat: &[f32],
    rstd: &[f32],
    bias_grad: &mut [f32],
) {
    let width = bias_grad.len();
    bias_grad.fill(0.0);
    assert!(width > 0 && d.len() == a.len() && d.len() == xhat.len());
    assert_eq!(d.len(), rstd.len() * width);
    let n = width as f32;
    for (((dr, ar), xr), &r) in d
        .chunks_exact_mut(width)
        .zip(a.chunks_exact(width))
        .zip(xhat.chunks_exact(width))
        .zip(rstd)
    {
        mask(dr, ar);
        let mean_dy = sum(dr) / n;
        let mean_dyx = dot(dr, xr) / n;
        for ((g, &x), db) in dr.iter_mut().zip(xr).zip(bias_grad.iter_mut()) {
            *g = r * (*g - mean_dy - x * mean_dyx);
            *db += *g;
        }
    }
}

with_avx2! {
    /// `z <- relu(z + bias)` on every row of `z` (rows of `bias.len()`): a linear layer's bias and
    /// activation in one pass. NaN stays NaN, as in ATen's ReLU.
    pub fn bias_relu / bias_relu_avx2 => bias_relu_body(
        z: &mut [f32],
        bias: &[f32]
    )
}

#[inline(always)]
fn bias_relu_body(z: &mut [f32], bias: &[f32]) {
    assert!(!bias.is_empty() && z.len().is_multiple_of(bias.len()));
    for row in z.chunks_exact_mut(bias.len()) {
        for (x, &b) in row.iter_mut().zip(bias) {
            let y = *x + b;
            *x = if y < 0.0 { 0.0 } else { y };
        }
    }
}

/// `z <- z + bias` on every row of `z` (rows of `bias.len()`).
pub fn bias_add(z: &mut [f32], bias: &[f32]) {
    assert!(!bias.is_empty() && z.len().is_multiple_of(bias.len()));
    for row in z.chunks_exact_mut(bias.len()) {
        for (x, &b) in row.iter_mut().zip(bias) {
            *x += b;
        }
    }
}

/// The squashed Gaussian head of SAC's actor on `rows` rows of `width` actions: from the
/// network output (per row, `width` means then `width` raw log-stds, squashed by tanh into
/// `[log_std_min, log_std_max]`) and standard-normal `eps`, the actions `tanh(mean + std eps)`,
/// their log-probabilities (Gaussian density minus the log-Jacobian of tanh, written stably as
/// `2 (ln 2 - x - softplus(-2x))`), and for the backward pass `tanh(raw)` and `std`.
pub fn squashed_gaussian(out: &[f32], eps: &[f32], bounds: [f32; 2], head: SquashedHead<'_>) {
    let rows = head.logp.len();
    assert!(
        rows > 0 && eps.len().is_multiple_of(rows),
        "{} noise values for {rows} rows",
        eps.len()
    );
    let width = eps.len() / rows;
    assert!(out.len() == 2 * eps.len() && head.action.len() == eps.len());
    assert!(head.raw_tanh.len() == eps.len() && head.std.len() == eps.len());
    let half_range = 0.5 * (bounds[1] - bounds[0]);
    let log_norm = (0.5 * (2.0 * std::f64::consts::PI).ln()) as f32;
    let rows = out.chunks_exact(2 * width).zip(eps.chunks_exact(width));
    for (r, (row, noise)) in rows.enumerate() {
        let mut logp = 0.0f32;
        for j in 0..width {
            let k = r * width + j;
            let t = row[width + j].tanh();
            let log_std = (t + 1.0) * half_range + bounds[0];
            let std = log_std.exp();
            let x = row[j] + std * noise[j];
            let gauss = noise[j] * noise[j] * -0.5 - log_std - log_norm;
            // softplus(y) = ln(1 + e^y), the identity above 20 as in ATen.
            let y = x * -2.0;
            let softplus = if y > 20.0 { y } else { y.exp().ln_1p() };
            logp += gauss - (std::f32::consts::LN_2 - x - softplus) * 2.0;
            head.action[k] = x.tanh();
            head.raw_tanh[k] = t;
            head.std[k] = std;
        }
        head.logp[r] = logp;
    }
}

/// Outputs of [`squashed_gaussian`]: per element `action`, `raw_tanh`, `std`; per row `logp`.
#[derive(Debug)]
pub struct SquashedHead<'a> {
    /// Squashed actions.
    pub action: &'a mut [f32],
    /// Log-probability of each row's action.
    pub logp: &'a mut [f32],
    /// tanh of the raw log-std output.
    pub raw_tanh: &'a mut [f32],
    /// Standard deviation.
    pub std: &'a mut [f32],
}

with_avx2! {
    /// ReLU's backward pass in place: `d` is zeroed where the output `a` is not positive, and
    /// `bias_grad` (the row width) receives the column sums of the result: the gradient of the
    /// layer's bias.
    pub fn relu_backward / relu_backward_avx2 => relu_backward_body(
        d: &mut [f32],
        a: &[f32],
        bias_grad: &mut [f32]
    )
}

#[inline(always)]
fn relu_backward_body(d: &mut [f32], a: &[f32], bias_grad: &mut [f32]) {
    assert!(!bias_grad.is_empty() && d.len() == a.len() && d.len().is_multiple_of(bias_grad.len()));
    bias_grad.fill(0.0);
    let width = bias_grad.len();
    for (dr, ar) in d.chunks_exact_mut(width).zip(a.chunks_exact(width)) {
        mask(dr, ar);
        for (db, &g) in bias_grad.iter_mut().zip(dr.iter()) {
            *db += g;
        }
    }
}

#[inline(always)]
fn mask(d: &mut [f32], a: &[f32]) {
    // A select rather than a branch: it vectorises, and half the branches would mispredict.
    for (g, &y) in d.iter_mut().zip(a) {
        *g = if y > 0.0 { *g } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_matches_the_textbook_step() {
        let (mut p, g, mut m, mut v) = (
            vec![1.0f32, -2.0],
            [0.5f32, -0.25],
            vec![0.1f32, 0.0],
            vec![0.01f32, 0.0],
        );
        let s = AdamStep {
            step_size: 0.01,
            beta2: 0.999,
            one_minus_beta1: 0.1,
            one_minus_beta2: 0.001,
            inv_bias_correction2: 2.0,
            eps: 1e-8,
        };
        adam(&mut p, &g, &mut m, &mut v, s);
        for k in 0..2 {
            let m0 = [0.1f64, 0.0][k];
            let v0 = [0.01f64, 0.0][k];
            let gk = g[k] as f64;
            let mk = 0.9 * m0 + 0.1 * gk;
            let vk = 0.999 * v0 + 0.001 * gk * gk;
            let pk = [1.0, -2.0][k] - 0.01 * mk / ((vk / 0.5).sqrt() + 1e-8);
            assert!(
                (m[k] as f64 - mk).abs() < 1e-6 && (v[k] as f64 - vk).abs() < 1e-6 * vk.max(1e-6)
            );
            assert!((p[k] as f64 - pk).abs() < 1e-6, "{} vs {pk}", p[k]);
        }
    }

    #[test]
    fn layer_norm_gradient_matches_finite_differences() {
        let width = 11;
        let z0: Vec<f32> = (0..2 * width)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.3)
            .collect();
        let upstream: Vec<f32> = (0..2 * width)
            .map(|i| ((i * 5 % 9) as f32 - 4.0) * 0.2)
            .collect();
        let loss = |z: &[f32]| -> (f64, Vec<f32>, Vec<f32>, Vec<f32>) {
            let (mut x, mut a, mut r) = (z.to_vec(), vec![0.0; z.len()], vec![0.0; 2]);
            layer_norm_relu(&mut x, &vec![0.0; width], &mut a, &mut r, 1e-5);
            let l = a.iter().zip(&upstream).map(|(a, u)| (a * u) as f64).sum();
            (l, x, a, r)
        };
        let (_, xhat, a, r) = loss(&z0);
        let (mut d, mut db) = (upstream.clone(), vec![0.0; width]);
        layer_norm_relu_backward(&mut d, &a, &xhat, &r, &mut db);
        for (j, &g) in db.iter().enumerate() {
            assert!((g - (d[j] + d[width + j])).abs() < 1e-6);
        }
        for i in 0..z0.len() {
            let h = 1e-3f32;
            let (mut up, mut down) = (z0.clone(), z0.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (loss(&up).0 - loss(&down).0) / (2.0 * h as f64);
            assert!(
                (numeric - d[i] as f64).abs() < 2e-3,
                "{i}: {numeric} vs {}",
                d[i]
            );
        }
    }

    #[test]
    fn relu_backward_masks_and_sums_the_columns() {
        let (mut d, a, mut db) = (
            vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0],
            [1.0f32, 0.0, -1.0, 2.0, 0.5, 0.0],
            [9.0f32; 3],
        );
        relu_backward(&mut d, &a, &mut db);
        assert_eq!(d, [1.0, 0.0, 0.0, 4.0, 5.0, 0.0]);
        assert_eq!(db, [5.0, 5.0, 0.0]);
    }

    #[test]
    fn sums_cover_the_remainder() {
        let x: Vec<f32> = (1..=19).map(|i| i as f32).collect();
        assert_eq!(sum(&x), 190.0);
        assert_eq!(dot(&x, &x), (1..=19).map(|i| (i * i) as f32).sum::<f32>());
        let (mut t, o) = (vec![0.0f32, 4.0], [2.0f32, 0.0]);
        lerp(&mut t, &o, 0.25);
        assert_eq!(t, [0.5, 3.0]);
    }
}
