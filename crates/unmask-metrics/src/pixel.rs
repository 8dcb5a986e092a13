//! Pixel metrics: L1, hole L1, PSNR (images `[N, C, H, W]` in `[0, 1]`) and overlap metrics for
//! binary masks `[N, 1, H, W]` (values >= 0.5 count as 1).

use burn::tensor::{backend::Backend, Tensor};

/// Per-image mean over `[C, H, W]`: `[N, C, H, W]` -> `[N]`.
fn per_image_mean<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 1> {
    let n = x.dims()[0];
    x.flatten::<2>(1, 3).mean_dim(1).reshape([n])
}

fn per_image_sum<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 1> {
    let n = x.dims()[0];
    x.flatten::<2>(1, 3).sum_dim(1).reshape([n])
}

fn check_same(a: [usize; 4], b: [usize; 4], what: &str) {
    assert_eq!(a, b, "{what}: the two tensors must have the same shape");
}

/// Mean absolute difference over the whole image, per image.
pub fn l1<B: Backend>(a: Tensor<B, 4>, b: Tensor<B, 4>) -> Tensor<B, 1> {
    check_same(a.dims(), b.dims(), "l1");
    per_image_mean((a - b).abs())
}

/// Mean absolute difference over the pixels where `mask` is 1 (the hole), all channels, per
/// image. `mask` is `[N, 1, H, W]`; soft masks weight the pixels. NaN where a mask is empty.
pub fn hole_l1<B: Backend>(a: Tensor<B, 4>, b: Tensor<B, 4>, mask: Tensor<B, 4>) -> Tensor<B, 1> {
    let [n, c, h, w] = a.dims();
    check_same(a.dims(), b.dims(), "hole_l1");
    assert_eq!(
        mask.dims(),
        [n, 1, h, w],
        "hole_l1: mask must be [N, 1, H, W]"
    );
    let weighted = per_image_sum((a - b).abs() * mask.clone());
    weighted / per_image_sum(mask).mul_scalar(c as f32)
}

/// Peak signal-to-noise ratio in dB with data range 1, per image (`inf` for identical images).
pub fn psnr<B: Backend>(a: Tensor<B, 4>, b: Tensor<B, 4>) -> Tensor<B, 1> {
    check_same(a.dims(), b.dims(), "psnr");
    let d = a - b;
    let mse = per_image_mean(d.clone() * d);
    mse.log().mul_scalar(-10.0 / std::f32::consts::LN_10)
}

fn binarise<B: Backend>(m: Tensor<B, 4>) -> Tensor<B, 4> {
    m.greater_equal_elem(0.5).float()
}

/// `(|P ∩ T|, |P|, |T|, pixels)` per image.
fn overlap<B: Backend>(
    pred: Tensor<B, 4>,
    target: Tensor<B, 4>,
) -> (Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>, usize) {
    check_same(pred.dims(), target.dims(), "mask metric");
    let [_, c, h, w] = pred.dims();
    let p = binarise(pred);
    let t = binarise(target);
    let inter = per_image_sum(p.clone() * t.clone());
    (inter, per_image_sum(p), per_image_sum(t), c * h * w)
}

/// Dice coefficient `2|P ∩ T| / (|P| + |T|)` per image; 1 when both masks are empty.
pub fn dice<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    let (inter, p, t, _) = overlap(pred, target);
    let denom = p + t;
    let empty = denom.clone().lower_equal_elem(0.0);
    (inter.mul_scalar(2.0) / denom.clamp_min(1.0)).mask_fill(empty, 1.0)
}

/// Intersection over union `|P ∩ T| / |P ∪ T|` per image; 1 when both masks are empty.
pub fn iou<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    let (inter, p, t, _) = overlap(pred, target);
    let union = p + t - inter.clone();
    let empty = union.clone().lower_equal_elem(0.0);
    (inter / union.clamp_min(1.0)).mask_fill(empty, 1.0)
}

/// Precision `|P ∩ T| / |P|` per image; with nothing predicted, 1 if the target is empty too,
/// else 0.
pub fn precision<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    let (inter, p, t, _) = overlap(pred, target);
    let nothing = p.clone().lower_equal_elem(0.0);
    let fill = t.lower_equal_elem(0.0).float();
    (inter / p.clamp_min(1.0)).mask_where(nothing, fill)
}

/// Recall `|P ∩ T| / |T|` per image; 1 when the target is empty.
pub fn recall<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    let (inter, _, t, _) = overlap(pred, target);
    let empty = t.clone().lower_equal_elem(0.0);
    (inter / t.clamp_min(1.0)).mask_fill(empty, 1.0)
}

/// Fraction of pixels where the binarised masks agree, per image.
pub fn pixel_accuracy<B: Backend>(pred: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    let (inter, p, t, pixels) = overlap(pred, target);
    // agree = both 1 + both 0 = inter + (pixels - |P ∪ T|)
    let union = p + t - inter.clone();
    (inter - union)
        .add_scalar(pixels as f32)
        .div_scalar(pixels as f32)
}
