//! Inpainting samples: the masked image, its hole (the binary mask) and the unmasked target,
//! optionally varied in colour and framing (the segmenter's augmentations, applied alike to
//! the three) so that the GAN takes a face's colours from what it sees of it.

use anyhow::Result;
use burn::tensor::{backend::Backend, Tensor};
use rayon::prelude::*;
use unmask_masks::MaskedPair;
use unmask_seg::augment::{AugmentConfig, View};
use unmask_train::images;

use crate::guide::{guide_planes, GUIDE_CHANNELS};

pub use unmask_core::evaluation::MaskSource;

/// A batch as flat planes, built on a worker thread and turned into tensors by the trainer.
pub struct InpaintBatch {
    pub masked: Vec<f32>,
    pub holes: Vec<f32>,
    pub targets: Vec<f32>,
    /// The landmark guides ([`crate::guide`]) when every pair has landmarks.
    pub guides: Option<Vec<f32>>,
    pub len: usize,
    pub size: usize,
}

/// The tensors of a batch: masked images, holes and targets.
pub struct BatchTensors<B: Backend> {
    pub masked: Tensor<B, 4>,
    pub hole: Tensor<B, 4>,
    pub target: Tensor<B, 4>,
    /// `[N, GUIDE_CHANNELS, S, S]` when the pairs have landmarks.
    pub guide: Option<Tensor<B, 4>>,
}

impl InpaintBatch {
    pub fn tensors<B: Backend>(self, device: &B::Device) -> BatchTensors<B> {
        BatchTensors {
            masked: images::batch_tensor(self.masked, self.len, 3, self.size, device),
            hole: images::batch_tensor(self.holes, self.len, 1, self.size, device),
            target: images::batch_tensor(self.targets, self.len, 3, self.size, device),
            guide: self
                .guides
                .map(|g| images::batch_tensor(g, self.len, GUIDE_CHANNELS, self.size, device)),
        }
    }
}

/// Decodes `pairs` in parallel at `size`, each seen as `views[i]` (its colour and framing
/// changes at the pair's own size, then the flip). Errors name the file.
pub fn make_batch(pairs: &[MaskedPair], views: &[View], size: u32) -> Result<InpaintBatch> {
    anyhow::ensure!(
        pairs.len() == views.len(),
        "{} pairs but {} views",
        pairs.len(),
        views.len()
    );
    let with_guides = pairs.iter().all(|p| p.landmarks.is_some());
    let planes: Vec<[Vec<f32>; 4]> = pairs
        .par_iter()
        .zip(views)
        .map(|(p, view)| {
            let masked = images::read_rgb(&p.masked)?;
            let (w, h) = masked.dimensions();
            let guide = match (&p.landmarks, with_guides) {
                (Some(lm), true) => {
                    let moved: Vec<[f32; 2]> =
                        lm.0.iter().map(|&q| view.map_point(w, h, q)).collect();
                    guide_planes(&moved, (w as f32, h as f32), size as usize, view.flip)
                }
                _ => Vec::new(),
            };
            let (masked, target, hole) = view.apply_pair(
                masked,
                images::read_rgb(&p.target)?,
                images::read_mask(&p.mask)?,
            );
            let masked = images::resized_rgb(masked, size);
            let hole = images::resized_mask(hole, size);
            let target = images::resized_rgb(target, size);
            Ok([
                images::rgb_planes(&masked, view.flip),
                images::mask_plane(&hole, view.flip),
                images::rgb_planes(&target, view.flip),
                guide,
            ])
        })
        .collect::<Result<_>>()?;
    let mut batch = InpaintBatch {
        masked: Vec::new(),
        holes: Vec::new(),
        targets: Vec::new(),
        guides: with_guides.then(Vec::new),
        len: planes.len(),
        size: size as usize,
    };
    for [m, h, t, g] in planes {
        batch.masked.extend(m);
        batch.holes.extend(h);
        batch.targets.extend(t);
        if let Some(guides) = &mut batch.guides {
            guides.extend(g);
        }
    }
    Ok(batch)
}

/// `pairs` decoded at `size` without flips, as tensors (evaluation, examples, sample grids).
pub fn eval_tensors<B: Backend>(
    pairs: &[MaskedPair],
    size: u32,
    device: &B::Device,
) -> Result<BatchTensors<B>> {
    Ok(make_batch(pairs, &vec![View::default(); pairs.len()], size)?.tensors(device))
}

/// Whether sample `slot` of step `step` is mirrored; a function of the seed alone.
pub fn flip_of(seed: u64, step: u64, slot: usize) -> bool {
    unmask_core::rng::sample_unit(seed, &format!("inpaint-flip:{step}"), slot as u64) < 0.5
}

/// How sample `slot` of step `step` is seen: mirrored by [`flip_of`] (when `flips`), with the
/// colour and framing changes of `augment` drawn from the stream `inpaint-view`. Without
/// changes the pair is exactly the file's.
pub fn view_of(augment: &AugmentConfig, flips: bool, seed: u64, step: u64, slot: usize) -> View {
    let mut view = View::draw_from("inpaint-view", augment, false, seed, step, slot);
    view.flip = flips && flip_of(seed, step, slot);
    view
}
