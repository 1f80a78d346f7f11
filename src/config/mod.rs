//! Typed configuration files: loading, defaults and validation.
//!
//! Every config is a TOML file in `configs/` deserialised with serde (unknown keys are errors)
//! and then validated; errors name the file, the field and the allowed range.

pub mod calibration;
mod scene;

pub use scene::{
    ActuatorConfig, CollisionBox, CollisionConfig, Cone, ContactConfig, CubeConfig, GraspConfig,
    Integrator, PadConfig, PhysicsConfig, SceneConfig, SitesConfig, Solver, WristCameraConfig,
};

use std::fmt;
use std::path::{Path, PathBuf};

/// A config that could not be read, parsed or validated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this config (syntax, wrong type, unknown key).
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said, including the line and the field.
        message: String,
    },
    /// A value is outside its allowed range.
    #[error(
        "invalid config {path}: field `{field}` = {value} is out of range (allowed: {allowed})"
    )]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// Dotted field path, e.g. `pads.half_size_m`.
        field: String,
        /// The rejected value.
        value: String,
        /// The allowed range, in words.
        allowed: String,
    },
}

/// A single failed check, before the file path is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Dotted field path.
    pub field: String,
    /// The rejected value.
    pub value: String,
    /// The allowed range, in words.
    pub allowed: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` = {} (allowed: {})",
            self.field, self.value, self.allowed
        )
    }
}

/// Range checks used by the `validate` methods of every config.
pub(crate) struct Check;

impl Check {
    /// `lo <= value <= hi`, finite.
    pub fn range(field: &str, value: f64, lo: f64, hi: f64) -> Result<(), FieldError> {
        if value.is_finite() && (lo..=hi).contains(&value) {
            Ok(())
        } else {
            Err(FieldError {
                field: field.to_owned(),
                value: value.to_string(),
                allowed: format!("{lo} ..= {hi}"),
            })
        }
    }

    /// `lo <= value <= hi` for integers.
    pub fn int_range(field: &str, value: i64, lo: i64, hi: i64) -> Result<(), FieldError> {
        if (lo..=hi).contains(&value) {
            Ok(())
        } else {
            Err(FieldError {
                field: field.to_owned(),
                value: value.to_string(),
                allowed: format!("{lo} ..= {hi}"),
            })
        }
    }

    /// Every component within `lo..=hi`.
    pub fn each(field: &str, values: &[f64], lo: f64, hi: f64) -> Result<(), FieldError> {
        for (i, v) in values.iter().enumerate() {
            Self::range(&format!("{field}[{i}]"), *v, lo, hi)?;
        }
        Ok(())
    }
}

/// Reads and deserialises a TOML config, then runs `validate`. A relative path missing from the
/// working folder is read from the data root, so the bundled configs work from any folder.
pub(crate) fn load_toml<T, F>(path: &Path, validate: F) -> Result<T, ConfigError>
where
    T: serde::de::DeserializeOwned,
    F: FnOnce(&T) -> Result<(), FieldError>,
{
    let resolved = crate::paths::resolve_data_file(path);
    let path = resolved.as_path();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_toml(&text, path, validate)
}

/// Deserialises and validates TOML text; `path` is only used in errors.
pub(crate) fn parse_toml<T, F>(text: &str, path: &Path, validate: F) -> Result<T, ConfigError>
where
    T: serde::de::DeserializeOwned,
    F: FnOnce(&T) -> Result<(), FieldError>,
{
    let value: T = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    validate(&value).map_err(|e| ConfigError::OutOfRange {
        path: path.to_owned(),
        field: e.field,
        value: e.value,
        allowed: e.allowed,
    })?;
    Ok(value)
}

/// The bundled `configs/` folder, under the data root (`crate::paths`: the search order).
pub fn default_configs_dir() -> PathBuf {
    crate::paths::data_file("configs")
}
