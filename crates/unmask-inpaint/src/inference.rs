//! Using a trained GAN: inpaint the hole of an aligned face of any size. The hole first grows
//! by the generator's `hole_dilation` at the image's own resolution (over the mask's rim);
//! the network runs at its own size, and its output is resized back and composited into the
//! original at full resolution, so pixels outside the grown hole are returned unchanged.

use crate::model::{GeneratorConfig, InpaintNet};
use anyhow::{bail, Context, Result};
use burn::module::Module;
use burn::tensor::backend::Backend;
use image::imageops::FilterType;
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_kernels::KernelBackend;
use unmask_train::{checkpoint, images};

pub const WEIGHTS_FILE: &str = "inpainter.mpk";
pub const INFO_FILE: &str = "inpainter.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InpainterInfo {
    pub generator: GeneratorConfig,
    /// Validation hole L1 of these weights.
    pub val_hole_l1: f64,
    pub step: u64,
}

/// What [`Inpainter::inpaint`] did besides the image.
#[derive(Clone, Debug, Serialize)]
pub struct InpaintReport {
    /// Fraction of the image inside the filled (grown) hole.
    pub hole_fraction: f64,
    /// Set when there was nothing to do or nothing to go on.
    pub warning: Option<String>,
    /// The hole that was filled, 255 inside: the mask grown by `hole_dilation`.
    #[serde(skip)]
    pub filled_hole: GrayImage,
}

pub struct Inpainter<B: Backend> {
    net: InpaintNet<B>,
    info: InpainterInfo,
    device: B::Device,
}

impl<B: KernelBackend> Inpainter<B> {
    /// Loads a `train-inpaint` folder (its `best/`) or a `best/` folder itself.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self> {
        let dir = resolve_model_dir(dir)?;
        let info: InpainterInfo = checkpoint::read_json(&dir.join(INFO_FILE))?;
        info.generator.validate().with_context(|| {
            format!(
                "{}: invalid generator description",
                dir.join(INFO_FILE).display()
            )
        })?;
        let record = checkpoint::load_record::<B, _>(&dir.join(WEIGHTS_FILE), device)?;
        Ok(Self {
            net: info.generator.init::<B>(device).load_record(record),
            info,
            device: device.clone(),
        })
    }

    /// Loads and checks the weights have `expected`'s architecture (naming the differing field).
    pub fn load_expecting(
        dir: &Path,
        expected: &GeneratorConfig,
        device: &B::Device,
    ) -> Result<Self> {
        let resolved = resolve_model_dir(dir)?;
        let info: InpainterInfo = checkpoint::read_json(&resolved.join(INFO_FILE))?;
        checkpoint::ensure_same_config(&info.generator, expected, &resolved.join(INFO_FILE))?;
        Self::load(&resolved, device)
    }

    /// The latest training checkpoint of a `train-inpaint` folder.
    pub fn from_checkpoint(train_dir: &Path, device: &B::Device) -> Result<Self> {
        let dir = checkpoint::existing_dir(&train_dir.join(crate::training::CHECKPOINT_DIR))
            .with_context(|| format!("no training checkpoint in {}", train_dir.display()))?;
        let state: crate::training::TrainState = checkpoint::read_json(&dir.join("state.json"))?;
        let record = checkpoint::load_record::<B, _>(&dir.join("generator.mpk"), device)?;
        let generator = state.config.generator;
        Ok(Self {
            net: generator.init::<B>(device).load_record(record),
            info: InpainterInfo {
                generator,
                val_hole_l1: f64::NAN,
                step: state.step,
            },
            device: device.clone(),
        })
    }

    pub fn info(&self) -> &InpainterInfo {
        &self.info
    }

    pub fn net(&self) -> &InpaintNet<B> {
        &self.net
    }

    /// Fills the hole (`mask` > 127, grown by the generator's `hole_dilation`) of `image`;
    /// both at any size, the same size.
    pub fn inpaint(&self, image: &RgbImage, mask: &GrayImage) -> Result<(RgbImage, InpaintReport)> {
        if image.dimensions() != mask.dimensions() {
            bail!(
                "the mask is {}x{} but the image is {}x{}",
                mask.width(),
                mask.height(),
                image.width(),
                image.height()
            );
        }
        let mask = crate::hole::grow_mask_by_share(mask, self.info.generator.hole_dilation);
        let inside = mask.pixels().filter(|p| p.0[0] > 127).count();
        let total = (image.width() * image.height()) as usize;
        let hole_fraction = inside as f64 / total.max(1) as f64;
        if inside == 0 {
            return Ok((
                image.clone(),
                InpaintReport {
                    hole_fraction,
                    warning: Some("the mask has no hole: image returned unchanged".into()),
                    filled_hole: mask,
                },
            ));
        }
        let warning = (inside == total).then(|| {
            let msg =
                "the mask covers the whole image: the output is invented from nothing".to_string();
            tracing::warn!("{msg}");
            msg
        });
        let size = self.info.generator.image_size as u32;
        let small = images::resized_rgb(image.clone(), size);
        let small_mask = images::resized_mask(mask.clone(), size);
        let x = images::batch_tensor::<B>(
            images::rgb_planes(&small, false),
            1,
            3,
            size as usize,
            &self.device,
        );
        let h = images::batch_tensor::<B>(
            images::mask_plane(&small_mask, false),
            1,
            1,
            size as usize,
            &self.device,
        );
        // The fill at the network's size (colour-matched there), resized back; only its hole
        // is pasted, at full resolution.
        let generated = images::tensor_to_rgb(&self.net.fill(x, h), 0);
        let generated = if generated.dimensions() == image.dimensions() {
            generated
        } else {
            image::imageops::resize(
                &generated,
                image.width(),
                image.height(),
                FilterType::Triangle,
            )
        };
        let mut out = image.clone();
        for ((o, g), m) in out.pixels_mut().zip(generated.pixels()).zip(mask.pixels()) {
            if m.0[0] > 127 {
                *o = *g;
            }
        }
        Ok((
            out,
            InpaintReport {
                hole_fraction,
                warning,
                filled_hole: mask,
            },
        ))
    }
}

/// The folder holding `inpainter.json`: `dir` itself or `dir/best`.
pub fn resolve_model_dir(dir: &Path) -> Result<PathBuf> {
    unmask_train::models::resolve_model_dir(dir, INFO_FILE, "inpainting GAN")
}

/// The most recently trained inpainting GAN under a runs folder (`RUNS/PIPELINE/STAGE/best/`).
pub fn latest_model(runs: &Path) -> Result<PathBuf> {
    unmask_train::models::latest_model(runs, INFO_FILE, "inpainting GAN")
}
