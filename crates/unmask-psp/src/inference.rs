//! Using a trained pSp: the encoder with its fine-tuned generator saved as `best/`, and masked
//! faces to unmasked ones, raw or pasted into the known pixels.

use crate::data::{fixed_noise, to_signed};
use crate::model::{EncoderConfig, Psp};
use anyhow::Result;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::path::Path;
use unmask_kernels::KernelBackend;
use unmask_stylegan::GeneratorConfig;
use unmask_train::models::{self, ModelInfo};

pub const WEIGHTS_FILE: &str = "psp.mpk";
pub const INFO_FILE: &str = "psp.json";
pub const CHECKPOINT_MODEL: &str = "psp.mpk";
pub const CHECKPOINT_OPTIMIZER: &str = "psp_optimizer.mpk";

/// The architecture: the encoder's and the generator's shapes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PspArch {
    pub encoder: EncoderConfig,
    pub generator: GeneratorConfig,
    /// Seeds the generator's fixed noise.
    pub noise_seed: u64,
}

impl PspArch {
    pub fn init<B: KernelBackend>(&self, device: &B::Device) -> Psp<B> {
        let g = &self.generator;
        Psp {
            encoder: self.encoder.init(g.num_ws(), g.w_dim, g.image_size, device),
            generator: g.init(device),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PspInfo {
    #[serde(flatten)]
    pub arch: PspArch,
    pub step: u64,
    pub val_total: f64,
}

impl ModelInfo for PspInfo {
    type Arch = PspArch;
    const INFO_FILE: &'static str = INFO_FILE;
    const WEIGHTS_FILE: &'static str = WEIGHTS_FILE;
    const WHAT: &'static str = "pSp encoder";

    fn arch(&self) -> &PspArch {
        &self.arch
    }

    fn check(&self) -> Result<()> {
        self.arch.generator.validate()?;
        self.arch.encoder.validate(self.arch.generator.image_size)
    }
}

/// A trained pSp and its description.
pub struct PspModel<B: Backend> {
    pub net: Psp<B>,
    pub info: PspInfo,
}

/// The raw reconstruction and the same pasted into the known pixels, `[N, 3, S, S]` in [0, 1].
pub struct Unmasked<B: Backend> {
    pub raw: Tensor<B, 4>,
    pub composite: Tensor<B, 4>,
}

impl<B: KernelBackend> PspModel<B> {
    /// Loads a `train-psp` folder (its `best/`) or a `best/` folder itself.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self> {
        let (net, info) =
            models::load_model::<B, PspInfo, _>(dir, None, |a| a.init(device), device)?;
        Ok(Self { net, info })
    }

    pub fn image_size(&self) -> usize {
        self.info.arch.generator.image_size
    }

    /// Masked faces and their holes (`[N, 3, S, S]` and `[N, 1, S, S]` in [0, 1]) unmasked.
    pub fn unmask(&self, masked: Tensor<B, 4>, hole: Tensor<B, 4>) -> Unmasked<B> {
        unmask_with(&self.net, &self.info.arch, masked, hole)
    }
}

/// [`PspModel::unmask`] for a network being trained.
pub fn unmask_with<B: KernelBackend>(
    net: &Psp<B>,
    arch: &PspArch,
    masked: Tensor<B, 4>,
    hole: Tensor<B, 4>,
) -> Unmasked<B> {
    let [n, _, _, _] = masked.dims();
    let device = masked.device();
    let noise = fixed_noise(&arch.generator, arch.noise_seed, n, &device);
    let raw = unmask_stylegan::inference::to_unit(net.forward(to_signed(masked.clone()), &noise));
    let hole3 = hole.repeat_dim(1, 3);
    let composite = raw.clone() * hole3.clone() + masked * hole3.neg().add_scalar(1.0);
    Unmasked { raw, composite }
}
