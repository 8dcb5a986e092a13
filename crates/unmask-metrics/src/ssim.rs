//! SSIM (Wang et al. 2004) exactly as scikit-image's
//! `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//! data_range=1, channel_axis=...)`.
//!
//! skimage filters with an 11x11 Gaussian (sigma 1.5, truncate 3.5: radius 5) in `reflect`
//! mode, then drops `(11 - 1) / 2 = 5` pixels at every border before averaging. The kept pixels'
//! windows lie entirely inside the image, so a 'valid' convolution gives exactly the same
//! numbers with no padding at all. Computed per channel, averaged over channels.

use burn::tensor::{backend::Backend, module::conv2d, ops::ConvOptions, Tensor, TensorData};

/// Window radius: `int(truncate * sigma + 0.5)` with truncate 3.5, sigma 1.5.
pub const RADIUS: usize = 5;
/// Window side, 11.
pub const WIN: usize = 2 * RADIUS + 1;
const SIGMA: f64 = 1.5;
const K1: f32 = 0.01;
const K2: f32 = 0.03;

/// The normalised 1-D Gaussian of scipy's `gaussian_filter`, computed in f64.
pub fn gaussian_kernel() -> [f32; WIN] {
    let mut k = [0f64; WIN];
    for (i, v) in k.iter_mut().enumerate() {
        let x = i as f64 - RADIUS as f64;
        *v = (-0.5 / (SIGMA * SIGMA) * x * x).exp();
    }
    let s: f64 = k.iter().sum();
    k.map(|v| (v / s) as f32)
}

/// Mean SSIM per image `[N]` for images `[N, C, H, W]` in `[0, 1]` (H, W >= 11).
pub fn ssim<B: Backend>(a: Tensor<B, 4>, b: Tensor<B, 4>) -> Tensor<B, 1> {
    let [n, c, h, w] = a.dims();
    assert_eq!(
        a.dims(),
        b.dims(),
        "ssim: the two images must have the same shape"
    );
    assert!(
        h >= WIN && w >= WIN,
        "ssim: images must be at least {WIN}x{WIN}, got {h}x{w}"
    );
    let device = a.device();
    let k = gaussian_kernel().to_vec();
    let kx = Tensor::<B, 4>::from_data(TensorData::new(k.clone(), [1, 1, 1, WIN]), &device);
    let ky = Tensor::<B, 4>::from_data(TensorData::new(k, [1, 1, WIN, 1]), &device);
    let opts = || ConvOptions::new([1, 1], [0, 0], [1, 1], 1);

    let x = a.reshape([n * c, 1, h, w]);
    let y = b.reshape([n * c, 1, h, w]);
    let stack = Tensor::cat(
        vec![
            x.clone(),
            y.clone(),
            x.clone() * x.clone(),
            y.clone() * y.clone(),
            x * y,
        ],
        0,
    );
    let filtered = conv2d(conv2d(stack, kx, None, opts()), ky, None, opts());
    let mut parts = filtered.chunk(5, 0).into_iter();
    let mut next = || parts.next().expect("five parts");
    let (ux, uy, uxx, uyy, uxy) = (next(), next(), next(), next(), next());
    let vx = uxx - ux.clone() * ux.clone();
    let vy = uyy - uy.clone() * uy.clone();
    let vxy = uxy - ux.clone() * uy.clone();
    let c1 = K1 * K1;
    let c2 = K2 * K2;
    let num = (ux.clone() * uy.clone()).mul_scalar(2.0).add_scalar(c1)
        * vxy.mul_scalar(2.0).add_scalar(c2);
    let den = (ux.clone() * ux + uy.clone() * uy).add_scalar(c1) * (vx + vy).add_scalar(c2);
    let s = num / den; // [N*C, 1, H-10, W-10]
    s.reshape([n, c * (h - 2 * RADIUS) * (w - 2 * RADIUS)])
        .mean_dim(1)
        .reshape([n])
}
