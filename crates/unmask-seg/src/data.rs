//! The segmentation dataset (masked image in, binary mask out) and its batcher.

use anyhow::Result;
use burn::tensor::{backend::Backend, Tensor};
use image::{GrayImage, RgbImage};
use rayon::prelude::*;
use std::path::Path;
use unmask_masks::MaskedPair;
use unmask_train::images;

/// One decoded sample at the model size, kept as bytes until batched.
pub struct SegSample {
    pub image: RgbImage,
    pub mask: GrayImage,
}

/// A batch ready for the model: `[N, 3, S, S]` images and `[N, 1, S, S]` masks as flat planes,
/// so it can be built on a worker thread and turned into tensors on the training thread.
pub struct SegBatch {
    pub images: Vec<f32>,
    pub masks: Vec<f32>,
    pub len: usize,
    pub size: usize,
}

impl SegBatch {
    pub fn tensors<B: Backend>(self, device: &B::Device) -> (Tensor<B, 4>, Tensor<B, 4>) {
        (
            images::batch_tensor(self.images, self.len, 3, self.size, device),
            images::batch_tensor(self.masks, self.len, 1, self.size, device),
        )
    }
}

/// Decodes one pair at `size`; the error names the file.
pub fn load_sample(pair: &MaskedPair, size: u32) -> Result<SegSample> {
    Ok(SegSample {
        image: images::resized_rgb(images::read_rgb(&pair.masked)?, size),
        mask: images::resized_mask(images::read_mask(&pair.mask)?, size),
    })
}

/// Decodes `pairs` in parallel and lays them out as a batch; `flips[i]` mirrors sample `i`.
pub fn make_batch(pairs: &[MaskedPair], flips: &[bool], size: u32) -> Result<SegBatch> {
    let samples: Vec<SegSample> = pairs
        .par_iter()
        .map(|p| load_sample(p, size))
        .collect::<Result<_>>()?;
    let mut batch = SegBatch {
        images: Vec::with_capacity(samples.len() * 3 * (size * size) as usize),
        masks: Vec::with_capacity(samples.len() * (size * size) as usize),
        len: samples.len(),
        size: size as usize,
    };
    for (s, &flip) in samples.iter().zip(flips) {
        batch.images.extend(images::rgb_planes(&s.image, flip));
        batch.masks.extend(images::mask_plane(&s.mask, flip));
    }
    Ok(batch)
}

/// Whether sample `index` of step `step` is mirrored: a function of the seed alone, so resumed
/// and uninterrupted runs agree.
pub fn flip_of(seed: u64, step: u64, slot: usize) -> bool {
    unmask_core::rng::sample_unit(seed, &format!("seg-flip:{step}"), slot as u64) < 0.5
}

/// Checks a data folder has a manifest before a long job starts.
pub fn ensure_manifest(dir: &Path) -> Result<()> {
    let file = dir.join(unmask_masks::dataset::MANIFEST);
    anyhow::ensure!(
        file.exists(),
        "no masks manifest at {}: run the `masks` stage first (e.g. `cargo xtask run dataset`)",
        file.display()
    );
    Ok(())
}
