//! StyleGAN2's building blocks (Karras et al. 2020, "Analyzing and Improving the Image Quality
//! of StyleGAN"): layers with an equalised learning rate (weights drawn from N(0, 1) and
//! scaled by He's constant at run time), the modulated and demodulated convolution, the
//! per-pixel noise input and the fixed blur that follows each upsampling.

use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::activation::leaky_relu;
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use unmask_kernels::{conv2d_with, upsample_nearest2x, KernelBackend};

/// StyleGAN2's activation: leaky ReLU (slope 0.2) scaled by sqrt(2) to keep the variance.
pub fn lrelu_gain<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    leaky_relu(x, 0.2).mul_scalar(std::f64::consts::SQRT_2)
}

/// `x [N, C, H, W]` times a per-sample, per-channel factor `s [N, C]`, on 2-D views (burn-flex
/// runs broadcasts over more than two dimensions on one thread).
pub fn scale_channels<B: Backend>(x: Tensor<B, 4>, s: Tensor<B, 2>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    (x.reshape([n * c, h * w]) * s.reshape([n * c, 1])).reshape([n, c, h, w])
}

/// A fully connected layer with an equalised learning rate: `y = x W^T * gain + b * lr_mul`,
/// `gain = lr_mul / sqrt(in)`. The mapping network trains at `lr_mul = 0.01`.
#[derive(Module, Debug)]
pub struct EqualLinear<B: Backend> {
    /// `[out, in]`, drawn from N(0, 1 / lr_mul).
    pub weight: Param<Tensor<B, 2>>,
    /// `[out]`, stored divided by `lr_mul`.
    pub bias: Param<Tensor<B, 1>>,
    #[module(skip)]
    weight_gain: f64,
    #[module(skip)]
    lr_mul: f64,
    #[module(skip)]
    activate: bool,
}

impl<B: Backend> EqualLinear<B> {
    pub fn new(
        inputs: usize,
        outputs: usize,
        bias_init: f64,
        lr_mul: f64,
        activate: bool,
        device: &B::Device,
    ) -> Self {
        Self {
            weight: Initializer::Normal {
                mean: 0.0,
                std: 1.0 / lr_mul,
            }
            .init([outputs, inputs], device),
            bias: Initializer::Constant {
                value: bias_init / lr_mul,
            }
            .init([outputs], device),
            weight_gain: lr_mul / (inputs as f64).sqrt(),
            lr_mul,
            activate,
        }
    }

    /// `x [N, in]` to `[N, out]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let outputs = self.bias.dims()[0];
        let w = self.weight.val().mul_scalar(self.weight_gain);
        let b = self
            .bias
            .val()
            .mul_scalar(self.lr_mul)
            .reshape([1, outputs]);
        let y = x.matmul(w.transpose()) + b;
        if self.activate {
            lrelu_gain(y)
        } else {
            y
        }
    }
}

/// A convolution with an equalised learning rate (the discriminator's), `same` padding.
#[derive(Module, Debug)]
pub struct EqualConv<B: Backend> {
    /// `[out, in, k, k]`, drawn from N(0, 1).
    pub weight: Param<Tensor<B, 4>>,
    pub bias: Option<Param<Tensor<B, 1>>>,
    #[module(skip)]
    activate: bool,
}

impl<B: KernelBackend> EqualConv<B> {
    pub fn new(
        inputs: usize,
        outputs: usize,
        kernel: usize,
        bias: bool,
        activate: bool,
        device: &B::Device,
    ) -> Self {
        Self {
            weight: Initializer::Normal {
                mean: 0.0,
                std: 1.0,
            }
            .init([outputs, inputs, kernel, kernel], device),
            bias: bias.then(|| Initializer::Zeros.init([outputs], device)),
            activate,
        }
    }

    /// `x [N, in, H, W]` to `[N, out, H, W]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [_, inputs, k, _] = self.weight.dims();
        let gain = 1.0 / ((inputs * k * k) as f64).sqrt();
        let options = ConvOptions::new([1, 1], [k / 2, k / 2], [1, 1], 1);
        let y = conv2d_with(
            x,
            self.weight.val().mul_scalar(gain),
            self.bias.as_ref().map(|b| b.val()),
            options,
        );
        if self.activate {
            lrelu_gain(y)
        } else {
            y
        }
    }
}

/// The binomial low-pass `[1, 2, 1] x [1, 2, 1] / 16` on every channel of `x [N, C, H, W]`.
///
/// StyleGAN2 filters its 2x resampling with `[1, 3, 3, 1]`; an even filter needs asymmetric
/// padding, which our kernels do not take, so the odd binomial filter follows a nearest
/// upsampling instead: the same purpose (no checkerboard from the repeated pixels).
pub fn blur<B: KernelBackend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [_, c, _, _] = x.dims();
    const TAPS: [f32; 3] = [1.0, 2.0, 1.0];
    let kernel: Vec<f32> = (0..c)
        .flat_map(|_| {
            TAPS.iter()
                .flat_map(|a| TAPS.iter().map(move |b| a * b / 16.0))
        })
        .collect();
    let weight = Tensor::from_data(TensorData::new(kernel, [c, 1, 3, 3]), &x.device());
    conv2d_with(x, weight, None, ConvOptions::new([1, 1], [1, 1], [1, 1], c))
}

/// Nearest 2x upsampling followed by [`blur`]: `[N, C, H, W]` to `[N, C, 2H, 2W]`.
pub fn upsample<B: KernelBackend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    blur(upsample_nearest2x(x))
}

/// The modulated convolution: each sample's style `s = affine(w)` scales the weights' input
/// channels, and demodulation rescales each output channel to unit expected variance,
/// `w'_oik = s_i w_oik / sqrt(sum_ik (s_i w_oik)^2 + 1e-8)`.
///
/// Computed as StyleGAN2's non-fused form: the input is scaled by `s`, convolved with the shared
/// weights, and each output channel multiplied by its demodulation coefficient, which equals
/// convolving with the per-sample weights `w'` and runs as one ordinary convolution.
#[derive(Module, Debug)]
pub struct ModulatedConv<B: Backend> {
    /// `w [N, w_dim]` to the style `s [N, in]` (bias 1: styles start at identity).
    pub affine: EqualLinear<B>,
    /// `[out, in, k, k]`, drawn from N(0, 1).
    pub weight: Param<Tensor<B, 4>>,
    /// `[out]`.
    pub bias: Param<Tensor<B, 1>>,
    /// The noise input's learned strength `[1]` (starts at 0); none on toRGB layers.
    pub noise_strength: Option<Param<Tensor<B, 1>>>,
    #[module(skip)]
    demodulate: bool,
    #[module(skip)]
    upsample: bool,
    #[module(skip)]
    activate: bool,
}

/// What kind of [`ModulatedConv`] a layer is.
#[derive(Clone, Copy, Debug)]
pub struct ModulatedKind {
    pub kernel: usize,
    pub demodulate: bool,
    pub upsample: bool,
    /// Adds per-pixel noise and applies the activation (every layer but toRGB).
    pub feature: bool,
}

impl ModulatedKind {
    /// A 3x3 feature layer, optionally upsampling first.
    pub fn feature(upsample: bool) -> Self {
        Self {
            kernel: 3,
            demodulate: true,
            upsample,
            feature: true,
        }
    }
    /// A toRGB layer: 1x1, modulated but not demodulated, no noise, no activation.
    pub fn to_rgb() -> Self {
        Self {
            kernel: 1,
            demodulate: false,
            upsample: false,
            feature: false,
        }
    }
}

impl<B: KernelBackend> ModulatedConv<B> {
    pub fn new(
        inputs: usize,
        outputs: usize,
        w_dim: usize,
        kind: ModulatedKind,
        device: &B::Device,
    ) -> Self {
        let k = kind.kernel;
        Self {
            affine: EqualLinear::new(w_dim, inputs, 1.0, 1.0, false, device),
            weight: Initializer::Normal {
                mean: 0.0,
                std: 1.0,
            }
            .init([outputs, inputs, k, k], device),
            bias: Initializer::Zeros.init([outputs], device),
            noise_strength: kind.feature.then(|| Initializer::Zeros.init([1], device)),
            demodulate: kind.demodulate,
            upsample: kind.upsample,
            activate: kind.feature,
        }
    }

    /// The style of each sample `[N, in]`, and the weights with their fan-in gain.
    fn style_and_weight(&self, w: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 4>) {
        let [_, inputs, k, _] = self.weight.dims();
        let gain = 1.0 / ((inputs * k * k) as f64).sqrt();
        (self.affine.forward(w), self.weight.val().mul_scalar(gain))
    }

    /// The demodulation coefficients `[N, out]`: `1 / sqrt(sum_ik (s_i w_oik)^2 + 1e-8)`.
    pub fn demodulation(style: Tensor<B, 2>, weight: Tensor<B, 4>) -> Tensor<B, 2> {
        let [outputs, inputs, _, _] = weight.dims();
        // sum over the kernel of w^2: [out, in]
        let energy = weight
            .square()
            .sum_dim(3)
            .sum_dim(2)
            .reshape([outputs, inputs]);
        style
            .square()
            .matmul(energy.transpose())
            .add_scalar(1e-8)
            .sqrt()
            .recip()
    }

    /// `x [N, in, H, W]`, `w [N, w_dim]` and, on feature layers, `noise [N, 1, H', W']` to
    /// `[N, out, H', W']` (`H' = 2H` when upsampling).
    pub fn forward(
        &self,
        x: Tensor<B, 4>,
        w: Tensor<B, 2>,
        noise: Option<Tensor<B, 4>>,
    ) -> Tensor<B, 4> {
        let (style, weight) = self.style_and_weight(w);
        let [outputs, _, k, _] = weight.dims();
        let mut x = scale_channels(x, style.clone());
        if self.upsample {
            x = upsample(x);
        }
        let options = ConvOptions::new([1, 1], [k / 2, k / 2], [1, 1], 1);
        let mut y = conv2d_with(x, weight.clone(), None, options);
        if self.demodulate {
            y = scale_channels(y, Self::demodulation(style, weight));
        }
        let [n, _, h, w_] = y.dims();
        if let (Some(strength), Some(noise)) = (&self.noise_strength, noise) {
            let scaled = noise.reshape([n, h * w_]) * strength.val().reshape([1, 1]);
            y = y + scaled.reshape([n, 1, h, w_]).repeat_dim(1, outputs);
        }
        let bias = self
            .bias
            .val()
            .reshape([1, outputs])
            .repeat_dim(0, n)
            .reshape([n * outputs, 1]);
        y = (y.reshape([n * outputs, h * w_]) + bias).reshape([n, outputs, h, w_]);
        if self.activate {
            lrelu_gain(y)
        } else {
            y
        }
    }
}
