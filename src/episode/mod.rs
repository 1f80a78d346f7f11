//! Episode files: the format, an incremental recorder, a reader that never panics on bad input,
//! and exact re-simulation of a recording.

mod format;
mod frames;
pub mod lerobot;
mod npz;
mod reader;
mod recorder;
mod replay;
mod resim;
pub mod triage;

pub use format::{
    ConfigIdentity, EpisodeHeader, EpisodeStep, FORMAT_TAG, FORMAT_VERSION, PolicyOutputs,
    pixels_sha,
};
pub use frames::FrameWriter;
pub use npz::episode_npz;
pub use reader::Episode;
pub use recorder::{EpisodeRecorder, header_for, step_record};
pub use replay::{Markers, Replay, env_of, faults_of};
pub use resim::{ResimReport, resimulate};

use std::path::{Path, PathBuf};

/// The `*.jsonl` files directly in `dir` (not recursive), in file-name order.
pub fn jsonl_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Everything that can go wrong with an episode file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EpisodeError {
    /// Reading or writing failed.
    #[error("episode {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("episode {path} is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The first line is not an so101-lab episode header.
    #[error("{path} is not an so101-lab episode file: {detail}")]
    NotAnEpisode {
        /// The file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// Written by a newer so101-lab.
    #[error("episode {path} has format version {found}; this build reads up to {supported}")]
    FutureVersion {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// The header is malformed.
    #[error("episode {path}: bad header: {message}")]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A step line is malformed.
    #[error("episode {path}, line {line} (step {step}): {message}")]
    AtStep {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 0-based step index.
        step: usize,
        /// What is wrong.
        message: String,
    },
    /// Refusing to overwrite a saved episode.
    #[error("episode {path} already exists; not overwriting it")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The recorded configs cannot be rebuilt.
    #[error("episode {path}: recorded config does not load: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}
