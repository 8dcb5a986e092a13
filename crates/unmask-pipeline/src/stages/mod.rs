//! Adapters from stage kinds to the crates that do the work.

pub mod faces;
pub mod inpainting;
pub mod masks;
pub mod photos;
pub mod psp;
pub mod reports;
pub mod segmentation;
pub mod stylegan;
