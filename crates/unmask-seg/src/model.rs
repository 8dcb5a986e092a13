//! The UNet (Ronneberger et al. 2015) the report uses to find the mask: an encoder of
//! two-conv blocks with max-pooling, a bottleneck, and a decoder of transposed-conv upsampling
//! with skip connections; one logit per pixel.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::norm::{BatchNormConfig, GroupNormConfig, Normalization, NormalizationConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use unmask_kernels::{conv2d, conv_transpose2d, max_pool2d, KernelBackend};

/// Normalisation after each convolution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    #[default]
    Batch,
    /// Group normalisation with groups of up to 8 channels' worth (see [`group_count`]).
    Group,
    None,
}

/// The architecture. Defaults follow the report: 256x256 RGB in, a 4-level UNet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UNetConfig {
    /// Number of 2x downsamplings; the input size must be divisible by 2^depth.
    pub depth: usize,
    /// Channels of the first level; each level below doubles them.
    pub base_channels: usize,
    pub norm: Norm,
    /// Side of the square input the model is trained at.
    pub image_size: usize,
}

impl Default for UNetConfig {
    fn default() -> Self {
        Self {
            depth: 4,
            base_channels: 32,
            norm: Norm::Batch,
            image_size: 256,
        }
    }
}

impl UNetConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.depth >= 1 && self.depth <= 7,
            "model.depth must be 1..=7, got {}",
            self.depth
        );
        anyhow::ensure!(
            self.base_channels >= 1,
            "model.base_channels must be at least 1"
        );
        let step = 1usize << self.depth;
        anyhow::ensure!(
            self.image_size >= step && self.image_size % step == 0,
            "model.image_size {} must be a multiple of 2^depth = {step}",
            self.image_size
        );
        Ok(())
    }

    fn channels(&self, level: usize) -> usize {
        self.base_channels << level
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> UNet<B> {
        let down = (0..=self.depth)
            .map(|l| {
                let inp = if l == 0 { 3 } else { self.channels(l - 1) };
                DoubleConv::new(inp, self.channels(l), self.norm, device)
            })
            .collect();
        let up = (0..self.depth)
            .rev()
            .map(|l| UpBlock {
                up: ConvTranspose2dConfig::new([self.channels(l + 1), self.channels(l)], [2, 2])
                    .with_stride([2, 2])
                    .init(device),
                conv: DoubleConv::new(2 * self.channels(l), self.channels(l), self.norm, device),
            })
            .collect();
        UNet {
            down,
            up,
            head: Conv2dConfig::new([self.base_channels, 1], [1, 1]).init(device),
        }
    }
}

/// Groups for group normalisation: the largest of 8, 4, 2, 1 that divides `channels`.
pub fn group_count(channels: usize) -> usize {
    [8, 4, 2, 1]
        .into_iter()
        .find(|g| channels % g == 0)
        .unwrap_or(1)
}

fn norm_layer<B: Backend>(
    norm: Norm,
    channels: usize,
    device: &B::Device,
) -> Option<Normalization<B>> {
    let config: NormalizationConfig = match norm {
        Norm::Batch => BatchNormConfig::new(channels).into(),
        Norm::Group => GroupNormConfig::new(group_count(channels), channels).into(),
        Norm::None => return None,
    };
    Some(config.init(device))
}

fn normalise<B: Backend>(norm: &Normalization<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match norm {
        // Same arithmetic as burn's BatchNorm, on burn-flex's fast path.
        Normalization::Batch(bn) => unmask_train::ops::batch_norm(bn, x),
        other => other.forward(x),
    }
}

#[derive(Module, Debug)]
pub struct ConvNorm<B: Backend> {
    conv: Conv2d<B>,
    norm: Option<Normalization<B>>,
}

impl<B: Backend> ConvNorm<B> {
    fn new(inp: usize, out: usize, norm: Norm, device: &B::Device) -> Self {
        Self {
            conv: Conv2dConfig::new([inp, out], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                // A following normalisation removes any bias anyway.
                .with_bias(norm == Norm::None)
                .init(device),
            norm: norm_layer(norm, out, device),
        }
    }
}

impl<B: KernelBackend> ConvNorm<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = conv2d(&self.conv, x);
        relu(match &self.norm {
            Some(n) => normalise(n, x),
            None => x,
        })
    }
}

#[derive(Module, Debug)]
pub struct DoubleConv<B: Backend> {
    first: ConvNorm<B>,
    second: ConvNorm<B>,
}

impl<B: Backend> DoubleConv<B> {
    fn new(inp: usize, out: usize, norm: Norm, device: &B::Device) -> Self {
        Self {
            first: ConvNorm::new(inp, out, norm, device),
            second: ConvNorm::new(out, out, norm, device),
        }
    }
}

impl<B: KernelBackend> DoubleConv<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.second.forward(self.first.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct UpBlock<B: Backend> {
    up: ConvTranspose2d<B>,
    conv: DoubleConv<B>,
}

#[derive(Module, Debug)]
pub struct UNet<B: Backend> {
    /// Encoder levels 0..depth, then the bottleneck.
    down: Vec<DoubleConv<B>>,
    /// Decoder levels from depth-1 back to 0.
    up: Vec<UpBlock<B>>,
    head: Conv2d<B>,
}

impl<B: KernelBackend> UNet<B> {
    /// `images` `[N, 3, S, S]` in `[0, 1]` to mask logits `[N, 1, S, S]`.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut x = images.mul_scalar(2.0).sub_scalar(1.0);
        let mut skips = Vec::with_capacity(self.up.len());
        let last = self.down.len() - 1;
        for (level, block) in self.down.iter().enumerate() {
            x = block.forward(x);
            if level < last {
                skips.push(x.clone());
                x = max_pool2d(x, [2, 2], [2, 2]);
            }
        }
        for block in &self.up {
            let skip = skips.pop().expect("one skip per decoder level");
            x = conv_transpose2d(&block.up, x);
            x = block.conv.forward(Tensor::cat(vec![skip, x], 1));
        }
        conv2d(&self.head, x)
    }

    /// Mask probabilities `[N, 1, S, S]`.
    pub fn probabilities(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        burn::tensor::activation::sigmoid(self.forward(images))
    }
}
