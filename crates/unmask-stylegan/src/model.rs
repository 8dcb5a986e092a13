//! The StyleGAN2 generator: a mapping network from `z` to the intermediate latent `w`, and a
//! synthesis network from a learned constant, with modulated convolutions driven by one `w`
//! per layer (the W+ space pSp encodes into), per-pixel noise inputs and skip toRGB outputs
//! summed across resolutions.

use crate::layers::{upsample, EqualLinear, ModulatedConv, ModulatedKind};
use anyhow::{ensure, Result};
use burn::module::{Module, Param, RunningState};
use burn::nn::Initializer;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use unmask_kernels::KernelBackend;

/// The generator's shape. Channels at resolution `r` are `min(channel_base / r, channel_max)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    /// Output side in pixels, a power of two from 8 (the report: 256).
    pub image_size: usize,
    pub z_dim: usize,
    pub w_dim: usize,
    pub mapping_layers: usize,
    /// The mapping network's learning-rate multiplier (StyleGAN: 0.01).
    pub mapping_lr_mul: f64,
    pub channel_base: usize,
    pub channel_max: usize,
}

impl Default for GeneratorConfig {
    /// StyleGAN2's configuration for 256 px (`paper256`).
    fn default() -> Self {
        Self {
            image_size: 256,
            z_dim: 512,
            w_dim: 512,
            mapping_layers: 8,
            mapping_lr_mul: 0.01,
            channel_base: 16384,
            channel_max: 512,
        }
    }
}

/// The channels at resolution `res`: `min(base / res, max)`, at least 1.
pub fn channels_at(base: usize, max: usize, res: usize) -> usize {
    (base / res).clamp(1, max)
}

/// `log2(size)` of a power-of-two image side of at least 8, or an error naming `field`.
pub fn resolution_log2(size: usize, field: &str) -> Result<u32> {
    ensure!(
        size.is_power_of_two() && (8..=1024).contains(&size),
        "{field} must be a power of two from 8 to 1024, got {size}"
    );
    Ok(size.trailing_zeros())
}

impl GeneratorConfig {
    pub fn validate(&self) -> Result<()> {
        resolution_log2(self.image_size, "generator.image_size")?;
        ensure!(
            self.z_dim >= 1 && self.w_dim >= 1 && self.mapping_layers >= 1,
            "generator.z_dim, w_dim and mapping_layers must be at least 1"
        );
        ensure!(
            self.mapping_lr_mul > 0.0 && self.mapping_lr_mul <= 1.0,
            "generator.mapping_lr_mul must be in (0, 1]"
        );
        ensure!(
            self.channel_base >= self.image_size && self.channel_max >= 1,
            "generator.channel_base must be at least image_size ({}) and channel_max at least 1",
            self.image_size
        );
        Ok(())
    }

    fn channels(&self, res: usize) -> usize {
        channels_at(self.channel_base, self.channel_max, res)
    }

    /// The number of `w` vectors one image takes: 2 at 4x4, then 2 per doubling
    /// (`2 log2(size) - 2`, 14 at 256 px).
    pub fn num_ws(&self) -> usize {
        2 * self.image_size.trailing_zeros() as usize - 2
    }

    /// The side of each noise input, in layer order: 4, then two per block (8, 8, 16, 16, ...).
    pub fn noise_sides(&self) -> Vec<usize> {
        let mut sides = vec![4];
        let mut res = 8;
        while res <= self.image_size {
            sides.extend([res, res]);
            res *= 2;
        }
        sides
    }

    pub fn init<B: KernelBackend>(&self, device: &B::Device) -> Generator<B> {
        let mut mapping = Vec::with_capacity(self.mapping_layers);
        for layer in 0..self.mapping_layers {
            let inputs = if layer == 0 { self.z_dim } else { self.w_dim };
            mapping.push(EqualLinear::new(
                inputs,
                self.w_dim,
                0.0,
                self.mapping_lr_mul,
                true,
                device,
            ));
        }
        let c4 = self.channels(4);
        let mut blocks = Vec::new();
        let mut res = 8;
        while res <= self.image_size {
            let (cin, cout) = (self.channels(res / 2), self.channels(res));
            blocks.push(SynthesisBlock {
                conv0: ModulatedConv::new(
                    cin,
                    cout,
                    self.w_dim,
                    ModulatedKind::feature(true),
                    device,
                ),
                conv1: ModulatedConv::new(
                    cout,
                    cout,
                    self.w_dim,
                    ModulatedKind::feature(false),
                    device,
                ),
                to_rgb: ModulatedConv::new(cout, 3, self.w_dim, ModulatedKind::to_rgb(), device),
            });
            res *= 2;
        }
        Generator {
            mapping,
            constant: Initializer::Normal {
                mean: 0.0,
                std: 1.0,
            }
            .init([1, c4, 4, 4], device),
            first: ModulatedConv::new(c4, c4, self.w_dim, ModulatedKind::feature(false), device),
            first_rgb: ModulatedConv::new(c4, 3, self.w_dim, ModulatedKind::to_rgb(), device),
            blocks,
            w_avg: RunningState::new(Tensor::zeros([self.w_dim], device)),
        }
    }
}

/// One doubling of the synthesis network: an upsampling modulated conv, a modulated conv, and
/// the toRGB output added to the upsampled image so far.
#[derive(Module, Debug)]
pub struct SynthesisBlock<B: Backend> {
    pub conv0: ModulatedConv<B>,
    pub conv1: ModulatedConv<B>,
    pub to_rgb: ModulatedConv<B>,
}

#[derive(Module, Debug)]
pub struct Generator<B: Backend> {
    /// `z` to `w`: pixel norm, then fully connected layers.
    pub mapping: Vec<EqualLinear<B>>,
    /// The learned 4x4 input `[1, C, 4, 4]`.
    pub constant: Param<Tensor<B, 4>>,
    pub first: ModulatedConv<B>,
    pub first_rgb: ModulatedConv<B>,
    pub blocks: Vec<SynthesisBlock<B>>,
    /// The running mean of mapped latents `[w_dim]`: the truncation trick's centre and pSp's
    /// starting point.
    pub w_avg: RunningState<Tensor<B, 1>>,
}

/// `z [N, D]` scaled to unit root-mean-square per row (StyleGAN's pixel norm of the latent).
pub fn normalize_latent<B: Backend>(z: Tensor<B, 2>) -> Tensor<B, 2> {
    let rms = z.clone().square().mean_dim(1).add_scalar(1e-8).sqrt();
    z / rms
}

impl<B: KernelBackend> Generator<B> {
    /// `z [N, z_dim]` to `w [N, w_dim]`.
    pub fn map_latent(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        self.mapping
            .iter()
            .fold(normalize_latent(z), |x, layer| layer.forward(x))
    }

    /// The number of `w` vectors [`synthesis`](Self::synthesis) takes per image.
    pub fn num_ws(&self) -> usize {
        2 + 2 * self.blocks.len()
    }

    pub fn w_dim(&self) -> usize {
        self.w_avg.value().dims()[0]
    }

    /// One `w [N, w_dim]` for every layer: `[N, num_ws, w_dim]`.
    pub fn broadcast(&self, w: Tensor<B, 2>) -> Tensor<B, 3> {
        let [n, d] = w.dims();
        w.reshape([n, 1, d]).repeat_dim(1, self.num_ws())
    }

    /// The truncation trick: `w_avg + psi (w - w_avg)` for `w [N, w_dim]`.
    pub fn truncate(&self, w: Tensor<B, 2>, psi: f64) -> Tensor<B, 2> {
        if psi == 1.0 {
            return w;
        }
        let [n, d] = w.dims();
        let avg = self
            .w_avg
            .value()
            .to_device(&w.device())
            .reshape([1, d])
            .repeat_dim(0, n);
        avg.clone() + (w - avg).mul_scalar(psi)
    }

    /// `ws [N, num_ws, w_dim]` and one noise map `[N, 1, s, s]` per side of
    /// [`GeneratorConfig::noise_sides`] to images `[N, 3, size, size]` (about [-1, 1]).
    pub fn synthesis(&self, ws: Tensor<B, 3>, noise: &[Tensor<B, 4>]) -> Tensor<B, 4> {
        let [n, num_ws, d] = ws.dims();
        assert_eq!(num_ws, self.num_ws(), "ws must hold one w per layer");
        assert_eq!(
            noise.len(),
            1 + 2 * self.blocks.len(),
            "one noise map per layer"
        );
        let w_at = |i: usize| ws.clone().narrow(1, i, 1).reshape([n, d]);
        let [_, c, h, w] = self.constant.dims();
        let input = self.constant.val().reshape([1, c * h * w]).repeat_dim(0, n);
        let mut x =
            self.first
                .forward(input.reshape([n, c, h, w]), w_at(0), Some(noise[0].clone()));
        let mut img = self.first_rgb.forward(x.clone(), w_at(1), None);
        for (b, block) in self.blocks.iter().enumerate() {
            let i = 1 + 2 * b;
            x = block.conv0.forward(x, w_at(i), Some(noise[i].clone()));
            x = block
                .conv1
                .forward(x, w_at(i + 1), Some(noise[i + 1].clone()));
            img = upsample(img) + block.to_rgb.forward(x.clone(), w_at(i + 2), None);
        }
        img
    }

    /// Random faces: `z [N, z_dim]` through the mapping (truncated by `psi`) and the synthesis.
    pub fn generate(&self, z: Tensor<B, 2>, psi: f64, noise: &[Tensor<B, 4>]) -> Tensor<B, 4> {
        let w = self.truncate(self.map_latent(z), psi);
        self.synthesis(self.broadcast(w), noise)
    }
}
