//! Face sources for unmask.
//!
//! The embedded default dataset is procedural: [`synthetic`] draws aligned faces with exact
//! 68-point landmarks, deterministic per `(seed, index)`. [`dataset`] writes a folder of them
//! with a parquet manifest that the mask-synthesis stage reads; [`source`] chooses between the
//! synthetic generator, a folder of photos with a landmarks file, and a folder alone
//! ([`detected`]: faces and landmarks found by unmask-detect, FFHQ-aligned crops).

pub mod dataset;
pub mod detected;
pub mod folder;
pub mod source;
pub mod synthetic;

pub use dataset::{generate, FacesConfig, FacesSummary, Split};
pub use source::{DetectedSource, FaceSource, FolderSource, SyntheticSource};
pub use unmask_core::faces::{read_faces, FaceRecord};
