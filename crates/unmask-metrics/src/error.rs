//! The crate's error type; every variant names the weights file involved.

use std::path::PathBuf;

pub type Result<T, E = MetricsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(transparent)]
    Weights(#[from] unmask_weights::WeightsError),
    #[error("cannot read weights file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid safetensors file: {message}")]
    Safetensors { path: PathBuf, message: String },
    #[error("{path} has no tensor named `{name}`")]
    MissingTensor { path: PathBuf, name: String },
    #[error("{path}: tensor `{name}` has dtype/shape {found}, expected f32 {expected:?}")]
    BadTensor {
        path: PathBuf,
        name: String,
        found: String,
        expected: Vec<usize>,
    },
}
