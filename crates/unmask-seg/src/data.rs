//! The segmentation dataset (masked image in, binary mask out) and its batcher.

use crate::augment::View;
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

/// Decodes one pair as `view` shows it: the bare face with an empty mask for a negative,
/// then the view's colour and framing changes.
pub fn load_view(pair: &MaskedPair, view: &View, size: u32) -> Result<SegSample> {
    let (image, mask) = if view.negative {
        let image = images::resized_rgb(images::read_rgb(&pair.target)?, size);
        (image, GrayImage::new(size, size))
    } else {
        let s = load_sample(pair, size)?;
        (s.image, s.mask)
    };
    let (image, mask) = view.apply(image, mask);
    Ok(SegSample { image, mask })
}

/// Decodes `pairs` in parallel, each as its view shows it, and lays them out as a batch.
pub fn make_batch(pairs: &[MaskedPair], views: &[View], size: u32) -> Result<SegBatch> {
    let samples: Vec<SegSample> = pairs
        .par_iter()
        .zip(views)
        .map(|(p, v)| load_view(p, v, size))
        .collect::<Result<_>>()?;
    let mut batch = SegBatch {
        images: Vec::with_capacity(samples.len() * 3 * (size * size) as usize),
        masks: Vec::with_capacity(samples.len() * (size * size) as usize),
        len: samples.len(),
        size: size as usize,
    };
    for (s, v) in samples.iter().zip(views) {
        batch.images.extend(images::rgb_planes(&s.image, v.flip));
        batch.masks.extend(images::mask_plane(&s.mask, v.flip));
    }
    Ok(batch)
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
