//! The building blocks of the generators: one feature convolution in three flavours (imputed,
//! gated, plain) with its normalisation and activation, and the mask-aware resampling between
//! scales. Masks here are `[N, 1, H, W]` with 1 where a pixel is known (DeepPrivacy's `m`).

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::activation::{leaky_relu, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use unmask_kernels::{avg_pool2d, conv2d, conv2d_with, upsample_nearest2x, KernelBackend};
use unmask_train::ops::{channel_rows, mul_mask};

/// Keeps the imputation's division finite where no known pixel is in reach.
pub const IMPUTE_EPS: f32 = 1e-2;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConvKind {
    /// DeepPrivacy's imputed convolution (the report's choice).
    #[default]
    Imputed,
    /// DeepFill v2's gated convolution (the ablation alternative).
    Gated,
    /// An ordinary convolution, for reference.
    Plain,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Slope 0.2 (the report's choice).
    #[default]
    LeakyRelu,
    Elu,
    Tanh,
}

impl Activation {
    pub fn apply<B: Backend>(self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Self::LeakyRelu => leaky_relu(x, 0.2),
            // elu(x) = x for x > 0, e^x - 1 otherwise
            Self::Elu => {
                let positive = x.clone().clamp_min(0.0);
                let negative = x.clamp_max(0.0).exp().sub_scalar(1.0);
                positive + negative
            }
            Self::Tanh => x.tanh(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormKind {
    /// Per sample over channels and pixels, with a per-channel affine (the report's choice).
    #[default]
    Layer,
    /// Per pixel over channels (ProGAN's pixel norm), no affine.
    Pixel,
    /// Per sample and channel over pixels, with a per-channel affine.
    Instance,
    None,
}

const NORM_EPS: f64 = 1e-5;

/// Layer, pixel or instance normalisation of `[N, C, H, W]` features.
#[derive(Module, Debug)]
pub struct FeatureNorm<B: Backend> {
    #[module(skip)]
    kind: NormKind,
    gamma: Option<Param<Tensor<B, 1>>>,
    beta: Option<Param<Tensor<B, 1>>>,
}

impl<B: Backend> FeatureNorm<B> {
    pub fn new(kind: NormKind, channels: usize, device: &B::Device) -> Option<Self> {
        let affine = matches!(kind, NormKind::Layer | NormKind::Instance);
        (kind != NormKind::None).then(|| Self {
            kind: kind,
            gamma: affine.then(|| Param::from_tensor(Tensor::ones([channels], device))),
            beta: affine.then(|| Param::from_tensor(Tensor::zeros([channels], device))),
        })
    }

    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = x.dims();
        // 2-D views keep burn-flex's broadcasting on its fast path (see unmask_train::ops).
        let normed = match self.kind {
            NormKind::Layer => standardise_rows(x.reshape([n, c * h * w])).reshape([n, c, h, w]),
            NormKind::Instance => standardise_rows(x.reshape([n * c, h * w])).reshape([n, c, h, w]),
            NormKind::Pixel => {
                let inv = x
                    .clone()
                    .square()
                    .mean_dim(1)
                    .add_scalar(NORM_EPS)
                    .sqrt()
                    .recip();
                return mul_mask(x, inv);
            }
            NormKind::None => return x,
        };
        match (&self.gamma, &self.beta) {
            (Some(g), Some(b)) => {
                let flat = normed.reshape([n * c, h * w]);
                (flat * channel_rows(g.val(), n) + channel_rows(b.val(), n)).reshape([n, c, h, w])
            }
            _ => normed,
        }
    }
}

/// Each row of a 2-D tensor to zero mean and unit variance.
fn standardise_rows<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let centered = x.clone() - x.mean_dim(1);
    let std = centered
        .clone()
        .square()
        .mean_dim(1)
        .add_scalar(NORM_EPS)
        .sqrt();
    centered / std
}

/// What one feature convolution is.
#[derive(Clone, Copy, Debug)]
pub struct ConvSpec {
    pub kind: ConvKind,
    pub inputs: usize,
    pub outputs: usize,
    pub kernel: usize,
    pub dilation: usize,
    /// Kernel of the imputation (imputed convolutions only).
    pub impute_kernel: usize,
    pub norm: NormKind,
    /// `None` for the output layer (raw values).
    pub activation: Option<Activation>,
    /// Channels of the landmark guide taken besides the features (0: none). They are known
    /// everywhere, so the imputation leaves them alone.
    pub guide: usize,
}

/// One convolution of a generator with its normalisation and activation.
#[derive(Module, Debug)]
pub struct FeatureConv<B: Backend> {
    conv: Conv2d<B>,
    /// Gated: the gate convolution, same geometry as `conv`.
    gate: Option<Conv2d<B>>,
    /// Imputed: the learned depthwise imputation over known pixels.
    impute: Option<Conv2d<B>>,
    norm: Option<FeatureNorm<B>>,
    #[module(skip)]
    kind: ConvKind,
    #[module(skip)]
    activation: Option<Activation>,
    kernel: usize,
    dilation: usize,
    impute_kernel: usize,
    guide: usize,
}

impl<B: KernelBackend> FeatureConv<B> {
    pub fn new(spec: ConvSpec, device: &B::Device) -> Self {
        let pad = spec.dilation * (spec.kernel - 1) / 2;
        let conv = |inputs, outputs| {
            Conv2dConfig::new([inputs, outputs], [spec.kernel, spec.kernel])
                .with_dilation([spec.dilation, spec.dilation])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .init(device)
        };
        let k = spec.impute_kernel;
        Self {
            conv: conv(spec.inputs + spec.guide, spec.outputs),
            gate: (spec.kind == ConvKind::Gated)
                .then(|| conv(spec.inputs + spec.guide, spec.outputs)),
            impute: (spec.kind == ConvKind::Imputed).then(|| {
                Conv2dConfig::new([spec.inputs, spec.inputs], [k, k])
                    .with_groups(spec.inputs)
                    .with_padding(PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2))
                    .init(device)
            }),
            norm: FeatureNorm::new(spec.norm, spec.outputs, device),
            kind: spec.kind,
            activation: spec.activation,
            kernel: spec.kernel,
            dilation: spec.dilation,
            impute_kernel: k,
            guide: spec.guide,
        }
    }

    /// Features `x` `[N, C, H, W]` with known-pixel mask `m` `[N, 1, H, W]` (and, when the conv
    /// takes it, the guide `[N, G, H, W]`) to the output features and the updated mask.
    pub fn forward(
        &self,
        x: Tensor<B, 4>,
        m: Tensor<B, 4>,
        guide: Option<Tensor<B, 4>>,
    ) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let with_guide = |x: Tensor<B, 4>| match (&guide, self.guide) {
            (_, 0) => x,
            (Some(g), _) => Tensor::cat(vec![x, g.clone()], 1),
            (None, _) => panic!("this convolution takes the landmark guide"),
        };
        match self.kind {
            ConvKind::Imputed => {
                let filled = impute(
                    self.impute.as_ref().expect("imputed conv"),
                    x,
                    m.clone(),
                    self.impute_kernel,
                );
                let y = self.finish(conv2d(&self.conv, with_guide(filled)));
                let m = if self.kernel == 1 {
                    m
                } else {
                    update_mask(m, self.kernel, self.dilation)
                };
                (y, m)
            }
            ConvKind::Gated => {
                let x = with_guide(x);
                let gate = sigmoid(conv2d(self.gate.as_ref().expect("gated conv"), x.clone()));
                (self.finish(conv2d(&self.conv, x)) * gate, m)
            }
            ConvKind::Plain => (self.finish(conv2d(&self.conv, with_guide(x))), m),
        }
    }

    fn finish(&self, y: Tensor<B, 4>) -> Tensor<B, 4> {
        let y = match &self.norm {
            Some(n) => n.forward(y),
            None => y,
        };
        match self.activation {
            Some(a) => a.apply(y),
            None => y,
        }
    }
}

/// DeepPrivacy's imputation: `x m + E (1 - m)` with `E = DWConv_k(x m) / (AvgPool_k(m) + eps)`.
pub fn impute<B: KernelBackend>(
    dw: &Conv2d<B>,
    x: Tensor<B, 4>,
    m: Tensor<B, 4>,
    k: usize,
) -> Tensor<B, 4> {
    let known = mul_mask(x, m.clone());
    let reach = avg_pool2d(m.clone(), [k, k], [1, 1], [k / 2, k / 2], true).add_scalar(IMPUTE_EPS);
    let estimate = mul_mask(conv2d(dw, known.clone()), reach.recip());
    known + mul_mask(estimate, m.neg().add_scalar(1.0))
}

/// The mask after a `k`x`k` convolution: `clamp(2 (sigmoid(window sum of m) - 0.5) + 1e-6, 0, 1)`.
/// A pixel with any known pixel in its window becomes (partly) known; the mask carries no
/// gradient.
pub fn update_mask<B: KernelBackend>(m: Tensor<B, 4>, k: usize, dilation: usize) -> Tensor<B, 4> {
    let m = m.detach();
    let ones = Tensor::<B, 4>::ones([1, 1, k, k], &m.device());
    let pad = dilation * (k - 1) / 2;
    let sum = conv2d_with(
        m,
        ones,
        None,
        ConvOptions::new([1, 1], [pad, pad], [dilation, dilation], 1),
    );
    sigmoid(sum)
        .sub_scalar(0.5)
        .mul_scalar(2.0)
        .add_scalar(1e-6)
        .clamp(0.0, 1.0)
}

/// Halves the resolution. Imputed: `AvgPool2(x m) / (AvgPool2(m) + eps)`, `m' = AvgPool2(m)`;
/// the others average `x` and `m` plainly.
pub fn downsample<B: KernelBackend>(
    kind: ConvKind,
    x: Tensor<B, 4>,
    m: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let pool = |t: Tensor<B, 4>| avg_pool2d(t, [2, 2], [2, 2], [0, 0], true);
    let m2 = pool(m.clone());
    match kind {
        ConvKind::Imputed => {
            let x2 = pool(mul_mask(x, m));
            (mul_mask(x2, m2.clone().add_scalar(IMPUTE_EPS).recip()), m2)
        }
        _ => (pool(x), m2),
    }
}

/// Doubles the resolution of features and mask (nearest neighbour).
pub fn upsample<B: KernelBackend>(
    x: Tensor<B, 4>,
    m: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    (upsample_nearest2x(x), upsample_nearest2x(m))
}
