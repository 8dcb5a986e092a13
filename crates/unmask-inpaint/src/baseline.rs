//! Classical fills to compare the GAN against.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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

/// The classical fills, as the evaluation and the ablation name them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineMethod {
    /// [`mean_colour_fill`].
    #[default]
    MeanFill,
    /// [`telea_batch`] with [`TELEA_RADIUS`].
    Telea,
}

impl BaselineMethod {
    pub fn name(self) -> &'static str {
        match self {
            BaselineMethod::MeanFill => unmask_core::evaluation::MEAN_FILL,
            BaselineMethod::Telea => unmask_core::evaluation::TELEA,
        }
    }

    /// Composites with the hole filled by this method; known pixels are kept.
    pub fn fill<B: Backend>(self, image: Tensor<B, 4>, hole: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            BaselineMethod::MeanFill => mean_colour_fill(image, hole),
            BaselineMethod::Telea => telea_batch(image, hole, TELEA_RADIUS),
        }
    }
}

/// Neighbourhood radius of the Telea fill in pixels (OpenCV's examples use 3 to 5).
pub const TELEA_RADIUS: f32 = 5.0;

/// [`crate::telea::telea_fill`] on every image of a batch (in parallel), composited.
pub fn telea_batch<B: Backend>(
    image: Tensor<B, 4>,
    hole: Tensor<B, 4>,
    radius: f32,
) -> Tensor<B, 4> {
    let [n, c, h, w] = image.dims();
    let device = image.device();
    let pixels: Vec<f32> = image
        .clone()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 image");
    let holes: Vec<f32> = hole
        .clone()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 hole");
    let filled: Vec<f32> = (0..n)
        .into_par_iter()
        .flat_map_iter(|k| {
            let mut planes: Vec<Vec<f32>> = (0..c)
                .map(|ch| pixels[(k * c + ch) * h * w..(k * c + ch + 1) * h * w].to_vec())
                .collect();
            let in_hole: Vec<bool> = holes[k * h * w..(k + 1) * h * w]
                .iter()
                .map(|&v| v > 0.5)
                .collect();
            crate::telea::telea_fill(&mut planes, w, h, &in_hole, radius);
            planes.into_iter().flatten()
        })
        .collect();
    let fill = Tensor::<B, 4>::from_data(TensorData::new(filled, [n, c, h, w]), &device);
    crate::model::composite(fill, image, hole)
}
