//! Classical fills to compare the GAN against.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// Each image's hole filled with the mean colour of its known pixels.
pub fn mean_colour_fill<B: Backend>(image: Tensor<B, 4>, hole: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = image.dims();
    let known = hole.clone().neg().add_scalar(1.0);
    let kept = unmask_train::ops::mul_mask(image.clone(), known.clone());
    let sums = kept.reshape([n, c, h * w]).sum_dim(2).reshape([n, c]);
    let counts = known.reshape([n, h * w]).sum_dim(1).clamp_min(1.0);
    let means = sums / counts;
    let fill = unmask_train::ops::scale_shift(
        Tensor::zeros([n, c, h, w], &image.device()),
        Tensor::zeros([n, c], &image.device()),
        means,
    );
    crate::model::composite(fill, image, hole)
}
