//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;
use unmask_pipeline::RunOptions;

/// The repository root, which holds the real pipelines/ and datasets/.
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run options with these `--set` overrides.
pub fn opts(sets: &[&str]) -> RunOptions {
    RunOptions {
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}
