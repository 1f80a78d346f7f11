//! Re-simulating a recording: rebuild the recorded scene and task from the header, restore the
//! initial state, replay the actions, and compare every state bit for bit.

use std::path::Path;

use super::{Episode, EpisodeError, pixels_sha};

/// Result of a re-simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct ResimReport {
    /// Steps replayed.
    pub steps: usize,
    /// First step whose state differed from the recording (bitwise), if any.
    pub first_divergence: Option<usize>,
    /// Steps whose re-rendered image observation was compared with the recorded fingerprint.
    pub pixels_checked: usize,
    /// First step whose re-rendered image differed from the recording, if any.
    pub first_pixel_divergence: Option<usize>,
    /// Why the images were not compared (recorded on another render backend).
    pub pixels_skipped: Option<String>,
}

/// Replays `episode`'s actions from its initial state in a scene rebuilt from its header (with
/// its domain randomisation sample), and re-renders the image observations it fingerprinted.
pub fn resimulate(episode: &Episode, path: &Path) -> Result<ResimReport, EpisodeError> {
    let cfg_err = |message: String| EpisodeError::Config {
        path: path.to_owned(),
        message,
    };
    let mut env = super::env_of(episode, path)?;
    env.restore(
        &episode.header.initial_state,
        &episode.header.initial_controller,
    )
    .map_err(|e| cfg_err(e.to_string()))?;
    let mut pixels_checked = 0;
    let mut first_pixel_divergence = None;
    let now = env.images().map(|p| p.renderer().backend_name());
    let recorded = episode.header.render_backend.clone();
    let pixels_skipped = match (&recorded, &now) {
        (Some(r), Some(n)) if r != n => Some(format!(
            "images were drawn by `{r}`, this machine renders with `{n}`: not compared"
        )),
        _ => None,
    };
    let compare = pixels_skipped.is_none();
    if let (true, Some(want), Some(got)) =
        (compare, &episode.header.initial_pixels_sha, env.pixels())
    {
        pixels_checked += 1;
        if *want != pixels_sha(got) {
            first_pixel_divergence = Some(0);
        }
    }
    let mut first_divergence = None;
    for (i, step) in episode.steps.iter().enumerate() {
        let out = env.step(&step.action);
        let now = env.sim().save_state();
        let same = now.values.len() == step.state.values.len()
            && now
                .values
                .iter()
                .zip(&step.state.values)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if !same && first_divergence.is_none() {
            first_divergence = Some(i);
        }
        if let (true, Some(want), Some(got)) = (compare, &step.pixels_sha, &out.pixels) {
            pixels_checked += 1;
            if *want != pixels_sha(got) && first_pixel_divergence.is_none() {
                first_pixel_divergence = Some(i + 1);
            }
        }
    }
    Ok(ResimReport {
        steps: episode.steps.len(),
        first_divergence,
        pixels_checked,
        first_pixel_divergence,
        pixels_skipped,
    })
}
