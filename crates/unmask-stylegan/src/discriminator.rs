//! StyleGAN2's residual discriminator: fromRGB at full resolution, residual blocks that halve
//! the resolution down to 4x4, then the minibatch standard deviation, a 3x3 conv and two fully
//! connected layers to one logit per image.

use crate::layers::{EqualConv, EqualLinear};
use crate::model::{channels_at, resolution_log2};
use anyhow::{ensure, Result};
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use unmask_kernels::{avg_pool2d, KernelBackend};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscriminatorConfig {
    pub channel_base: usize,
    pub channel_max: usize,
    /// Samples per minibatch-standard-deviation group (StyleGAN2: 4).
    pub mbstd_group: usize,
}

impl Default for DiscriminatorConfig {
    fn default() -> Self {
        Self {
            channel_base: 16384,
            channel_max: 512,
            mbstd_group: 4,
        }
    }
}

impl DiscriminatorConfig {
    pub fn validate(&self, image_size: usize) -> Result<()> {
        resolution_log2(image_size, "generator.image_size")?;
        ensure!(
            self.channel_base >= image_size && self.channel_max >= 1,
            "discriminator.channel_base must be at least the image size ({image_size}) and channel_max at least 1"
        );
        ensure!(
            self.mbstd_group >= 1,
            "discriminator.mbstd_group must be at least 1"
        );
        Ok(())
    }

    pub fn init<B: KernelBackend>(
        &self,
        image_size: usize,
        device: &B::Device,
    ) -> Discriminator<B> {
        let ch = |res| channels_at(self.channel_base, self.channel_max, res);
        let mut blocks = Vec::new();
        let mut res = image_size;
        while res > 4 {
            let (cin, cout) = (ch(res), ch(res / 2));
            blocks.push(DiscriminatorBlock {
                conv0: EqualConv::new(cin, cin, 3, true, true, device),
                conv1: EqualConv::new(cin, cout, 3, true, true, device),
                skip: EqualConv::new(cin, cout, 1, false, false, device),
            });
            res /= 2;
        }
        let c4 = ch(4);
        Discriminator {
            from_rgb: EqualConv::new(3, ch(image_size), 1, true, true, device),
            blocks,
            epilogue_conv: EqualConv::new(c4 + 1, c4, 3, true, true, device),
            fc: EqualLinear::new(c4 * 16, c4, 0.0, 1.0, true, device),
            out: EqualLinear::new(c4, 1, 0.0, 1.0, false, device),
            mbstd_group: self.mbstd_group,
        }
    }
}

/// conv 3x3, then 2x average pooling and conv 3x3, beside a pooled 1x1 skip; the sum scaled by
/// `1 / sqrt(2)`.
#[derive(Module, Debug)]
pub struct DiscriminatorBlock<B: Backend> {
    pub conv0: EqualConv<B>,
    pub conv1: EqualConv<B>,
    pub skip: EqualConv<B>,
}

fn halve<B: KernelBackend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    avg_pool2d(x, [2, 2], [2, 2], [0, 0], true)
}

impl<B: KernelBackend> DiscriminatorBlock<B> {
    /// `[N, C, H, W]` to `[N, C', H/2, W/2]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let skip = self.skip.forward(halve(x.clone()));
        let y = self.conv1.forward(halve(self.conv0.forward(x)));
        (y + skip).mul_scalar(std::f64::consts::FRAC_1_SQRT_2)
    }
}

#[derive(Module, Debug)]
pub struct Discriminator<B: Backend> {
    pub from_rgb: EqualConv<B>,
    pub blocks: Vec<DiscriminatorBlock<B>>,
    pub epilogue_conv: EqualConv<B>,
    pub fc: EqualLinear<B>,
    pub out: EqualLinear<B>,
    #[module(skip)]
    mbstd_group: usize,
}

/// The largest group size up to `group` that divides `n`.
fn group_size(n: usize, group: usize) -> usize {
    (1..=group.min(n)).rev().find(|g| n % g == 0).unwrap_or(1)
}

/// The minibatch standard deviation: `x [N, C, H, W]` with one more channel holding, for each
/// sample, the standard deviation over its group (samples `m, m + N/G, ...`) averaged over
/// channels and pixels: `[N, C + 1, H, W]`.
pub fn minibatch_stddev<B: Backend>(x: Tensor<B, 4>, group: usize) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let g = group_size(n, group);
    let m = n / g;
    let grouped = x.clone().reshape([g, m * c * h * w]);
    let centred = grouped.clone() - grouped.mean_dim(0);
    let std = centred
        .square()
        .mean_dim(0)
        .add_scalar(1e-8)
        .sqrt()
        .reshape([m, c * h * w])
        .mean_dim(1)
        .reshape([1, m]);
    let stat = std.repeat_dim(0, g).reshape([n, 1]).repeat_dim(1, h * w);
    Tensor::cat(vec![x, stat.reshape([n, 1, h, w])], 1)
}

impl<B: KernelBackend> Discriminator<B> {
    /// Images `[N, 3, S, S]` (in [-1, 1]) to logits `[N, 1]`.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self
            .blocks
            .iter()
            .fold(self.from_rgb.forward(images), |x, b| b.forward(x));
        let x = self
            .epilogue_conv
            .forward(minibatch_stddev(x, self.mbstd_group));
        let [n, c, h, w] = x.dims();
        self.out.forward(self.fc.forward(x.reshape([n, c * h * w])))
    }
}
