//! Paste-back with the photo's colour and lighting. The generator's fill can be a shade off
//! the face around it (a small network, another light), which shows as a patch. Around the
//! hole the generator also reproduces the known pixels, so its error there is measured: the
//! ring of known pixels next to the hole gives `image - generated`, and that offset, spread
//! smoothly over the hole, is added to the fill. Only low frequencies change; the fill's
//! structure stays.
//!
//! The offset is spread by push-pull (Gortler et al., "The Lumigraph", 1996): the ring's
//! weighted offsets are averaged down a pyramid until every cell has support, then pulled back
//! up, each level keeping its own estimate where it has data and taking the coarser one where
//! it has not. Ring pixels far from the ring's median offset are down-weighted first: on real
//! photos the ring also holds what the hole missed (an ear loop, a strip of
//! mask the segmenter left out), and those must not tint the fill.

use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::Tensor;
use unmask_kernels::KernelBackend;

/// The ring's width as a share of the side (3 px at 64, 13 at 256).
pub const RING_SHARE: f32 = 0.05;

/// `generated` `[N, 3, S, S]` shifted inside `hole` (`[N, 1, S, S]`, 1 inside) by the smooth
/// offset that makes it agree with `image` on the ring of known pixels around the hole.
/// Outside the hole the result is `generated` unchanged; a hole without a known ring around it
/// gets no offset.
pub fn match_colour<B: KernelBackend>(
    generated: Tensor<B, 4>,
    image: Tensor<B, 4>,
    hole: Tensor<B, 4>,
) -> Tensor<B, 4> {
    let side = hole.dims()[3] as u32;
    let ring_px = crate::hole::dilation_pixels(RING_SHARE, side).max(1) as usize;
    let ring = crate::hole::grow(hole.clone(), ring_px) - hole.clone();
    let offset = image - generated.clone();
    // Weight exp(-(r / OUTLIER_SCALE)^2) of the largest channel residual r from the median.
    let residual = (offset.clone() - ring_medians(&offset, &ring))
        .abs()
        .max_dim(1);
    let trust = residual
        .div_scalar(OUTLIER_SCALE)
        .powi_scalar(2)
        .neg()
        .exp();
    let weight = unmask_train::ops::mul_mask(trust, ring);
    let spread = push_pull(unmask_train::ops::mul_mask(offset, weight.clone()), weight);
    generated + unmask_train::ops::mul_mask(spread, hole)
}

/// Each image's per-channel median of `offset` over `ring` (`> 0.5`), as `[N, C, 1, 1]`; 0
/// where the ring is empty.
fn ring_medians<B: KernelBackend>(offset: &Tensor<B, 4>, ring: &Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = offset.dims();
    let values: Vec<f32> = offset
        .clone()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32");
    let inside: Vec<f32> = ring
        .clone()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32");
    let plane = h * w;
    let mut medians = Vec::with_capacity(n * c);
    for k in 0..n {
        let mask = &inside[k * plane..(k + 1) * plane];
        for ch in 0..c {
            let start = (k * c + ch) * plane;
            let mut picked: Vec<f32> = values[start..start + plane]
                .iter()
                .zip(mask)
                .filter(|(_, &m)| m > 0.5)
                .map(|(&v, _)| v)
                .collect();
            medians.push(if picked.is_empty() {
                0.0
            } else {
                let mid = picked.len() / 2;
                *picked.select_nth_unstable_by(mid, f32::total_cmp).1
            });
        }
    }
    Tensor::from_data(
        burn::tensor::TensorData::new(medians, [n, c, 1, 1]),
        &offset.device(),
    )
}

/// Residual (in `[0, 1]` colour units) at which a ring pixel's weight falls to `1/e`.
const OUTLIER_SCALE: f32 = 0.1;

/// Smooth interpolation of `values` (premultiplied by `weight`, `[N, C, H, W]`) from where
/// `weight` (`[N, 1, H, W]`, in [0, 1]) is positive to everywhere.
fn push_pull<B: KernelBackend>(values: Tensor<B, 4>, weight: Tensor<B, 4>) -> Tensor<B, 4> {
    let mut levels = vec![(values, weight)];
    loop {
        let (v, w) = levels.last().expect("one level at least");
        let [_, _, h, wd] = w.dims();
        if h < 2 || wd < 2 {
            break;
        }
        let down =
            |t: Tensor<B, 4>| unmask_kernels::nn::avg_pool2d(t, [2, 2], [2, 2], [0, 0], true);
        let next = (down(v.clone()), down(w.clone()));
        levels.push(next);
    }
    // The coarsest level: the weighted mean wherever anything was seen.
    let (v, w) = levels.pop().expect("one level at least");
    let mut estimate = v / w.clone().clamp_min(1e-6);
    while let Some((v, w)) = levels.pop() {
        let [_, _, h, wd] = w.dims();
        let up = interpolate(
            estimate,
            [h, wd],
            InterpolateOptions::new(InterpolateMode::Bilinear),
        );
        // A cell with at least a quarter of its pixels seen keeps its own estimate.
        let keep = w.clone().mul_scalar(4.0).clamp_max(1.0);
        let own = v / w.clamp_min(1e-6);
        estimate = unmask_train::ops::mul_mask(own, keep.clone())
            + unmask_train::ops::mul_mask(up, keep.neg().add_scalar(1.0));
    }
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    type B = Flex;

    fn plane(side: usize, f: impl Fn(usize, usize) -> f32) -> Vec<f32> {
        (0..side * side).map(|i| f(i % side, i / side)).collect()
    }

    fn tensor(data: Vec<f32>, c: usize, side: usize) -> Tensor<B, 4> {
        Tensor::from_data(
            TensorData::new(data, [1, c, side, side]),
            &Default::default(),
        )
    }

    /// A fill off by a constant colour is moved onto the image's colour inside the hole, and
    /// nothing outside the hole changes.
    #[test]
    fn a_constant_colour_error_is_removed() {
        let side = 32;
        let hole_at = |x: usize, y: usize| (10..22).contains(&x) && (12..26).contains(&y);
        let hole = tensor(plane(side, |x, y| hole_at(x, y) as u8 as f32), 1, side);
        // The image: a horizontal gradient per channel; the generator: the same, 0.2 darker.
        let image: Vec<f32> = (0..3)
            .flat_map(|c| plane(side, move |x, _| 0.3 + 0.01 * x as f32 + 0.1 * c as f32))
            .collect();
        let generated: Vec<f32> = image.iter().map(|v| v - 0.2).collect();
        let out = match_colour(
            tensor(generated.clone(), 3, side),
            tensor(image.clone(), 3, side),
            hole,
        );
        let out: Vec<f32> = out.into_data().to_vec().unwrap();
        for (i, ((o, g), t)) in out.iter().zip(&generated).zip(&image).enumerate() {
            let (x, y) = (i % side, (i / side) % side);
            if hole_at(x, y) {
                assert!((o - t).abs() < 1e-3, "({x}, {y}): {o} vs image {t}");
            } else {
                assert_eq!(o, g, "({x}, {y}) outside the hole changed");
            }
        }
    }

    /// A strip of the ring that is something else (a strap the hole missed) barely tints the
    /// fill: the shift stays the rest of the ring's.
    #[test]
    fn an_outlying_part_of_the_ring_is_discounted() {
        let side = 32;
        let hole_at = |x: usize, y: usize| (10..22).contains(&x) && (10..22).contains(&y);
        let hole = tensor(plane(side, |x, y| hole_at(x, y) as u8 as f32), 1, side);
        // The generator is 0.2 too dark everywhere, except left of the hole, where the image
        // holds a white strap.
        let image: Vec<f32> = (0..3)
            .flat_map(|_| {
                plane(side, |x, y| {
                    if x < 10 && (8..24).contains(&y) {
                        1.0
                    } else {
                        0.5
                    }
                })
            })
            .collect();
        let generated = vec![0.3; 3 * side * side];
        let out = match_colour(tensor(generated, 3, side), tensor(image, 3, side), hole);
        let out: Vec<f32> = out.into_data().to_vec().unwrap();
        let inside: Vec<f32> = (0..side * side)
            .filter(|&i| hole_at(i % side, i / side))
            .map(|i| out[i])
            .collect();
        let mean = inside.iter().sum::<f32>() / inside.len() as f32;
        assert!(
            (mean - 0.5).abs() < 0.03,
            "mean fill {mean}, the ring's own colour is 0.5"
        );
        let right_half = (0..side * side)
            .filter(|&i| hole_at(i % side, i / side) && i % side >= 16)
            .map(|i| out[i]);
        for v in right_half {
            assert!((v - 0.5).abs() < 0.02, "{v}");
        }
    }

    /// A hole covering the whole image has no ring: the fill is left as it is.
    #[test]
    fn no_ring_no_offset() {
        let side = 16;
        let generated = tensor(vec![0.25; 3 * side * side], 3, side);
        let out = match_colour(
            generated.clone(),
            tensor(vec![0.75; 3 * side * side], 3, side),
            tensor(vec![1.0; side * side], 1, side),
        );
        let out: Vec<f32> = out.into_data().to_vec().unwrap();
        assert!(out.iter().all(|v| (v - 0.25).abs() < 1e-6));
    }
}
