//! The detector's input as face-api builds it: the photo zero-padded at the bottom or right to
//! a square, resized with TensorFlow's legacy bilinear rule (no half-pixel centres, which
//! burn's `interpolate` does not offer), then `(x - mean) / 255` per channel.

use image::RgbImage;
use rayon::prelude::*;

/// Per-channel means (R, G, B) face-api subtracts before the detector.
pub const DETECTOR_MEAN: [f32; 3] = [117.001, 114.697, 97.404];

/// A square float RGB image (values 0..255), channel-major.
pub struct Rgb32 {
    pub side: usize,
    pub planes: Vec<f64>,
}

impl Rgb32 {
    /// Rows in parallel: SSD's 512 x 512 input on one thread took a tenth of its detection.
    pub fn from_fn(side: usize, value: impl Fn(usize, usize, usize) -> f64 + Sync) -> Self {
        let mut planes = vec![0.0; 3 * side * side];
        planes
            .par_chunks_mut(side.max(1))
            .enumerate()
            .for_each(|(row, out)| {
                let (c, y) = (row / side, row % side);
                for (x, v) in out.iter_mut().enumerate() {
                    *v = value(x, y, c);
                }
            });
        Self { side, planes }
    }

    /// `(x - mean) / 255` per channel, in f32 as tfjs computes it.
    pub fn normalised(&self, mean: [f32; 3]) -> Vec<f32> {
        let n = self.side * self.side;
        self.planes
            .iter()
            .enumerate()
            .map(|(i, &v)| (v as f32 - mean[i / n]) / 255.0)
            .collect()
    }
}

/// TensorFlow's legacy bilinear resize (`align_corners = false`, no half-pixel centres) of a
/// `side` x `side` source read through `at(x, y, channel)`: output pixel `d` samples source
/// position `d * side / size`. Values are rounded to f32 as tfjs stores them. The source is
/// read lazily, so a padded photo is never built.
pub fn resize_legacy_bilinear(
    side: usize,
    size: usize,
    at: impl Fn(usize, usize, usize) -> f64 + Sync,
) -> Rgb32 {
    let scale = side as f64 / size as f64;
    let axis: Vec<(usize, usize, f64)> = (0..size)
        .map(|dst| {
            let pos = dst as f64 * scale;
            let lo = pos.floor().max(0.0) as usize;
            let hi = (pos.ceil() as usize).min(side - 1);
            (lo, hi, pos - lo as f64)
        })
        .collect();
    Rgb32::from_fn(size, |x, y, c| {
        let (y0, y1, fy) = axis[y];
        let (x0, x1, fx) = axis[x];
        let top = at(x0, y0, c) + (at(x1, y0, c) - at(x0, y0, c)) * fx;
        let bottom = at(x0, y1, c) + (at(x1, y1, c) - at(x0, y1, c)) * fx;
        (top + (bottom - top) * fy) as f32 as f64
    })
}

/// `img` zero-padded at the bottom or right to a square and resized to `size`, as both
/// face-api detectors see it before their own normalisation.
pub fn padded_square(img: &RgbImage, size: usize) -> Rgb32 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let pixels = img.as_raw();
    resize_legacy_bilinear(w.max(h), size, |x, y, c| {
        if x < w && y < h {
            pixels[(y * w + x) * 3 + c] as f64
        } else {
            0.0
        }
    })
}

/// How much a coordinate relative to the padded square must be stretched to become relative
/// to the photo, per axis: the input side over the photo's resized side, rounded as face-api
/// rounds it (`computeReshapedDimensions`).
pub fn padding_stretch(width: f64, height: f64, size: usize) -> (f64, f64) {
    let scale = size as f64 / width.max(height);
    (
        size as f64 / (width * scale).round(),
        size as f64 / (height * scale).round(),
    )
}

/// The tiny detector's input: [`padded_square`] normalised with [`DETECTOR_MEAN`], as channel
/// planes (`[3, size, size]` flattened).
pub fn detector_planes(img: &RgbImage, size: usize) -> Vec<f32> {
    padded_square(img, size).normalised(DETECTOR_MEAN)
}

/// The SSD detector's input: [`padded_square`] mapped to `[-1, 1]` (`x / 127.5 - 1` in f32, as
/// tfjs computes it), as channel planes.
pub fn ssd_planes(img: &RgbImage, size: usize) -> Vec<f32> {
    padded_square(img, size)
        .planes
        .iter()
        .map(|&v| v as f32 / 127.5 - 1.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_goes_bottom_right_and_corners_are_sampled_exactly() {
        // 4x2 image: the square is 4x4 with two zero rows at the bottom.
        let img = RgbImage::from_fn(4, 2, |x, y| image::Rgb([(10 * x + y) as u8, 0, 0]));
        let p = detector_planes(&img, 4);
        let red = |x: usize, y: usize| p[y * 4 + x] as f64 * 255.0 + DETECTOR_MEAN[0] as f64;
        assert!((red(0, 0) - 0.0).abs() < 1e-3);
        assert!((red(3, 1) - 31.0).abs() < 1e-3);
        assert!(
            (red(2, 3) - 0.0).abs() < 1e-3,
            "padding is zero before the mean"
        );
        // Halving: legacy rule samples source pixel 2*x exactly.
        let big = RgbImage::from_fn(8, 8, |x, _| image::Rgb([(20 * x) as u8, 0, 0]));
        let p = detector_planes(&big, 4);
        let red = |x: usize| p[x] as f64 * 255.0 + DETECTOR_MEAN[0] as f64;
        assert!((red(1) - 40.0).abs() < 1e-3 && (red(3) - 120.0).abs() < 1e-3);
    }
}
