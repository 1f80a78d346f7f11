//! Sweeps: a grid of training configs x reward versions x seeds, each trial one `so101-lab
//! train` process in its own folder, then a held-out evaluation of its final policy; the results
//! gathered as one table. This module owns the sweep config, the grid, each trial's derived
//! config and the results table; `cli::sweep` runs the processes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Check, ConfigError, FieldError};
use crate::rl::SacConfig;

/// `configs/sweeps/*.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Training configs (`configs/train/*.toml`).
    pub train: Vec<PathBuf>,
    /// Reward versions (`configs/rewards/*.toml`); empty = each train config's own.
    #[serde(default)]
    pub rewards: Vec<PathBuf>,
    /// Training seeds.
    pub seeds: Vec<u64>,
    /// Trials run at once on this machine.
    #[serde(default = "one")]
    pub parallel: usize,
    /// Torch threads per trial (cores / parallel is sensible; more oversubscribes).
    #[serde(default = "one")]
    pub torch_threads: usize,
    /// Overrides every trial's total_timesteps.
    #[serde(default)]
    pub total_timesteps: Option<usize>,
    /// Episodes of the held-out evaluation of each final policy (seeds 1,000,000 and up).
    #[serde(default = "hundred")]
    pub eval_episodes: usize,
}

fn one() -> usize {
    1
}

fn hundred() -> usize {
    100
}

impl SweepConfig {
    /// Loads and validates a sweep config; the train and reward files must exist.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        crate::config::load_toml(path, Self::validate)
    }

    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), FieldError> {
        let listed = |field: &str, n: usize| {
            Check::int_range(field, n as i64, 1, 10_000).map_err(|mut e| {
                e.allowed = "a list of 1 to 10,000 entries".into();
                e
            })
        };
        listed("train", self.train.len())?;
        listed("seeds", self.seeds.len())?;
        Check::int_range("parallel", self.parallel as i64, 1, 256)?;
        Check::int_range("torch_threads", self.torch_threads as i64, 1, 256)?;
        Check::int_range("eval_episodes", self.eval_episodes as i64, 1, 100_000)?;
        if let Some(n) = self.total_timesteps {
            Check::int_range("total_timesteps", n as i64, 1, 1_000_000_000)?;
        }
        for (field, files) in [("train", &self.train), ("rewards", &self.rewards)] {
            for f in files {
                if !SacConfig::resolve(f).is_file() {
                    return Err(FieldError {
                        field: field.into(),
                        value: format!("\"{}\"", f.display()),
                        allowed: "existing files (relative to the repo root or absolute)".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Every trial of the grid, in a stable order.
    pub fn trials(&self) -> Vec<Trial> {
        let rewards: Vec<Option<&PathBuf>> = if self.rewards.is_empty() {
            vec![None]
        } else {
            self.rewards.iter().map(Some).collect()
        };
        let mut out = Vec::new();
        for train in &self.train {
            for reward in &rewards {
                for &seed in &self.seeds {
                    let stem = |p: &Path| {
                        p.file_stem()
                            .map_or("x".into(), |s| s.to_string_lossy().into_owned())
                    };
                    let name = match reward {
                        Some(r) => format!("{}__{}__seed{seed}", stem(train), stem(r)),
                        None => format!("{}__seed{seed}", stem(train)),
                    };
                    out.push(Trial {
                        name,
                        train: train.clone(),
                        reward: reward.cloned(),
                        seed,
                    });
                }
            }
        }
        out
    }
}

/// One cell of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Folder name: `<train>__<reward>__seed<N>`.
    pub name: String,
    /// Training config.
    pub train: PathBuf,
    /// Reward version, if the sweep sets one.
    pub reward: Option<PathBuf>,
    /// Seed.
    pub seed: u64,
}

impl Trial {
    /// The training config this trial runs: its train config with the sweep's seed, reward,
    /// torch threads and step budget.
    pub fn config(&self, sweep: &SweepConfig) -> Result<SacConfig, ConfigError> {
        let mut cfg = SacConfig::load(&SacConfig::resolve(&self.train))?;
        cfg.seed = self.seed;
        cfg.torch_threads = sweep.torch_threads;
        if let Some(r) = &self.reward {
            cfg.reward = SacConfig::resolve(r);
        }
        cfg.task = SacConfig::resolve(&cfg.task);
        if let Some(n) = sweep.total_timesteps {
            cfg.total_timesteps = n;
        }
        Ok(cfg)
    }
}

/// One row of the results table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialResult {
    /// Trial folder name.
    pub trial: String,
    /// Training config.
    pub train: String,
    /// Reward version (the train config's own when the sweep sets none).
    pub reward: String,
    /// Seed.
    pub seed: u64,
    /// Env steps trained.
    pub steps: usize,
    /// First step whose in-training evaluation reached 95% (none: never).
    pub steps_to_95: Option<usize>,
    /// Training wall seconds at that evaluation.
    #[serde(default)]
    pub secs_to_95: Option<f64>,
    /// Held-out success rate of the final policy.
    pub heldout_success: f64,
    /// Held-out success rate of the best policy (chosen by in-training evaluation, on seeds
    /// apart from the held-out ones); none when the run wrote no best policy.
    #[serde(default)]
    pub heldout_best_success: Option<f64>,
    /// Held-out episodes.
    pub heldout_episodes: usize,
    /// Training wall time, seconds.
    pub train_wall_secs: f64,
}

/// The step and wall seconds of the first `eval/success_rate` row of `metrics.csv` text that
/// reached `bar`.
pub fn first_eval_reaching(metrics_csv: &str, bar: f64) -> Option<(usize, f64)> {
    metrics_csv.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        match f.as_slice() {
            [step, secs, "eval/success_rate", value] => {
                let v: f64 = value.parse().ok()?;
                (v >= bar)
                    .then(|| Some((step.parse().ok()?, secs.parse().ok()?)))
                    .flatten()
            }
            _ => None,
        }
    })
}

/// The results as CSV (one header line, one row per trial).
pub fn results_csv(rows: &[TrialResult]) -> String {
    let mut out = String::from(
        "trial,train,reward,seed,steps,steps_to_95,secs_to_95,heldout_success,\
         heldout_best_success,heldout_episodes,train_wall_secs\n",
    );
    let opt = |v: Option<String>| v.unwrap_or_default();
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{:.1}\n",
            r.trial,
            r.train,
            r.reward,
            r.seed,
            r.steps,
            opt(r.steps_to_95.map(|s| s.to_string())),
            opt(r.secs_to_95.map(|s| format!("{s:.1}"))),
            r.heldout_success,
            opt(r.heldout_best_success.map(|s| s.to_string())),
            r.heldout_episodes,
            r.train_wall_secs
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_evaluation_at_the_bar_is_found() {
        let csv = "step,wall_secs,name,value\n100,1.0,eval/success_rate,0.5\n\
                   150,1.5,charts/success,1\n200,2.0,eval/success_rate,0.95\n\
                   300,3.0,eval/success_rate,1\n";
        assert_eq!(first_eval_reaching(csv, 0.95), Some((200, 2.0)));
        assert_eq!(first_eval_reaching(csv, 0.4), Some((100, 1.0)));
        assert_eq!(
            first_eval_reaching("step,wall_secs,name,value\n", 0.95),
            None
        );
    }

    #[test]
    fn the_grid_names_every_trial() {
        let sweep = SweepConfig {
            train: vec![
                "configs/train/fast.toml".into(),
                "configs/train/reference.toml".into(),
            ],
            rewards: vec!["configs/rewards/v11.toml".into()],
            seeds: vec![0, 1, 2],
            parallel: 2,
            torch_threads: 1,
            total_timesteps: None,
            eval_episodes: 100,
        };
        let trials = sweep.trials();
        assert_eq!(trials.len(), 6);
        assert_eq!(trials[0].name, "fast__v11__seed0");
        assert_eq!(trials[5].name, "reference__v11__seed2");
    }
}
