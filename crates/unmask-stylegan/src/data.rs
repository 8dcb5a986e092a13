//! What StyleGAN2 trains on and draws from: the unmasked faces of the masks stage's splits
//! (one per face, so the test faces stay unseen), mirrored at random, and the latents and
//! noise maps of each step, drawn from the run's seed so a resumed run draws the same.

use anyhow::Result;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use unmask_train::images;

/// The unmasked face of every pair of `split` in the masks folder `dir`, each once, in the
/// pairs' sorted order (at most `limit`).
pub fn faces_of(dir: &Path, split: &str, limit: Option<usize>) -> Result<Vec<PathBuf>> {
    let mut seen = std::collections::HashSet::new();
    let mut faces: Vec<PathBuf> = unmask_masks::sorted_split(dir, split, None)?
        .into_iter()
        .map(|p| p.target)
        .filter(|t| seen.insert(t.clone()))
        .collect();
    if let Some(limit) = limit {
        faces.truncate(limit.max(1));
    }
    anyhow::ensure!(
        !faces.is_empty(),
        "the masks stage in {} has no `{split}` faces",
        dir.display()
    );
    Ok(faces)
}

/// A batch as flat channel-first planes in `[0, 1]`, made on a loader thread.
pub struct FaceBatch {
    pub images: Vec<f32>,
    pub len: usize,
    pub size: usize,
}

impl FaceBatch {
    /// The images in `[-1, 1]`, `[N, 3, size, size]`.
    pub fn tensor<B: Backend>(self, device: &B::Device) -> Tensor<B, 4> {
        images::batch_tensor::<B>(self.images, self.len, 3, self.size, device)
            .mul_scalar(2.0)
            .sub_scalar(1.0)
    }
}

/// Decodes `faces` in parallel at `size`, each mirrored when `flips[i]`; errors name the file.
pub fn make_batch(faces: &[PathBuf], flips: &[bool], size: u32) -> Result<FaceBatch> {
    let planes: Vec<Vec<f32>> = faces
        .par_iter()
        .zip(flips)
        .map(|(path, &flip)| {
            let img = images::resized_rgb(images::read_rgb(path)?, size);
            Ok(images::rgb_planes(&img, flip))
        })
        .collect::<Result<_>>()?;
    Ok(FaceBatch {
        len: planes.len(),
        images: planes.concat(),
        size: size as usize,
    })
}

/// Whether sample `slot` of step `step` is mirrored; a function of the seed alone.
pub fn flip_of(seed: u64, step: u64, slot: usize) -> bool {
    unmask_core::rng::sample_unit(seed, &format!("stylegan-flip:{step}"), slot as u64) < 0.5
}

/// The random inputs of `n` generated images: latents `z [n, z_dim]` and one noise map per
/// synthesis layer, all standard normal.
pub struct Latents {
    pub z: Vec<f32>,
    pub noise: Vec<Vec<f32>>,
    pub n: usize,
    pub z_dim: usize,
    pub sides: Vec<usize>,
}

fn normals(seed: u64, stream: &str, index: u64, count: usize) -> Vec<f32> {
    let mut rng = unmask_core::rng::sample_rng(seed, stream, index);
    (0..count)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect()
}

impl Latents {
    /// The draw `index` of the named stream of a run seeded with `seed`, for noise maps of
    /// the given sides.
    pub fn draw(
        seed: u64,
        stream: &str,
        index: u64,
        n: usize,
        z_dim: usize,
        sides: &[usize],
    ) -> Self {
        let noise = sides
            .iter()
            .enumerate()
            .map(|(layer, &s)| normals(seed, &format!("{stream}-noise{layer}"), index, n * s * s))
            .collect();
        Self {
            z: normals(seed, &format!("{stream}-z"), index, n * z_dim),
            noise,
            n,
            z_dim,
            sides: sides.to_vec(),
        }
    }

    pub fn z<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2> {
        Tensor::from_data(
            TensorData::new(self.z.clone(), [self.n, self.z_dim]),
            device,
        )
    }

    pub fn noise<B: Backend>(&self, device: &B::Device) -> Vec<Tensor<B, 4>> {
        self.noise
            .iter()
            .zip(&self.sides)
            .map(|(v, &s)| Tensor::from_data(TensorData::new(v.clone(), [self.n, 1, s, s]), device))
            .collect()
    }
}
