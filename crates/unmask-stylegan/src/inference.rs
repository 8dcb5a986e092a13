//! Using a trained StyleGAN2: the average (EMA) generator saved as `best/`, random faces from
//! seeded latents, and the sample grids training writes.

use crate::data::Latents;
use crate::model::{Generator, GeneratorConfig};
use anyhow::Result;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use std::path::Path;
use unmask_kernels::KernelBackend;
use unmask_train::images;
use unmask_train::models::{self, ModelInfo};

pub const WEIGHTS_FILE: &str = "stylegan.mpk";
pub const INFO_FILE: &str = "stylegan.json";
/// The networks and optimisers in a training checkpoint.
pub const CHECKPOINT_GENERATOR: &str = "generator.mpk";
pub const CHECKPOINT_GENERATOR_EMA: &str = "generator_ema.mpk";
pub const CHECKPOINT_DISCRIMINATOR: &str = "discriminator.mpk";
pub const CHECKPOINT_GENERATOR_OPTIMIZER: &str = "generator_optimizer.mpk";
pub const CHECKPOINT_DISCRIMINATOR_OPTIMIZER: &str = "discriminator_optimizer.mpk";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StyleGanInfo {
    pub generator: GeneratorConfig,
    pub step: u64,
    /// Real images the discriminator had seen when these weights were saved.
    pub images_seen: u64,
}

impl ModelInfo for StyleGanInfo {
    type Arch = GeneratorConfig;
    const INFO_FILE: &'static str = INFO_FILE;
    const WEIGHTS_FILE: &'static str = WEIGHTS_FILE;
    const WHAT: &'static str = "StyleGAN2 generator";

    fn arch(&self) -> &GeneratorConfig {
        &self.generator
    }

    fn check(&self) -> Result<()> {
        self.generator.validate()
    }
}

/// Generated images `[N, 3, S, S]` in about [-1, 1] to `[0, 1]`.
pub fn to_unit<B: Backend>(images: Tensor<B, 4>) -> Tensor<B, 4> {
    images.add_scalar(1.0).mul_scalar(0.5).clamp(0.0, 1.0)
}

/// A trained generator and its description.
pub struct StyleGan<B: Backend> {
    pub generator: Generator<B>,
    pub info: StyleGanInfo,
    device: B::Device,
}

impl<B: KernelBackend> StyleGan<B> {
    /// Loads a `train-stylegan` folder (its `best/`) or a `best/` folder itself.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self> {
        let (generator, info) =
            models::load_model::<B, StyleGanInfo, _>(dir, None, |a| a.init(device), device)?;
        Ok(Self {
            generator,
            info,
            device: device.clone(),
        })
    }

    /// `count` faces from the latents of `seed`, truncated by `psi` (1 = none).
    pub fn faces(&self, count: usize, seed: u64, psi: f64) -> Vec<RgbImage> {
        faces_of(
            &self.generator,
            &self.info.generator,
            count,
            seed,
            psi,
            &self.device,
        )
    }
}

/// `count` faces of `generator` from the latents of `seed` (stream `stylegan-faces`).
pub fn faces_of<B: KernelBackend>(
    generator: &Generator<B>,
    config: &GeneratorConfig,
    count: usize,
    seed: u64,
    psi: f64,
    device: &B::Device,
) -> Vec<RgbImage> {
    let latents = Latents::draw(
        seed,
        "stylegan-faces",
        0,
        count,
        config.z_dim,
        &config.noise_sides(),
    );
    let out = to_unit(generator.generate(latents.z(device), psi, &latents.noise(device)));
    (0..count).map(|i| images::tensor_to_rgb(&out, i)).collect()
}

/// A grid of the faces of [`faces_of`], `columns` wide, as a PNG at `path`.
pub fn write_grid<B: KernelBackend>(
    generator: &Generator<B>,
    config: &GeneratorConfig,
    count: usize,
    seed: u64,
    path: &Path,
    device: &B::Device,
) -> Result<()> {
    if count == 0 {
        return Ok(());
    }
    let faces = faces_of(generator, config, count, seed, 1.0, device);
    let columns = (count as f64).sqrt().ceil() as usize;
    let grid = unmask_core::preview::grid(&faces, columns, (config.image_size as u32).max(64));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    unmask_core::atomic::save_png(&grid, path)
}
