//! Face sources for unmask.
//!
//! The embedded default dataset is procedural: [`synthetic`] draws aligned faces with exact
//! 68-point landmarks, deterministic per `(seed, index)`. [`dataset`] writes a folder of them
//! with a parquet manifest that the mask-synthesis stage reads.

pub mod dataset;
pub mod folder;
pub mod records;
pub mod synthetic;

pub use dataset::{generate, FacesConfig, FacesSummary, Split};
pub use records::{read_faces, FaceRecord};
