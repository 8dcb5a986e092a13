//! VGG16 features (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3) for perceptual losses, with
//! torchvision's ImageNet normalisation for inputs in `[0, 1]`. The weights are the VGG16 of the
//! LPIPS asset (torchvision's ImageNet VGG16 `features`).

use std::path::Path;
use unmask_kernels::KernelBackend;

use burn::tensor::{backend::Backend, Tensor, TensorData};
use unmask_weights::{Asset, WeightStore};

use crate::backbone::{self, Conv};
use crate::error::Result;
use unmask_kernels::WeightFile;

const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Channels of the five outputs.
pub const CHANNELS: [usize; 5] = [64, 128, 256, 512, 512];

/// The VGG16 convolution stack, loaded on a device.
#[derive(Debug, Clone)]
pub struct Vgg16Features<B: Backend> {
    convs: Vec<Conv<B>>,
}

impl<B: KernelBackend> Vgg16Features<B> {
    /// Loads from `vgg16_lpips.safetensors` (tensors `VGG16_0.Conv_{0..12}`).
    pub fn load(path: &Path, device: &B::Device) -> Result<Self> {
        Ok(Self {
            convs: backbone::load_vgg(&WeightFile::open(path)?, device)?,
        })
    }

    /// Loads from the weight store (fetching and converting the weights if needed).
    pub fn from_store(store: &WeightStore, device: &B::Device) -> Result<Self> {
        Self::load(&store.path(Asset::Vgg16Lpips)?, device)
    }

    /// relu1_2 .. relu5_3 of images `[N, 3, H, W]` in `[0, 1]`: `[N, 64, H, W]`,
    /// `[N, 128, H/2, W/2]`, `[N, 256, H/4, W/4]`, `[N, 512, H/8, W/8]`, `[N, 512, H/16, W/16]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Vec<Tensor<B, 4>> {
        self.forward_upto(x, 5)
    }

    /// The first `blocks` (1..=5) of those feature maps, without computing the deeper ones.
    pub fn forward_upto(&self, x: Tensor<B, 4>, blocks: usize) -> Vec<Tensor<B, 4>> {
        let device = x.device();
        let mean = Tensor::<B, 4>::from_data(TensorData::new(MEAN.to_vec(), [1, 3, 1, 1]), &device);
        let std = Tensor::<B, 4>::from_data(TensorData::new(STD.to_vec(), [1, 3, 1, 1]), &device);
        backbone::vgg_features(&self.convs, (x - mean) / std, blocks.clamp(1, 5))
    }
}
