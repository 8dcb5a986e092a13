//! Image metrics for unmask, generic over a burn [`Backend`](burn::tensor::backend::Backend).
//!
//! Images are `Tensor<B, 4>` `[N, 3, H, W]` with values in `[0, 1]`; masks are
//! `[N, 1, H, W]`. Every metric returns one value per image, a `Tensor<B, 1>` `[N]`
//! ([`to_vec`] reads it back).
//!
//! - [`pixel`]: L1, hole L1, PSNR; Dice, IoU and pixel accuracy for binary masks.
//! - [`ssim`]: SSIM as scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
//!   use_sample_covariance=False, data_range=1)`.
//! - [`lpips`]: LPIPS v0.1 (AlexNet default, VGG16 option) from the converted safetensors of
//!   `unmask-weights`.
//! - [`vgg`]: VGG16 relu1_2..relu5_3 features (ImageNet normalisation) for perceptual losses.
//!
//! `tests/reference/make_reference.py` (workspace root) is the independent numpy reference the
//! tests compare against.

mod backbone;
mod cpu;
pub mod error;
pub mod lpips;
pub mod pixel;
/// 2x2 max pooling, now in unmask-kernels (shared with face-api's nets).
pub use unmask_kernels::pool;
pub mod ssim;
pub mod vgg;
pub use unmask_kernels::WeightFile;

pub use error::{MetricsError, Result};
pub use lpips::{Lpips, LpipsNet};
pub use pixel::{dice, hole_l1, iou, l1, pixel_accuracy, precision, psnr, recall};
pub use ssim::ssim;
pub use vgg::Vgg16Features;

use burn::tensor::{backend::Backend, Tensor};

/// Reads a per-image metric `[N]` back as `f32`s.
pub fn to_vec<B: Backend>(t: Tensor<B, 1>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("converted to f32")
}
