//! Growing a hole so that it covers the whole mask. The binary mask of mask synthesis stops
//! where the drawn coverage falls below one half, so the anti-aliased rim, the soft shadow and
//! thin ear loops lie outside it: on the quickstart's synthetic masks at 128 px, 6% of the
//! pixels the mask changed (by more than 6/255) are outside the binary mask, 0.06% after 2 px
//! of growth. A segmenter's mask stops short of the rim in the same way. Filling only the
//! binary hole leaves those pixels, a visible outline, in the composite.
//!
//! The growth is a share of the image side, so one setting means the same at the network's
//! size, at a 256 px face crop and at a photo's own resolution.

use burn::tensor::Tensor;
use image::GrayImage;
use unmask_kernels::KernelBackend;

/// The growth in pixels of a `side`-pixel image: `share * side`, rounded.
pub fn dilation_pixels(share: f32, side: u32) -> u32 {
    (share.max(0.0) * side as f32).round() as u32
}

/// Checks a hole growth setting named `field`.
pub fn check_share(field: &str, share: f32) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=0.25).contains(&share),
        "{field} is a share of the image side and must be in [0, 0.25], got {share}"
    );
    Ok(())
}

/// `hole` `[N, 1, S, S]` (inside where above 0.5, as `grow_mask` reads 127) grown by `pixels`
/// in every direction (a square window, like max pooling); 0/1 afterwards.
pub fn grow<B: KernelBackend>(hole: Tensor<B, 4>, pixels: usize) -> Tensor<B, 4> {
    let hole = hole.greater_elem(0.5).float();
    if pixels == 0 {
        return hole;
    }
    let k = 2 * pixels + 1;
    // With zero padding, a window's mean is above zero exactly when it holds a hole pixel;
    // half a pixel's weight is the threshold so that rounding cannot decide it.
    let mean = unmask_kernels::nn::avg_pool2d(hole, [k, k], [1, 1], [pixels, pixels], true);
    mean.greater_elem(0.5 / (k * k) as f32).float()
}

/// `hole` `[N, 1, S, S]` grown by `share` of its side.
pub fn grow_by_share<B: KernelBackend>(hole: Tensor<B, 4>, share: f32) -> Tensor<B, 4> {
    let side = hole.dims()[3] as u32;
    grow(hole, dilation_pixels(share, side) as usize)
}

/// The hole of `mask` (pixels above 127) grown by `pixels`, as 0/255.
pub fn grow_mask(mask: &GrayImage, pixels: u32) -> GrayImage {
    let binary = unmask_seg::inference::binarize(mask, 127);
    if pixels == 0 {
        return binary;
    }
    imageproc::morphology::dilate(
        &binary,
        imageproc::distance_transform::Norm::LInf,
        pixels.min(u8::MAX as u32) as u8,
    )
}

/// The hole of a mask of any size grown by `share` of its longer side.
pub fn grow_mask_by_share(mask: &GrayImage, share: f32) -> GrayImage {
    let side = mask.width().max(mask.height());
    grow_mask(mask, dilation_pixels(share, side))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    #[test]
    fn pixels_scale_with_the_side() {
        assert_eq!(dilation_pixels(0.03, 64), 2);
        assert_eq!(dilation_pixels(0.03, 256), 8);
        assert_eq!(dilation_pixels(0.0, 256), 0);
        assert_eq!(dilation_pixels(-1.0, 256), 0);
    }

    /// The tensor growth and the image growth agree, and both grow by exactly `pixels`.
    #[test]
    fn tensor_and_image_growth_agree() {
        let side = 23u32;
        let mask = GrayImage::from_fn(side, side, |x, y| {
            let inside = (x == 3 && y == 4) || (10..14).contains(&x) && (15..22).contains(&y);
            image::Luma([if inside { 200 } else { 90 }])
        });
        for pixels in [0u32, 1, 2, 5] {
            let grown = grow_mask(&mask, pixels);
            let device = Default::default();
            let plane: Vec<f32> = mask
                .pixels()
                .map(|p| if p.0[0] > 127 { 1.0 } else { 0.0 })
                .collect();
            let t = Tensor::<Flex, 4>::from_data(
                TensorData::new(plane, [1, 1, side as usize, side as usize]),
                &device,
            );
            let values: Vec<f32> = grow(t, pixels as usize).into_data().to_vec().unwrap();
            for (i, (v, g)) in values.iter().zip(grown.pixels()).enumerate() {
                let (x, y) = (i as u32 % side, i as u32 / side);
                let dx = |a: u32, b: u32| a.abs_diff(b);
                // Chebyshev distance to the nearest hole pixel.
                let near = mask
                    .enumerate_pixels()
                    .filter(|(_, _, p)| p.0[0] > 127)
                    .map(|(hx, hy, _)| dx(hx, x).max(dx(hy, y)))
                    .min()
                    .unwrap();
                let expected = near <= pixels;
                assert_eq!(*v == 1.0, expected, "tensor at ({x}, {y}), {pixels} px");
                assert_eq!(g.0[0] == 255, expected, "image at ({x}, {y}), {pixels} px");
            }
        }
    }
}
