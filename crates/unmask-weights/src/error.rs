//! The crate's error type. Every variant names the file or command involved, so a user can act
//! on the message without reading the code.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = WeightsError> = std::result::Result<T, E>;

/// What can go wrong while fetching, verifying or converting weights.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The package manager needed to fetch the asset is not installed.
    #[error("`{tool}` was not found (tried: {tried}).\n{manual}")]
    ToolMissing {
        tool: String,
        tried: String,
        /// Step-by-step commands to fetch the file by hand (see [`WeightsError::manual`]).
        manual: String,
    },
    /// No package manager could be started, and the direct download from the registry
    /// failed too (usually: no network).
    #[error("`{tool}` was not found (tried: {tried}), and fetching from {url} directly failed: {message}\n{manual}")]
    RegistryFailed {
        tool: String,
        tried: String,
        url: String,
        message: String,
        manual: String,
    },
    /// The package manager ran but failed (usually: no network, or the registry is unreachable).
    #[error("`{command}` failed ({status}):\n{stderr}\n{manual}")]
    FetchFailed {
        command: String,
        status: String,
        stderr: String,
        manual: String,
    },
    /// Fetching is switched off ([`crate::WeightStore::offline`]) and the raw file is not in the cache.
    #[error("{file} is not in the cache and fetching is switched off.\n{manual}")]
    Offline { file: PathBuf, manual: String },
    /// A raw file's sha256 is not the pinned one, or a downloaded archive's hash is not the one
    /// its registry publishes. The file has been deleted.
    #[error(
        "checksum mismatch for {file}: expected {expected}, got {actual}; the file was deleted and nothing was cached"
    )]
    ChecksumMismatch {
        file: PathBuf,
        expected: String,
        actual: String,
    },
    /// The fetched package does not hold a file it should.
    #[error("{archive} does not contain {entry}")]
    MissingInArchive { archive: PathBuf, entry: String },
    /// The package manager ran but left no archive in its output folder.
    #[error("`{command}` left no .tar.gz/.tgz archive in {dir}")]
    NoArchive { command: String, dir: PathBuf },
    /// A file could not be parsed or converted.
    #[error("cannot convert {file}: {message}")]
    Format { file: PathBuf, message: String },
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl WeightsError {
    /// The manual-fetch instructions carried by this error, if any.
    pub fn manual(&self) -> Option<&str> {
        match self {
            Self::ToolMissing { manual, .. }
            | Self::RegistryFailed { manual, .. }
            | Self::FetchFailed { manual, .. }
            | Self::Offline { manual, .. } => Some(manual),
            _ => None,
        }
    }
}

/// Attaches a path to an I/O error.
pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> WeightsError {
    let path = path.into();
    move |source| WeightsError::Io { path, source }
}
