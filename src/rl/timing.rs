//! Where a training step's time goes: wall-clock seconds per phase, accumulated over a run.
//!
//! On the CPU, libtorch runs each op before returning, so a clock read between ops charges
//! each phase its own work. On CUDA ops are queued and the split is only indicative.

use std::time::Instant;

use serde::Serialize;

/// Seconds spent in each phase of training.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PhaseTimes {
    /// Stepping the simulated envs (physics, IK, reward, observation).
    pub env: f64,
    /// The policy choosing exploration actions.
    pub act: f64,
    /// Drawing minibatches from replay and normalising them.
    pub sampling: f64,
    /// Forward passes of the update (targets, critics, actor, entropy coefficient).
    pub forward: f64,
    /// Backward passes of the update.
    pub backward: f64,
    /// Optimiser steps, gradient zeroing and the target-network update.
    pub optimiser: f64,
    /// In-training evaluations.
    pub eval: f64,
    /// Checkpoints, policy files and metrics.
    pub io: f64,
    /// Whole run, wall clock.
    pub total: f64,
}

impl PhaseTimes {
    /// Named phases, in display order (not `total`).
    pub fn phases(&self) -> [(&'static str, f64); 8] {
        [
            ("env", self.env),
            ("act", self.act),
            ("sampling", self.sampling),
            ("forward", self.forward),
            ("backward", self.backward),
            ("optimiser", self.optimiser),
            ("eval", self.eval),
            ("io", self.io),
        ]
    }

    /// Time in none of the phases (loop overhead, logging, progress).
    pub fn other(&self) -> f64 {
        (self.total - self.phases().iter().map(|p| p.1).sum::<f64>()).max(0.0)
    }

    /// One line: each phase's seconds and share of the total.
    pub fn summary(&self) -> String {
        let total = self.total.max(1e-9);
        let parts: Vec<String> = self
            .phases()
            .iter()
            .chain(std::iter::once(&("other", self.other())))
            .map(|(name, s)| format!("{name} {s:.1} s ({:.0}%)", 100.0 * s / total))
            .collect();
        format!("total {:.1} s: {}", self.total, parts.join(", "))
    }
}

/// A stopwatch that charges the time since its last lap to a phase.
#[derive(Debug)]
pub struct Lap(Instant);

impl Lap {
    /// Starts timing now.
    pub fn start() -> Self {
        Self(Instant::now())
    }

    /// Adds the time since the last lap to `phase`, and starts the next lap.
    pub fn to(&mut self, phase: &mut f64) {
        let now = Instant::now();
        *phase += now.duration_since(self.0).as_secs_f64();
        self.0 = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_charge_their_phase_and_other_is_the_rest() {
        let mut t = PhaseTimes::default();
        let mut lap = Lap::start();
        std::thread::sleep(std::time::Duration::from_millis(20));
        lap.to(&mut t.env);
        lap.to(&mut t.forward);
        assert!(t.env >= 0.019, "env {}", t.env);
        assert!(t.forward < t.env);
        t.total = t.env + t.forward + 1.0;
        assert!((t.other() - 1.0).abs() < 1e-9);
        let s = t.summary();
        assert!(s.starts_with("total ") && s.contains("env 0.0 s") && s.contains("other 1.0 s"));
    }
}
