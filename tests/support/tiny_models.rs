//! Tiny synthetic data and a tiny segmenter, for tests that need trained models. Shared by
//! the CLI's and the web server's tests (which include this file by path).

use std::path::{Path, PathBuf};

/// Eight synthetic masked faces of `size` px in `dir`; returns the masks folder.
pub fn tiny_pairs(dir: &Path, size: u32) -> PathBuf {
    unmask_testkit::small_pairs(dir, 8, size, 0.3)
}

/// A UNet trained for `steps` steps into `out` (laid out as a pipeline's `train-seg` folder).
pub fn tiny_segmenter(data: &Path, out: &Path, steps: u64) {
    tiny_segmenter_epochs(
        data,
        out,
        steps,
        unmask_seg::TrainSegConfig::default().epochs,
    );
}

/// [`tiny_segmenter`] over `epochs` passes of the data: with enough of them it finds the
/// drawn masks on real photos roughly, which a test of the whole photo path needs.
pub fn tiny_segmenter_epochs(data: &Path, out: &Path, steps: u64, epochs: u64) {
    let config = unmask_seg::TrainSegConfig {
        epochs,
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
