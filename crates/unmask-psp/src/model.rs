//! The pSp encoder (Richardson et al. 2021): a residual backbone whose last three scales form
//! a feature pyramid, and one map2style head per generator layer turning the pyramid's
//! levels into the W+ code around the generator's mean latent, and the encoder with the
//! StyleGAN2 generator it drives ([`Psp`]).

use anyhow::{ensure, Result};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::activation::leaky_relu;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use unmask_kernels::{conv2d, upsample_nearest2x, KernelBackend};
use unmask_stylegan::layers::EqualLinear;
use unmask_stylegan::Generator;

const SLOPE: f64 = 0.2;

/// The encoder's shape. The backbone has four stages, each halving the map: at 256 px they
/// run at 128, 64, 32 and 16 px; the pyramid takes the last three (pSp's c1, c2, c3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncoderConfig {
    /// Each stage's channels (pSp's IR-SE50: 64, 128, 256, 512).
    pub stage_widths: [usize; 4],
    /// Residual blocks per stage (IR-SE50: 3, 4, 14, 3).
    pub stage_blocks: [usize; 4],
    /// Styles taken from the coarsest level (pSp: 3) and, after those, from the middle level
    /// (pSp: 4); the rest come from the finest level.
    pub coarse_styles: usize,
    pub middle_styles: usize,
}

impl Default for EncoderConfig {
    /// pSp's GradualStyleEncoder at 256 px, with plain residual blocks for the IR-SE ones
    /// (no registry ships its face-recognition initialisation, so it trains from scratch).
    fn default() -> Self {
        Self {
            stage_widths: [64, 128, 256, 512],
            stage_blocks: [3, 4, 14, 3],
            coarse_styles: 3,
            middle_styles: 4,
        }
    }
}

impl EncoderConfig {
    /// Checks the shape against the generator's `image_size`.
    pub fn validate(&self, image_size: usize) -> Result<()> {
        ensure!(
            image_size.is_power_of_two() && image_size >= 32,
            "psp: the image side must be a power of two of at least 32 (four halvings and a 2x2 head), got {image_size}"
        );
        ensure!(
            self.stage_widths.iter().all(|&w| w >= 1) && self.stage_blocks.iter().all(|&b| b >= 1),
            "encoder.stage_widths and stage_blocks must all be at least 1"
        );
        Ok(())
    }

    /// The encoder for a generator whose W+ has `num_ws` vectors of `w_dim`.
    pub fn init<B: KernelBackend>(
        &self,
        num_ws: usize,
        w_dim: usize,
        image_size: usize,
        device: &B::Device,
    ) -> Encoder<B> {
        let stem = conv(3, self.stage_widths[0], 3, 1, device);
        let mut stages = Vec::new();
        let mut cin = self.stage_widths[0];
        for (&width, &blocks) in self.stage_widths.iter().zip(&self.stage_blocks) {
            let mut stage = vec![ResidualBlock::new(cin, width, 2, device)];
            stage.extend((1..blocks).map(|_| ResidualBlock::new(width, width, 1, device)));
            stages.push(Stage { blocks: stage });
            cin = width;
        }
        let top = self.stage_widths[3];
        let coarse = self.coarse_styles.min(num_ws);
        let middle = (coarse + self.middle_styles).min(num_ws);
        // The coarse, middle and fine levels are the maps at 1/16, 1/8 and 1/4 of the side.
        let heads = (0..num_ws)
            .map(|i| {
                let spatial = if i < coarse {
                    image_size / 16
                } else if i < middle {
                    image_size / 8
                } else {
                    image_size / 4
                };
                StyleHead::new(top, w_dim, spatial, device)
            })
            .collect();
        Encoder {
            stem,
            stages,
            lateral_middle: conv(self.stage_widths[2], top, 1, 1, device),
            lateral_fine: conv(self.stage_widths[1], top, 1, 1, device),
            heads,
            coarse,
            middle,
        }
    }
}

fn conv<B: Backend>(
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    device: &B::Device,
) -> Conv2d<B> {
    Conv2dConfig::new([cin, cout], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            kernel / 2,
            kernel / 2,
            kernel / 2,
            kernel / 2,
        ))
        .init(device)
}

/// `x + F(x)`, with `F` two 3x3 convolutions (the first with the block's stride) and the
/// shortcut a strided 1x1 convolution where the shape changes (pSp's IR block without the
/// batch norms, which small batches make noisy).
#[derive(Module, Debug)]
pub struct ResidualBlock<B: Backend> {
    pub conv1: Conv2d<B>,
    pub conv2: Conv2d<B>,
    pub shortcut: Option<Conv2d<B>>,
}

impl<B: KernelBackend> ResidualBlock<B> {
    fn new(cin: usize, cout: usize, stride: usize, device: &B::Device) -> Self {
        Self {
            conv1: conv(cin, cout, 3, stride, device),
            conv2: conv(cout, cout, 3, 1, device),
            shortcut: (cin != cout || stride != 1).then(|| conv(cin, cout, 1, stride, device)),
        }
    }

    /// `[N, C_in, H, W]` to `[N, C_out, H / stride, W / stride]`.
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let skip = match &self.shortcut {
            Some(s) => conv2d(s, x.clone()),
            None => x.clone(),
        };
        let y = leaky_relu(conv2d(&self.conv1, x), SLOPE);
        skip + conv2d(&self.conv2, y)
    }
}

#[derive(Module, Debug)]
pub struct Stage<B: Backend> {
    pub blocks: Vec<ResidualBlock<B>>,
}

/// pSp's map2style block: strided 3x3 convolutions from a `spatial x spatial` map down to 1x1,
/// then a fully connected layer to one style vector.
#[derive(Module, Debug)]
pub struct StyleHead<B: Backend> {
    pub convs: Vec<Conv2d<B>>,
    pub linear: EqualLinear<B>,
}

impl<B: KernelBackend> StyleHead<B> {
    fn new(cin: usize, w_dim: usize, spatial: usize, device: &B::Device) -> Self {
        let halvings = spatial.trailing_zeros() as usize;
        let convs = (0..halvings)
            .map(|i| conv(if i == 0 { cin } else { w_dim }, w_dim, 3, 2, device))
            .collect();
        Self {
            convs,
            linear: EqualLinear::new(w_dim, w_dim, 0.0, 1.0, false, device),
        }
    }

    /// `[N, C, s, s]` to `[N, w_dim]`.
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let y = self
            .convs
            .iter()
            .fold(x, |y, c| leaky_relu(conv2d(c, y), SLOPE));
        let [n, c, _, _] = y.dims();
        self.linear.forward(y.reshape([n, c]))
    }
}

#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    pub stem: Conv2d<B>,
    pub stages: Vec<Stage<B>>,
    /// 1x1 projections of the 1/8 and 1/4 maps to the top stage's width, added to the
    /// upsampled coarser level (the feature pyramid).
    pub lateral_middle: Conv2d<B>,
    pub lateral_fine: Conv2d<B>,
    /// One head per W+ vector.
    pub heads: Vec<StyleHead<B>>,
    #[module(skip)]
    coarse: usize,
    #[module(skip)]
    middle: usize,
}

impl<B: KernelBackend> Encoder<B> {
    /// Images `[N, 3, S, S]` in [-1, 1] to the offsets `[N, num_ws, w_dim]` from the mean latent.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 3> {
        let mut y = leaky_relu(conv2d(&self.stem, x), SLOPE);
        let mut maps = Vec::with_capacity(4);
        for stage in &self.stages {
            y = stage.blocks.iter().fold(y, |y, b| b.forward(y));
            maps.push(y.clone());
        }
        let coarse = maps[3].clone();
        let middle =
            upsample_nearest2x(coarse.clone()) + conv2d(&self.lateral_middle, maps[2].clone());
        let fine = upsample_nearest2x(middle.clone()) + conv2d(&self.lateral_fine, maps[1].clone());
        let styles: Vec<Tensor<B, 2>> = self
            .heads
            .iter()
            .enumerate()
            .map(|(i, head)| {
                let level = if i < self.coarse {
                    &coarse
                } else if i < self.middle {
                    &middle
                } else {
                    &fine
                };
                head.forward(level.clone())
            })
            .collect();
        Tensor::stack(styles, 1)
    }
}

/// The encoder and the generator it drives, trained together (pSp's fine-tuning).
#[derive(Module, Debug)]
pub struct Psp<B: Backend> {
    pub encoder: Encoder<B>,
    pub generator: Generator<B>,
}

impl<B: KernelBackend> Psp<B> {
    /// W+ codes `[N, num_ws, w_dim]` of images `[N, 3, S, S]` in [-1, 1]: the generator's
    /// mean latent plus the encoder's offsets (pSp's `start_from_latent_avg`).
    pub fn encode(&self, x: Tensor<B, 4>) -> Tensor<B, 3> {
        let offsets = self.encoder.forward(x);
        let [n, k, d] = offsets.dims();
        let avg = self
            .generator
            .w_avg
            .value()
            .to_device(&offsets.device())
            .reshape([1, 1, d]);
        offsets + avg.repeat_dim(0, n).repeat_dim(1, k)
    }

    /// Images `[N, 3, S, S]` in [-1, 1] to the generator's reconstruction, same shape, with
    /// the given per-layer noise (see [`crate::data::fixed_noise`]).
    pub fn forward(&self, x: Tensor<B, 4>, noise: &[Tensor<B, 4>]) -> Tensor<B, 4> {
        let ws = self.encode(x);
        self.generator.synthesis(ws, noise)
    }
}
