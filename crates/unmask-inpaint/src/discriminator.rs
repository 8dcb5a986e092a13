//! SN-PatchGAN (DeepFill v2): strided 5x5 convolutions with spectral normalisation, seeing the
//! image and the hole; every output position is a patch score for the hinge loss.

use burn::module::{Module, Param, RunningState};
use burn::tensor::activation::leaky_relu;
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};
use serde::{Deserialize, Serialize};
use unmask_kernels::{conv2d_with, KernelBackend};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscriminatorConfig {
    /// Strided convolutions (DeepFill v2 uses 6; fewer suit smaller images).
    pub layers: usize,
    /// Channels of the first layer; later layers double up to 4x.
    pub width: usize,
}

impl Default for DiscriminatorConfig {
    fn default() -> Self {
        Self {
            layers: 4,
            width: 32,
        }
    }
}

impl DiscriminatorConfig {
    pub fn validate(&self, image_size: usize) -> anyhow::Result<()> {
        anyhow::ensure!(self.layers >= 1, "discriminator.layers must be at least 1");
        anyhow::ensure!(
            image_size >> self.layers >= 1,
            "discriminator.layers = {} halves a {image_size} px image below one pixel",
            self.layers
        );
        anyhow::ensure!(self.width >= 1, "discriminator.width must be at least 1");
        Ok(())
    }

    pub fn init<B: KernelBackend>(&self, device: &B::Device) -> Discriminator<B> {
        let mut inputs = 4;
        let layers = (0..self.layers)
            .map(|i| {
                let outputs = self.width << i.min(2);
                let conv = SpectralConv::new(inputs, outputs, 5, device);
                inputs = outputs;
                conv
            })
            .collect();
        Discriminator { layers }
    }
}

/// A 5x5, stride-2 convolution whose weight is divided by its largest singular value, estimated
/// by one power iteration per training step (Miyato et al. 2018).
#[derive(Module, Debug)]
pub struct SpectralConv<B: Backend> {
    weight: Param<Tensor<B, 4>>,
    bias: Param<Tensor<B, 1>>,
    /// The power iteration's left singular vector estimate, carried across steps.
    u: RunningState<Tensor<B, 1>>,
}

impl<B: KernelBackend> SpectralConv<B> {
    fn new(inputs: usize, outputs: usize, k: usize, device: &B::Device) -> Self {
        let fan_in = (inputs * k * k) as f64;
        let bound = (1.0 / fan_in).sqrt();
        let u = Tensor::<B, 1>::random([outputs], Distribution::Normal(0.0, 1.0), device);
        Self {
            weight: Param::from_tensor(Tensor::random(
                [outputs, inputs, k, k],
                Distribution::Uniform(-bound, bound),
                device,
            )),
            bias: Param::from_tensor(Tensor::zeros([outputs], device)),
            u: RunningState::new(normalise(u)),
        }
    }

    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let w = self.weight.val();
        let [o, i, kh, kw] = w.dims();
        let matrix = w.clone().reshape([o, i * kh * kw]);
        let fixed = matrix.clone().detach();
        let u = self.u.value().to_device(&w.device()).reshape([o, 1]);
        let v = normalise(fixed.clone().transpose().matmul(u).reshape([i * kh * kw]))
            .reshape([i * kh * kw, 1]);
        let u = normalise(fixed.matmul(v.clone()).reshape([o])).reshape([o, 1]);
        if B::ad_enabled(&w.device()) {
            self.u.update(u.clone().reshape([o]).detach());
        }
        // sigma = u^T W v, differentiable through W only.
        let sigma = u.transpose().matmul(matrix.matmul(v)).reshape([1, 1, 1, 1]);
        let weight = w / sigma;
        conv2d_with(
            x,
            weight,
            Some(self.bias.val()),
            ConvOptions::new([2, 2], [2, 2], [1, 1], 1),
        )
    }
}

fn normalise<B: Backend>(v: Tensor<B, 1>) -> Tensor<B, 1> {
    let norm = v.clone().square().sum().sqrt().add_scalar(1e-12);
    v / norm
}

#[derive(Module, Debug)]
pub struct Discriminator<B: Backend> {
    layers: Vec<SpectralConv<B>>,
}

impl<B: KernelBackend> Discriminator<B> {
    /// Patch scores `[N, C, h, w]` for images in `[0, 1]` and their holes.
    pub fn forward(&self, image: Tensor<B, 4>, hole: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut x = Tensor::cat(vec![image.mul_scalar(2.0).sub_scalar(1.0), hole], 1);
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if k < last {
                x = leaky_relu(x, 0.2);
            }
        }
        x
    }
}
