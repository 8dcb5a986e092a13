//! Helpers shared by the CLI tests: running the binary, and tiny data and models.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `unmask ARGS` with `runs` as the default model folder.
pub fn unmask(args: &[&str], runs: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_unmask"))
        .args(args)
        .env("UNMASK_RUNS", runs)
        .output()
        .unwrap()
}

/// Eight synthetic masked faces of `size` px in `dir`; returns the masks folder.
pub fn tiny_pairs(dir: &Path, size: u32) -> PathBuf {
    let faces = unmask_faces::dataset::FacesConfig {
        count: 8,
        size,
        val_fraction: 0.3,
        test_fraction: 0.0,
        preview_count: 0,
        ..Default::default()
    };
    let masks = unmask_masks::dataset::MasksParams {
        preview_per_type: 0,
        ..Default::default()
    };
    unmask_masks::dataset::synthetic_pairs(dir, &faces, &masks).unwrap()
}

/// A UNet trained for `steps` steps into `out` (laid out as a pipeline's `train-seg` folder).
pub fn tiny_segmenter(data: &Path, out: &Path, steps: u64) {
    let config = unmask_seg::TrainSegConfig {
        model: unmask_seg::UNetConfig {
            depth: 2,
            base_channels: 4,
            image_size: 32,
            ..Default::default()
        },
        max_steps: Some(steps),
        batch_size: 4,
        ..Default::default()
    };
    unmask_seg::train(&config, data, out, &Default::default()).unwrap();
}

#[path = "../../../../tests/support/tiny_gan.rs"]
mod gan;

/// A GAN trained for one step into `out` (laid out as a pipeline's `train-inpaint` folder).
pub fn tiny_gan(data: &Path, out: &Path) {
    gan::tiny_gan(data, out, 1);
}
