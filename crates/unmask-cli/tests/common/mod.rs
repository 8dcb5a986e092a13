//! Helpers shared by the CLI tests: running the binary, and tiny data and models.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs `unmask ARGS` with `runs` as the default model folder.
pub fn unmask(args: &[&str], runs: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_unmask"))
        .args(args)
        .env("UNMASK_RUNS", runs)
        .output()
        .unwrap()
}

#[path = "../../../../tests/support/tiny_models.rs"]
mod models;
pub use models::{tiny_pairs, tiny_segmenter};

#[path = "../../../../tests/support/tiny_gan.rs"]
mod gan;

/// A GAN trained for one step into `out` (laid out as a pipeline's `train-inpaint` folder).
pub fn tiny_gan(data: &Path, out: &Path) {
    gan::tiny_gan(data, out, 1);
}

/// [`tiny_gan`] with the landmark guide.
pub fn tiny_guided_gan(data: &Path, out: &Path) {
    gan::tiny_guided_gan(data, out, 1);
}
