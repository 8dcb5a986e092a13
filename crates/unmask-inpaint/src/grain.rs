//! Grain matching at paste-back. The GAN fills at its own size (64 px in the CPU presets) and
//! the fill is scaled up to the photo's crop, so inside the hole it is smoother than the skin,
//! the sensor noise and the JPEG texture around it, and reads as a blurred patch. The hole gets
//! noise with the spread of the fine detail of a ring around it, per channel.

use crate::hole::grow_mask;
use image::{GrayImage, RgbImage};
use unmask_core::rng::sample_unit;

/// Width of the ring around the hole whose detail is measured, at the crop's resolution.
pub const RING_PIXELS: u32 = 6;
/// The blur whose residual is the fine detail (a Gaussian's sigma, in pixels).
const DETAIL_SIGMA: f32 = 1.0;
/// MAD to standard deviation for a normal distribution: robust to edges in the ring (hair, the
/// jaw line, a rim the segmenter missed), which a plain standard deviation would count.
const MAD_TO_SIGMA: f32 = 1.4826;
/// The fewest ring pixels to measure from; below this the fill is left as it is.
const MIN_RING: usize = 64;

/// Adds to `fill` inside `hole` (255 = filled) Gaussian noise with, per channel, the robust
/// spread of `image - blur(image)` over the ring of [`RING_PIXELS`] around the hole. `image`
/// is what the hole was cut from (its pixels outside the hole are the ones measured). The
/// noise of pixel `i` depends on `(seed, i)` alone. Returns the spreads used (0-255 scale),
/// `None` when the ring is too small to measure.
pub fn match_grain(
    fill: &mut RgbImage,
    image: &RgbImage,
    hole: &GrayImage,
    seed: u64,
) -> Option<[f32; 3]> {
    let spread = detail_spread(image, hole)?;
    let width = fill.width();
    for (i, (px, m)) in fill.pixels_mut().zip(hole.pixels()).enumerate() {
        if m.0[0] <= 127 {
            continue;
        }
        let (x, y) = (i as u32 % width, i as u32 / width);
        for (c, value) in px.0.iter_mut().enumerate() {
            let index = ((y as u64) << 34) | ((x as u64) << 2) | c as u64;
            let noise = standard_normal(seed, index) * spread[c];
            *value = (*value as f32 + noise).round().clamp(0.0, 255.0) as u8;
        }
    }
    Some(spread)
}

/// Per-channel `MAD_TO_SIGMA * median(|residual - median|)` of the fine detail over the ring.
fn detail_spread(image: &RgbImage, hole: &GrayImage) -> Option<[f32; 3]> {
    let grown = grow_mask(hole, RING_PIXELS);
    let blurred = imageproc::filter::gaussian_blur_f32(image, DETAIL_SIGMA);
    let mut residuals: [Vec<f32>; 3] = Default::default();
    for ((a, b), (g, h)) in image
        .pixels()
        .zip(blurred.pixels())
        .zip(grown.pixels().zip(hole.pixels()))
    {
        if g.0[0] > 127 && h.0[0] <= 127 {
            for c in 0..3 {
                residuals[c].push(a.0[c] as f32 - b.0[c] as f32);
            }
        }
    }
    if residuals[0].len() < MIN_RING {
        return None;
    }
    Some(residuals.map(|mut r| {
        let centre = median(&mut r);
        let mut deviations: Vec<f32> = r.iter().map(|v| (v - centre).abs()).collect();
        MAD_TO_SIGMA * median(&mut deviations)
    }))
}

fn median(values: &mut [f32]) -> f32 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

/// A standard normal number from `(seed, index)` alone (Box-Muller on two uniforms).
fn standard_normal(seed: u64, index: u64) -> f32 {
    let u1 = sample_unit(seed, "grain", 2 * index).max(f64::MIN_POSITIVE);
    let u2 = sample_unit(seed, "grain", 2 * index + 1);
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_hole(side: u32, from: u32, to: u32) -> GrayImage {
        GrayImage::from_fn(side, side, |x, y| {
            let inside = (from..to).contains(&x) && (from..to).contains(&y);
            image::Luma([if inside { 255 } else { 0 }])
        })
    }

    /// A flat grey image with noise of standard deviation `sigma` outside the hole.
    fn noisy(side: u32, sigma: f32, seed: u64) -> RgbImage {
        RgbImage::from_fn(side, side, |x, y| {
            let i = (y * side + x) as u64;
            image::Rgb(
                [0, 1, 2].map(|c| (128.0 + sigma * standard_normal(seed, 3 * i + c)).round() as u8),
            )
        })
    }

    #[test]
    fn the_fill_takes_the_grain_of_the_ring_and_nothing_outside_changes() {
        let hole = square_hole(64, 20, 44);
        let image = noisy(64, 6.0, 1);
        let flat = RgbImage::from_pixel(64, 64, image::Rgb([128; 3]));
        let mut fill = flat.clone();
        let spread = match_grain(&mut fill, &image, &hole, 3).unwrap();
        // White noise loses part of its spread to the blur's residual (1 - weight of the centre
        // tap); the measured spread is what the fill then gets.
        for s in spread {
            assert!(s > 3.0 && s < 7.0, "{spread:?}");
        }
        let inside: Vec<f32> = fill
            .pixels()
            .zip(hole.pixels())
            .filter(|(_, m)| m.0[0] > 127)
            .map(|(p, _)| p.0[0] as f32)
            .collect();
        let mean = inside.iter().sum::<f32>() / inside.len() as f32;
        let sd =
            (inside.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / inside.len() as f32).sqrt();
        assert!((mean - 128.0).abs() < 1.0, "{mean}");
        assert!(
            (sd - spread[0]).abs() < 0.15 * spread[0],
            "{sd} vs {spread:?}"
        );
        for ((a, b), m) in fill.pixels().zip(flat.pixels()).zip(hole.pixels()) {
            if m.0[0] <= 127 {
                assert_eq!(a, b);
            }
        }
        // The same seed gives the same grain; another seed another.
        let mut again = flat.clone();
        match_grain(&mut again, &image, &hole, 3);
        assert_eq!(again, fill);
        let mut other = flat.clone();
        match_grain(&mut other, &image, &hole, 4);
        assert_ne!(other, fill);
    }

    #[test]
    fn a_smooth_ring_adds_no_grain_and_a_hole_without_a_ring_is_left_alone() {
        let hole = square_hole(64, 20, 44);
        let flat = RgbImage::from_pixel(64, 64, image::Rgb([90; 3]));
        let mut fill = flat.clone();
        assert_eq!(match_grain(&mut fill, &flat, &hole, 0), Some([0.0; 3]));
        assert_eq!(fill, flat);
        let everything = square_hole(64, 0, 64);
        assert_eq!(match_grain(&mut fill, &flat, &everything, 0), None);
    }
}
