//! StyleGAN2's losses: the non-saturating logistic loss and the R1 penalty on real images,
//! applied lazily (every `r1_every` steps, scaled by that interval).
//!
//! **R1 without double backward.** R1 is `E ||grad_x D(x)||^2`; its gradient with respect to the
//! discriminator's weights needs a gradient of a gradient, which burn 0.21's autodiff does not
//! compute. For a fixed direction `u`, `grad_x D . u` is the directional derivative of `D`, so
//! with `G = grad_x sum D(x)` (one ordinary backward) and `u = G / |G|` held constant,
//! `grad_theta |G|^2 = 2 grad_theta (|G| D_u)`, and `D_u` is taken by central differences,
//! `(sum D(x + h u) - sum D(x - h u)) / 2h`. The penalty's value is exact; its weight gradient
//! is accurate to `O(h^2)` (exact for a quadratic `D`).

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};

/// The root-mean-square change per pixel of the central difference's two points.
pub const R1_STEP: f64 = 1e-3;

/// `log(1 + e^x)` without overflow: `max(x, 0) + log(1 + e^-|x|)`.
pub fn softplus<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    x.clone().clamp_min(0.0) + x.abs().neg().exp().log1p()
}

/// The discriminator's logistic loss: `softplus(D(fake)) + softplus(-D(real))`, batch means.
pub fn discriminator_logistic<B: Backend>(real: Tensor<B, 2>, fake: Tensor<B, 2>) -> Tensor<B, 1> {
    softplus(fake).mean() + softplus(real.neg()).mean()
}

/// The generator's non-saturating loss `softplus(-D(fake))`, batch mean.
pub fn generator_nonsaturating<B: Backend>(fake: Tensor<B, 2>) -> Tensor<B, 1> {
    softplus(fake.neg()).mean()
}

/// The R1 penalty of a batch of real images.
pub struct R1<B: Backend> {
    /// `mean_i ||grad_{x_i} sum D(x)||^2`, exact.
    pub penalty: f64,
    /// A term whose gradient with respect to the discriminator's weights is the penalty's.
    pub surrogate: Tensor<B, 1>,
}

/// R1 of `d` (images `[N, C, H, W]` to logits `[N, 1]`) at the real images `real`.
pub fn r1<B: AutodiffBackend>(
    d: impl Fn(Tensor<B, 4>) -> Tensor<B, 2>,
    real: Tensor<B, 4>,
) -> R1<B> {
    let n = real.dims()[0] as f64;
    let device = real.device();
    let real = real.detach();
    let x = real.clone().require_grad();
    let grads = d(x.clone()).sum().backward();
    let Some(grad) = x.grad(&grads) else {
        // The logits do not depend on the images: no penalty and nothing to learn from it.
        return R1 {
            penalty: 0.0,
            surrogate: Tensor::zeros([1], &device),
        };
    };
    let norm2: f64 = grad.clone().square().sum().into_scalar().elem::<f32>() as f64;
    let norm = norm2.sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return R1 {
            penalty: norm2 / n,
            surrogate: Tensor::zeros([1], &device),
        };
    }
    let h = R1_STEP * (grad.shape().num_elements() as f64).sqrt();
    let step = Tensor::<B, 4>::from_inner(grad.mul_scalar(h / norm));
    let up = d(real.clone() + step.clone()).sum();
    let down = d(real - step).sum();
    R1 {
        penalty: norm2 / n,
        surrogate: (up - down).mul_scalar(norm / (h * n)),
    }
}
