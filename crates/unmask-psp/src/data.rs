//! pSp's samples are the masks stage's pairs (masked face in, unmasked face out), decoded as
//! the inpainting GAN decodes them; this module adds the generator's value range and the
//! fixed noise the generator runs with.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use unmask_stylegan::data::Latents;
use unmask_stylegan::GeneratorConfig;

pub use unmask_inpaint::data::{eval_tensors, make_batch, view_of, BatchTensors, InpaintBatch};

/// `[0, 1]` images to the generator's `[-1, 1]`.
pub fn to_signed<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    x.mul_scalar(2.0).sub_scalar(1.0)
}

/// One noise map per generator layer, drawn once from `seed` and shared by every image of a
/// batch of `n` (StyleGAN's constant noise): the same face always gets the same output, in
/// training and at inference.
pub fn fixed_noise<B: Backend>(
    config: &GeneratorConfig,
    seed: u64,
    n: usize,
    device: &B::Device,
) -> Vec<Tensor<B, 4>> {
    Latents::draw(seed, "psp-noise", 0, 1, config.z_dim, &config.noise_sides())
        .noise::<B>(device)
        .into_iter()
        .map(|m| m.repeat_dim(0, n))
        .collect()
}
