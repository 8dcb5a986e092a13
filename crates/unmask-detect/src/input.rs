//! The detector's input as face-api builds it: the photo zero-padded at the bottom or right to
//! a square, resized with TensorFlow's legacy bilinear rule (no half-pixel centres, which
//! burn's `interpolate` does not offer), then `(x - mean) / 255` per channel.

use image::RgbImage;

/// Per-channel means (R, G, B) face-api subtracts before the detector.
pub const DETECTOR_MEAN: [f64; 3] = [117.001, 114.697, 97.404];

/// `img` padded to a square and resized to `size` x `size`, normalised, as channel planes
/// (`[3, size, size]` flattened).
pub fn detector_planes(img: &RgbImage, size: usize) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let side = w.max(h);
    let at = |x: usize, y: usize, c: usize| -> f64 {
        if x < w && y < h {
            img.get_pixel(x as u32, y as u32).0[c] as f64
        } else {
            0.0
        }
    };
    let scale = side as f64 / size as f64;
    let axis = |dst: usize| -> (usize, usize, f64) {
        let src = dst as f64 * scale;
        let lo = src.floor().max(0.0) as usize;
        let hi = (src.ceil() as usize).min(side - 1);
        (lo, hi, src - lo as f64)
    };
    let mut planes = vec![0.0f32; 3 * size * size];
    for y in 0..size {
        let (y0, y1, fy) = axis(y);
        for x in 0..size {
            let (x0, x1, fx) = axis(x);
            for c in 0..3 {
                let top = at(x0, y0, c) + (at(x1, y0, c) - at(x0, y0, c)) * fx;
                let bottom = at(x0, y1, c) + (at(x1, y1, c) - at(x0, y1, c)) * fx;
                let value = top + (bottom - top) * fy;
                // In f32, as tfjs stores the resized image and normalises it.
                planes[(c * size + y) * size + x] =
                    (value as f32 - DETECTOR_MEAN[c] as f32) / 255.0;
            }
        }
    }
    planes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_goes_bottom_right_and_corners_are_sampled_exactly() {
        // 4x2 image: the square is 4x4 with two zero rows at the bottom.
        let img = RgbImage::from_fn(4, 2, |x, y| image::Rgb([(10 * x + y) as u8, 0, 0]));
        let p = detector_planes(&img, 4);
        let red = |x: usize, y: usize| p[y * 4 + x] as f64 * 255.0 + DETECTOR_MEAN[0];
        assert!((red(0, 0) - 0.0).abs() < 1e-3);
        assert!((red(3, 1) - 31.0).abs() < 1e-3);
        assert!(
            (red(2, 3) - 0.0).abs() < 1e-3,
            "padding is zero before the mean"
        );
        // Halving: legacy rule samples source pixel 2*x exactly.
        let big = RgbImage::from_fn(8, 8, |x, _| image::Rgb([(20 * x) as u8, 0, 0]));
        let p = detector_planes(&big, 4);
        let red = |x: usize| p[x] as f64 * 255.0 + DETECTOR_MEAN[0];
        assert!((red(1) - 40.0).abs() < 1e-3 && (red(3) - 120.0).abs() < 1e-3);
    }
}
