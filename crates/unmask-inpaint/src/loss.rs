//! The GAN's losses: hinge loss for the discriminator and the generator's adversarial term,
//! hole-weighted L1 on the coarse and refined outputs, and a VGG16 perceptual loss.

use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use unmask_kernels::KernelBackend;
use unmask_metrics::Vgg16Features;

/// Loss weights. The defaults favour reconstruction so short CPU runs learn visibly; the
/// adversarial term sharpens longer runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossWeights {
    /// L1 of the coarse output against the target.
    pub l1_coarse: f32,
    /// L1 of the refine output against the target.
    pub l1_refine: f32,
    /// Extra weight of hole pixels in both L1 terms (whole image weight 1, hole 1 + this).
    pub hole: f32,
    /// L1 between VGG16 relu features of the final composite and the target (0 turns VGG off).
    pub perceptual: f32,
    /// How many VGG16 feature maps the perceptual loss uses (1..=5: relu1_2 .. relu5_3).
    pub perceptual_layers: usize,
    /// The generator's hinge term `-D(final)`.
    pub adversarial: f32,
}

impl Default for LossWeights {
    fn default() -> Self {
        Self {
            l1_coarse: 1.0,
            l1_refine: 1.0,
            hole: 5.0,
            perceptual: 0.1,
            perceptual_layers: 3,
            adversarial: 0.01,
        }
    }
}

/// Mean absolute error over the image plus `hole_weight` times the mean over hole pixels.
pub fn weighted_l1<B: Backend>(
    pred: Tensor<B, 4>,
    target: Tensor<B, 4>,
    hole: Tensor<B, 4>,
    hole_weight: f32,
) -> Tensor<B, 1> {
    let diff = (pred - target).abs();
    let whole = diff.clone().mean();
    if hole_weight == 0.0 {
        return whole;
    }
    let in_hole = unmask_train::ops::mul_mask(diff, hole.clone()).sum();
    let count = hole.sum().mul_scalar(3.0).add_scalar(1.0);
    whole + (in_hole / count).mul_scalar(hole_weight)
}

/// Discriminator hinge loss: `mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))`.
pub fn hinge_discriminator<B: Backend>(real: Tensor<B, 4>, fake: Tensor<B, 4>) -> Tensor<B, 1> {
    relu(real.neg().add_scalar(1.0)).mean() + relu(fake.add_scalar(1.0)).mean()
}

/// Generator hinge term: `-mean(D(fake))`.
pub fn hinge_generator<B: Backend>(fake: Tensor<B, 4>) -> Tensor<B, 1> {
    fake.mean().neg()
}

/// Mean L1 between the first `layers` VGG16 feature maps of `a` and `b`, summed over layers.
/// `b` is the target: its features are computed off the autodiff tape, so the backward pass
/// runs VGG16 on `a`'s batch only (a third less work than one pass over both).
pub fn perceptual<B: KernelBackend>(
    vgg: &Vgg16Features<B>,
    a: Tensor<B, 4>,
    b: Tensor<B, 4>,
    layers: usize,
) -> Tensor<B, 1> {
    let target = vgg.forward_upto(b.detach(), layers);
    vgg.forward_upto(a, layers)
        .into_iter()
        .zip(target)
        .map(|(x, y)| (x - y).abs().mean())
        .reduce(|a, b| a + b)
        .expect("at least one layer")
}
