//! Running mean/variance normalisation (as Stable-Baselines3's VecNormalize): observations are
//! standardised and clipped; rewards are divided by the running std of the discounted return.

use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Running mean and variance (parallel Welford/Chan update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningStats {
    /// Mean per element.
    pub mean: Vec<f64>,
    /// Variance per element.
    pub var: Vec<f64>,
    /// Samples seen (starts at a tiny epsilon like SB3).
    pub count: f64,
}

impl RunningStats {
    /// Stats for `dim` elements.
    pub fn new(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            var: vec![1.0; dim],
            count: 1e-4,
        }
    }

    /// Adds one sample.
    pub fn update(&mut self, x: &[f64]) {
        let total = self.count + 1.0;
        for (i, &v) in x.iter().enumerate().take(self.mean.len()) {
            let delta = v - self.mean[i];
            let new_mean = self.mean[i] + delta / total;
            let m_a = self.var[i] * self.count;
            let m2 = m_a + delta * delta * self.count / total;
            self.mean[i] = new_mean;
            self.var[i] = m2 / total;
        }
        self.count = total;
    }
}

/// Observation normaliser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObsNormalizer {
    /// Running statistics.
    pub stats: RunningStats,
    /// Clip of the standardised value.
    pub clip: f64,
    /// Off: identity.
    pub enabled: bool,
}

const EPS: f64 = 1e-8;

impl ObsNormalizer {
    /// A normaliser for `dim` observations.
    pub fn new(dim: usize, clip: f64, enabled: bool) -> Self {
        Self {
            stats: RunningStats::new(dim),
            clip,
            enabled,
        }
    }

    /// The normaliser of the first `n` elements (the actor's part of an asymmetric learner's
    /// rows).
    pub fn prefix(&self, n: usize) -> Self {
        let n = n.min(self.stats.mean.len());
        Self {
            stats: RunningStats {
                mean: self.stats.mean[..n].to_vec(),
                var: self.stats.var[..n].to_vec(),
                count: self.stats.count,
            },
            clip: self.clip,
            enabled: self.enabled,
        }
    }

    /// Standardised, clipped copy of one observation (f32 for the networks); a shorter
    /// observation is standardised as the first elements.
    pub fn apply(&self, obs: &[f64], out: &mut Vec<f32>) {
        out.clear();
        if !self.enabled {
            out.extend(obs.iter().map(|&v| v as f32));
            return;
        }
        let s = &self.stats;
        out.extend(obs.iter().enumerate().map(|(i, &v)| {
            ((v - s.mean[i]) / (s.var[i] + EPS).sqrt()).clamp(-self.clip, self.clip) as f32
        }));
    }

    /// Standardises a [B, dim] batch tensor of raw observations.
    pub fn apply_batch(&self, obs: &Tensor) -> Tensor {
        if !self.enabled {
            return obs.shallow_clone();
        }
        let mean: Vec<f32> = self.stats.mean.iter().map(|&m| m as f32).collect();
        let std: Vec<f32> = self
            .stats
            .var
            .iter()
            .map(|&v| (v + EPS).sqrt() as f32)
            .collect();
        ((obs - Tensor::from_slice(&mean).to_device(obs.device()))
            / Tensor::from_slice(&std).to_device(obs.device()))
        .clamp(-self.clip, self.clip)
    }
}

/// Reward scaling by the running std of the discounted return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardScaler {
    /// Stats of the discounted return.
    pub stats: RunningStats,
    /// Discounted return so far, per env.
    pub returns: Vec<f64>,
    /// Discount.
    pub gamma: f64,
    /// Clip of the scaled reward.
    pub clip: f64,
    /// Off: identity.
    pub enabled: bool,
    /// The statistics no longer move: the scale stays where it was frozen.
    #[serde(default)]
    pub frozen: bool,
}

impl RewardScaler {
    /// A scaler for `n_envs` environments.
    pub fn new(n_envs: usize, gamma: f64, clip: f64, enabled: bool) -> Self {
        Self {
            stats: RunningStats::new(1),
            returns: vec![0.0; n_envs],
            gamma,
            clip,
            enabled,
            frozen: false,
        }
    }

    /// Updates with env `i`'s reward; resets its return when the episode ended.
    pub fn observe(&mut self, i: usize, reward: f64, done: bool) {
        if let Some(r) = self.returns.get_mut(i) {
            *r = *r * self.gamma + reward;
            let value = *r;
            if !self.frozen {
                self.stats.update(&[value]);
            }
            if done {
                self.returns[i] = 0.0;
            }
        }
    }

    /// The scaled reward.
    pub fn scale(&self, reward: f64) -> f64 {
        if !self.enabled {
            return reward;
        }
        (reward / (self.stats.var[0] + EPS).sqrt()).clamp(-self.clip, self.clip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_stats_match_batch_mean_and_variance() {
        let data: Vec<f64> = (0..1000)
            .map(|i| ((i * 37) % 101) as f64 * 0.1 - 3.0)
            .collect();
        let mut s = RunningStats::new(1);
        for &x in &data {
            s.update(&[x]);
        }
        let mean = data.iter().sum::<f64>() / data.len() as f64;
        let var = data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / data.len() as f64;
        assert!((s.mean[0] - mean).abs() < 1e-6);
        assert!((s.var[0] - var).abs() / var < 1e-3);
    }

    /// A frozen scaler keeps its scale while returns still accumulate per env.
    #[test]
    fn a_frozen_reward_scale_stays_put() {
        let mut r = RewardScaler::new(1, 0.5, 10.0, true);
        for k in 0..50 {
            r.observe(0, f64::from(k % 7), k % 10 == 9);
        }
        let before = r.scale(1.0);
        r.frozen = true;
        for _ in 0..50 {
            r.observe(0, 100.0, false);
        }
        assert_eq!(r.scale(1.0), before);
        assert!(r.returns[0] > 100.0, "the return is still tracked");
        r.frozen = false;
        r.observe(0, 100.0, false);
        assert!(
            r.scale(1.0) < before,
            "unfrozen, large returns shrink the scale"
        );
    }
}
