//! Reading episodes. Bad input of any kind is an `EpisodeError` naming the file and line; a
//! partial last line (a crash mid-write) is dropped with a warning, keeping every complete step.

use std::path::Path;

use super::EpisodeError;
use super::format::{EpisodeHeader, EpisodeStep, FORMAT_TAG, FORMAT_VERSION};

/// A loaded episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// The header.
    pub header: EpisodeHeader,
    /// The steps, in order.
    pub steps: Vec<EpisodeStep>,
    /// Problems that did not stop loading (e.g. an incomplete last line).
    pub warnings: Vec<String>,
}

impl Episode {
    /// Reads an episode file.
    pub fn read(path: &Path) -> Result<Self, EpisodeError> {
        let bytes = std::fs::read(path).map_err(|source| EpisodeError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&bytes, path)
    }

    /// Parses episode bytes; `path` is used in errors only.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, EpisodeError> {
        let p = || path.to_owned();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(EpisodeError::Empty { path: p() });
        }
        let ends_with_newline = bytes.last() == Some(&b'\n');
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        if ends_with_newline {
            lines.pop();
        }
        let header = parse_header(lines[0], path)?;
        if lines.len() == 1 && !ends_with_newline {
            return Err(EpisodeError::Header {
                path: p(),
                message: "the header line is incomplete".into(),
            });
        }
        let mut steps = Vec::with_capacity(lines.len().saturating_sub(1));
        let mut warnings = Vec::new();
        let last = lines.len() - 1;
        for (i, line) in lines.iter().enumerate().skip(1) {
            match serde_json::from_slice::<EpisodeStep>(line) {
                Ok(step) => {
                    check_step(&header, &step, path, i + 1, steps.len())?;
                    steps.push(step);
                }
                Err(_) if i == last && !ends_with_newline => {
                    warnings.push(format!(
                        "line {} is incomplete (the recording was interrupted); kept the {} complete steps",
                        i + 1,
                        steps.len()
                    ));
                }
                Err(e) => {
                    return Err(EpisodeError::AtStep {
                        path: p(),
                        line: i + 1,
                        step: steps.len(),
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(Self {
            header,
            steps,
            warnings,
        })
    }

    /// The undiscounted return.
    pub fn total_reward(&self) -> f64 {
        self.steps.iter().map(|s| s.reward).sum()
    }
}

fn parse_header(line: &[u8], path: &Path) -> Result<EpisodeHeader, EpisodeError> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| EpisodeError::NotAnEpisode {
            path: path.to_owned(),
            detail: format!("the first line is not JSON ({e})"),
        })?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT_TAG) => {}
        other => {
            return Err(EpisodeError::NotAnEpisode {
                path: path.to_owned(),
                detail: format!("format tag is {other:?}, expected \"{FORMAT_TAG}\""),
            });
        }
    }
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > u64::from(FORMAT_VERSION) {
        return Err(EpisodeError::FutureVersion {
            path: path.to_owned(),
            found: u32::try_from(version).unwrap_or(u32::MAX),
            supported: FORMAT_VERSION,
        });
    }
    let header: EpisodeHeader =
        serde_json::from_value(value).map_err(|e| EpisodeError::Header {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    if header.initial_obs.len() != header.obs_names.len() {
        return Err(EpisodeError::Header {
            path: path.to_owned(),
            message: format!(
                "initial observation has {} values for {} names",
                header.initial_obs.len(),
                header.obs_names.len()
            ),
        });
    }
    Ok(header)
}

fn check_step(
    h: &EpisodeHeader,
    s: &EpisodeStep,
    path: &Path,
    line: usize,
    step: usize,
) -> Result<(), EpisodeError> {
    let bad = |message: String| EpisodeError::AtStep {
        path: path.to_owned(),
        line,
        step,
        message,
    };
    if s.obs.len() != h.obs_names.len() {
        return Err(bad(format!(
            "observation has {} values, the header names {}",
            s.obs.len(),
            h.obs_names.len()
        )));
    }
    if s.state.values.len() != h.initial_state.values.len() {
        return Err(bad(format!(
            "state has {} values, the initial state {}",
            s.state.values.len(),
            h.initial_state.values.len()
        )));
    }
    Ok(())
}

impl Episode {
    /// Which of the recorded configs differ from `current` (empty = identical): replaying on a
    /// different scene, task or reward is allowed but must be said.
    pub fn config_differences(&self, current: &super::ConfigIdentity) -> Vec<&'static str> {
        let rec = &self.header.config;
        let mut diffs = Vec::new();
        if rec.scene_toml != current.scene_toml {
            diffs.push("scene");
        }
        if rec.task_toml != current.task_toml {
            diffs.push("task");
        }
        if rec.reward_toml != current.reward_toml {
            diffs.push("reward");
        }
        diffs
    }
}
