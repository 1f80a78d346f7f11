//! The scene values a person calibrates by eye in the app: `gripperframe` and `graspframe`, and
//! the pad surface points, each in its body's frame. Saving writes exactly those values into the
//! scene file in place (comments and layout kept), after copying the old file to a `.bak` beside
//! it, and replaces the file atomically: a calibration never loses the previous one.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::SceneConfig;

/// A calibrated point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalibrationPoint {
    /// The TCP site (`sites.gripperframe_pos`, gripper body frame).
    Gripperframe,
    /// The grasp site (`sites.graspframe_pos`, gripper body frame).
    Graspframe,
    /// The static pad's contact surface point (`pads.static_surface_point`, gripper body frame).
    StaticPad,
    /// The moving pad's contact surface point (`pads.moving_surface_point`, moving jaw frame).
    MovingPad,
}

impl CalibrationPoint {
    /// Every point, in display order.
    pub const ALL: [CalibrationPoint; 4] = [
        Self::Gripperframe,
        Self::Graspframe,
        Self::StaticPad,
        Self::MovingPad,
    ];

    /// Table and key in the scene file.
    pub fn key(self) -> (&'static str, &'static str) {
        match self {
            Self::Gripperframe => ("sites", "gripperframe_pos"),
            Self::Graspframe => ("sites", "graspframe_pos"),
            Self::StaticPad => ("pads", "static_surface_point"),
            Self::MovingPad => ("pads", "moving_surface_point"),
        }
    }

    /// The body frame the value is given in, and the axis the jaw runs along there.
    pub fn frame(self) -> (&'static str, usize) {
        match self {
            Self::MovingPad => ("moving jaw", 1),
            _ => ("gripper", 2),
        }
    }

    /// The value in `c`.
    pub fn get(self, c: &SceneConfig) -> [f64; 3] {
        match self {
            Self::Gripperframe => c.sites.gripperframe_pos,
            Self::Graspframe => c.sites.graspframe_pos,
            Self::StaticPad => c.pads.static_surface_point,
            Self::MovingPad => c.pads.moving_surface_point,
        }
    }

    /// Sets the value in `c`.
    pub fn set(self, c: &mut SceneConfig, v: [f64; 3]) {
        let slot = match self {
            Self::Gripperframe => &mut c.sites.gripperframe_pos,
            Self::Graspframe => &mut c.sites.graspframe_pos,
            Self::StaticPad => &mut c.pads.static_surface_point,
            Self::MovingPad => &mut c.pads.moving_surface_point,
        };
        *slot = v;
    }
}

/// The first free backup name for `path`: `<file>.bak`, then `<file>.bak.2`, ...
fn backup_path(path: &Path) -> PathBuf {
    crate::fsutil::first_free(|i| {
        let mut p = path.as_os_str().to_owned();
        p.push(match i {
            1 => ".bak".to_owned(),
            i => format!(".bak.{i}"),
        });
        PathBuf::from(p)
    })
}

/// The text of the scene file `text` with every calibration value set from `config`; every
/// other byte (comments, order, other values) unchanged.
pub fn with_calibration(text: &str, config: &SceneConfig, origin: &Path) -> anyhow::Result<String> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", origin.display()))?;
    for point in CalibrationPoint::ALL {
        let (table, key) = point.key();
        let t = doc
            .entry(table)
            .or_insert_with(toml_edit::table)
            .as_table_like_mut()
            .with_context(|| format!("{}: `{table}` is not a table", origin.display()))?;
        let mut value: toml_edit::Value = point
            .get(config)
            .iter()
            .copied()
            .collect::<toml_edit::Array>()
            .into();
        // Keep the comment after the old value.
        if let Some(old) = t.get(key).and_then(|i| i.as_value()) {
            *value.decor_mut() = old.decor().clone();
        }
        t.insert(key, toml_edit::Item::Value(value));
    }
    Ok(doc.to_string())
}

/// Writes the calibration values of `config` into the scene file at `path` (validated first;
/// the old file is copied to a `.bak` beside it, whose path is returned; the file is replaced
/// atomically). A missing file is written whole.
pub fn save_calibration(path: &Path, config: &SceneConfig) -> anyhow::Result<Option<PathBuf>> {
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let (text, backup) = match std::fs::read_to_string(path) {
        Ok(old) => {
            let new = with_calibration(&old, config, path)?;
            (new, Some((backup_path(path), old)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (toml::to_string_pretty(config)?, None)
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    // What is written must load back to exactly these values.
    let back = SceneConfig::from_toml_str(&text, path)?;
    for point in CalibrationPoint::ALL {
        anyhow::ensure!(
            point.get(&back) == point.get(config),
            "{}: {:?} does not round-trip",
            path.display(),
            point.key()
        );
    }
    let backup = match backup {
        Some((bak, old)) => {
            crate::fsutil::write_atomic(&bak, old.as_bytes())
                .with_context(|| format!("writing the backup {}", bak.display()))?;
            Some(bak)
        }
        None => None,
    };
    crate::fsutil::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(backup)
}
