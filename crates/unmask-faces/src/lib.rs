//! Face sources for unmask.
//!
//! The embedded default dataset is procedural: [`synthetic`] draws aligned faces with exact
//! 68-point landmarks, deterministic per `(seed, index)`. [`dataset`] writes a folder of them
//! with a parquet manifest that the mask-synthesis stage reads.

pub mod dataset;
pub mod synthetic;

pub use dataset::{generate, FacesConfig, FacesSummary, Split};
