//! The unmask pipeline runner.
//!
//! A pipeline is a YAML file of named stages, each with a `kind`, parameters and the stages it
//! `needs`. The runner parses and validates the whole file before anything runs (errors point
//! at `file:line:column`), orders the stages, and runs each in-process into
//! `OUT/PIPELINE/STAGE/`, skipping stages whose stamp (parameters, upstream stamps, code
//! version) and outputs are unchanged.

pub mod catalog;
mod execute;
pub mod kinds;
mod layering;
pub mod overrides;
pub mod plan;
mod promote;
pub mod runner;
mod selection;
pub mod spec;
pub mod stages;
pub mod stamp;
mod summary;
pub mod variants;
pub mod verify;

pub use runner::{RunOptions, RunSummary, Runner, StageStatus};

/// The version of the code that produced an output, part of every stamp.
pub const CODE_VERSION: &str = env!("UNMASK_CODE_VERSION");
