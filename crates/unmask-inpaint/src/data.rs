//! Inpainting samples: the masked image, its hole (the binary mask) and the unmasked target.

use anyhow::Result;
use burn::tensor::{backend::Backend, Tensor};
use rayon::prelude::*;
use unmask_masks::MaskedPair;
use unmask_train::images;

/// A batch as flat planes, built on a worker thread and turned into tensors by the trainer.
pub struct InpaintBatch {
    pub masked: Vec<f32>,
    pub holes: Vec<f32>,
    pub targets: Vec<f32>,
    pub len: usize,
    pub size: usize,
}

/// The tensors of a batch: masked images, holes and targets.
pub struct BatchTensors<B: Backend> {
    pub masked: Tensor<B, 4>,
    pub hole: Tensor<B, 4>,
    pub target: Tensor<B, 4>,
}

impl InpaintBatch {
    pub fn tensors<B: Backend>(self, device: &B::Device) -> BatchTensors<B> {
        BatchTensors {
            masked: images::batch_tensor(self.masked, self.len, 3, self.size, device),
            hole: images::batch_tensor(self.holes, self.len, 1, self.size, device),
            target: images::batch_tensor(self.targets, self.len, 3, self.size, device),
        }
    }
}

/// Decodes `pairs` in parallel at `size`; `flips[i]` mirrors sample `i`. Errors name the file.
pub fn make_batch(pairs: &[MaskedPair], flips: &[bool], size: u32) -> Result<InpaintBatch> {
    let planes: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = pairs
        .par_iter()
        .zip(flips)
        .map(|(p, &flip)| {
            let masked = images::resized_rgb(images::read_rgb(&p.masked)?, size);
            let hole = images::resized_mask(images::read_mask(&p.mask)?, size);
            let target = images::resized_rgb(images::read_rgb(&p.target)?, size);
            Ok((
                images::rgb_planes(&masked, flip),
                images::mask_plane(&hole, flip),
                images::rgb_planes(&target, flip),
            ))
        })
        .collect::<Result<_>>()?;
    let mut batch = InpaintBatch {
        masked: Vec::new(),
        holes: Vec::new(),
        targets: Vec::new(),
        len: planes.len(),
        size: size as usize,
    };
    for (m, h, t) in planes {
        batch.masked.extend(m);
        batch.holes.extend(h);
        batch.targets.extend(t);
    }
    Ok(batch)
}

/// `pairs` decoded at `size` without flips, as tensors (evaluation, examples, sample grids).
pub fn eval_tensors<B: Backend>(
    pairs: &[MaskedPair],
    size: u32,
    device: &B::Device,
) -> Result<BatchTensors<B>> {
    Ok(make_batch(pairs, &vec![false; pairs.len()], size)?.tensors(device))
}

/// Whether sample `slot` of step `step` is mirrored; a function of the seed alone.
pub fn flip_of(seed: u64, step: u64, slot: usize) -> bool {
    unmask_core::rng::sample_unit(seed, &format!("inpaint-flip:{step}"), slot as u64) < 0.5
}
