//! Types and utilities shared by the unmask crates.
//!
//! Only what two or more crates need lives here: the 68-point landmark layout, atomic file
//! writes, parquet manifests, progress reporting, folder listings, deterministic per-sample
//! random streams, seeded bootstrap intervals, the allocator set-up for tensor work, the
//! anti-aliased rasteriser that both the face generator and the mask renderer draw with, and
//! the files evaluation stages write for the reports (`evaluation`, `examples`).

pub mod atomic;
pub mod bootstrap;
pub mod evaluation;
pub mod examples;
pub mod faces;
pub mod faults;
pub mod landmarks;
pub mod listing;
pub mod lock;
pub mod logging;
pub mod malloc;
pub mod manifest;
mod parquet_guard;
pub mod photo;
pub mod preview;
pub mod progress;
pub mod raster;
pub mod rejects;
pub mod rng;

pub use landmarks::{Landmarks, Point, N_LANDMARKS};

/// The message of a caught panic (`std::panic::catch_unwind`'s payload).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}
