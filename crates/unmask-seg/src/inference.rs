//! Using a trained segmenter: load it from a training folder and find the mask in images of
//! any size.

use crate::model::{UNet, UNetConfig};
use anyhow::Result;
use burn::tensor::backend::Backend;
use image::imageops::FilterType;
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_kernels::KernelBackend;
use unmask_train::images;
use unmask_train::models::{self, ModelInfo};

pub const WEIGHTS_FILE: &str = "segmenter.mpk";
pub const INFO_FILE: &str = "segmenter.json";
/// The UNet's weights in a training checkpoint.
pub const CHECKPOINT_MODEL: &str = "model.mpk";
pub const CHECKPOINT_OPTIMIZER: &str = "optimizer.mpk";

/// What inference needs besides the weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SegmenterInfo {
    pub model: UNetConfig,
    pub threshold: f32,
    /// Validation Dice of these weights.
    pub val_dice: f64,
    pub step: u64,
}

impl ModelInfo for SegmenterInfo {
    type Arch = UNetConfig;
    const INFO_FILE: &'static str = INFO_FILE;
    const WEIGHTS_FILE: &'static str = WEIGHTS_FILE;
    const WHAT: &'static str = "segmenter";

    fn arch(&self) -> &UNetConfig {
        &self.model
    }

    fn check(&self) -> Result<()> {
        self.model.validate()
    }
}

/// The fields of a training checkpoint's configuration that inference needs.
#[derive(Deserialize)]
struct CheckpointConfig {
    model: UNetConfig,
    threshold: f32,
}

pub struct Segmenter<B: Backend> {
    model: UNet<B>,
    info: SegmenterInfo,
    device: B::Device,
}

impl<B: KernelBackend> Segmenter<B> {
    /// Loads the segmenter of a `train-seg` folder (its `best/`) or of a `best/` folder itself.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self> {
        Self::read(dir, None, device)
    }

    /// Loads and checks the weights were trained with `expected`'s architecture; the error names
    /// the first differing field.
    pub fn load_expecting(dir: &Path, expected: &UNetConfig, device: &B::Device) -> Result<Self> {
        Self::read(dir, Some(expected), device)
    }

    fn read(dir: &Path, expected: Option<&UNetConfig>, device: &B::Device) -> Result<Self> {
        let (model, info) =
            models::load_model::<B, SegmenterInfo, _>(dir, expected, |a| a.init(device), device)?;
        Ok(Self {
            model,
            info,
            device: device.clone(),
        })
    }

    /// The latest training checkpoint of a `train-seg` folder (not necessarily the best).
    pub fn from_checkpoint(train_dir: &Path, device: &B::Device) -> Result<Self> {
        let (model, state) = models::load_from_checkpoint::<B, CheckpointConfig, _>(
            train_dir,
            CHECKPOINT_MODEL,
            |c| c.model.init(device),
            device,
        )?;
        let info = SegmenterInfo {
            model: state.config.model,
            threshold: state.config.threshold,
            val_dice: f64::NAN,
            step: state.step,
        };
        Ok(Self {
            model,
            info,
            device: device.clone(),
        })
    }

    pub fn info(&self) -> &SegmenterInfo {
        &self.info
    }

    pub fn model(&self) -> &UNet<B> {
        &self.model
    }

    /// Mask probability (0..255) at the model's size for each image, resized in.
    pub fn probability_maps(&self, imgs: &[RgbImage]) -> Vec<GrayImage> {
        let size = self.info.model.image_size as u32;
        let mut planes = Vec::new();
        for img in imgs {
            let small = images::resized_rgb(img.clone(), size);
            planes.extend(images::rgb_planes(&small, false));
        }
        let batch = images::batch_tensor::<B>(planes, imgs.len(), 3, size as usize, &self.device);
        let probs = self.model.probabilities(batch);
        (0..imgs.len())
            .map(|i| images::tensor_to_gray(&probs, i))
            .collect()
    }

    /// Mask probability (0..255) at each image's own size.
    pub fn probabilities_at_size(&self, imgs: &[RgbImage]) -> Vec<GrayImage> {
        self.probability_maps(imgs)
            .into_iter()
            .zip(imgs)
            .map(|(prob, img)| {
                if prob.dimensions() == img.dimensions() {
                    prob
                } else {
                    image::imageops::resize(&prob, img.width(), img.height(), FilterType::Triangle)
                }
            })
            .collect()
    }

    /// Mask probability (0..255) at each image's own size, the mean of the image's and its
    /// mirror image's (mirrored back). Faces and masks are close to symmetric, so where the
    /// two views disagree (real skin and lighting unlike the training faces') the mean is
    /// steadier than either.
    pub fn probabilities_mirrored(&self, imgs: &[RgbImage]) -> Vec<GrayImage> {
        let both: Vec<RgbImage> = imgs
            .iter()
            .cloned()
            .chain(imgs.iter().map(image::imageops::flip_horizontal))
            .collect();
        let mut probs = self.probabilities_at_size(&both);
        let mirrored = probs.split_off(imgs.len());
        probs
            .into_iter()
            .zip(mirrored)
            .map(|(direct, mirrored)| mean_with_mirror(&direct, &mirrored))
            .collect()
    }

    /// The probability threshold as a byte: pixels above it are mask.
    pub fn cut(&self, threshold: Option<f32>) -> u8 {
        (threshold.unwrap_or(self.info.threshold) * 255.0).round() as u8
    }

    /// Binary masks (255 inside) at each image's own size.
    pub fn segment_batch(&self, imgs: &[RgbImage], threshold: Option<f32>) -> Vec<GrayImage> {
        let cut = self.cut(threshold);
        self.probabilities_at_size(imgs)
            .iter()
            .map(|prob| binarize(prob, cut))
            .collect()
    }

    pub fn segment(&self, img: &RgbImage, threshold: Option<f32>) -> GrayImage {
        self.segment_batch(std::slice::from_ref(img), threshold)
            .remove(0)
    }
}

/// The mean of `direct` and `mirrored` flipped back, rounded half up.
fn mean_with_mirror(direct: &GrayImage, mirrored: &GrayImage) -> GrayImage {
    let back = image::imageops::flip_horizontal(mirrored);
    GrayImage::from_fn(direct.width(), direct.height(), |x, y| {
        let sum = direct.get_pixel(x, y).0[0] as u16 + back.get_pixel(x, y).0[0] as u16;
        image::Luma([sum.div_ceil(2) as u8])
    })
}

/// 255 where `prob` is above `cut`, else 0.
pub fn binarize(prob: &GrayImage, cut: u8) -> GrayImage {
    GrayImage::from_fn(prob.width(), prob.height(), |x, y| {
        image::Luma([if prob.get_pixel(x, y).0[0] > cut {
            255
        } else {
            0
        }])
    })
}

/// The folder holding `segmenter.json`: `dir` itself or `dir/best`.
pub fn resolve_model_dir(dir: &Path) -> Result<PathBuf> {
    models::resolve_model_dir(dir, INFO_FILE, SegmenterInfo::WHAT)
}

/// The most recently trained segmenter under a runs folder (`RUNS/PIPELINE/STAGE/best/`).
pub fn latest_model(runs: &Path) -> Result<PathBuf> {
    models::latest_model(runs, INFO_FILE, SegmenterInfo::WHAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_with_the_mirror_rounds_half_up() {
        let direct = GrayImage::from_raw(2, 1, vec![10, 255]).unwrap();
        let mirrored = GrayImage::from_raw(2, 1, vec![0, 3]).unwrap();
        // mirrored flipped back is [3, 0].
        assert_eq!(
            mean_with_mirror(&direct, &mirrored).into_raw(),
            vec![7, 128]
        );
    }
}
