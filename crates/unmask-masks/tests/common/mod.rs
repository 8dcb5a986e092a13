//! Shared fixtures: a plain synthetic face image and landmark helpers.
#![allow(dead_code)]

use image::{Rgb, RgbImage};
use unmask_masks::{mean_face, Point};

/// A skin-coloured face ellipse with darker eye and mouth marks on grey, around landmarks
/// `lm`, so that brightness matching has something to measure.
pub fn face_image(w: u32, h: u32, lm: &[Point; 68]) -> RgbImage {
    let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for p in lm {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let c = [
        (lo[0] + hi[0]) / 2.0,
        (lo[1] + hi[1]) / 2.0 - 0.1 * (hi[1] - lo[1]),
    ];
    let r = [(hi[0] - lo[0]) / 2.0 * 1.02, (hi[1] - lo[1]) / 2.0 * 1.2];
    let near = |x: f32, y: f32, idx: std::ops::Range<usize>, rad: f32| {
        lm[idx]
            .iter()
            .any(|p| (p[0] - x).powi(2) + (p[1] - y).powi(2) < rad * rad)
    };
    let rad = (hi[0] - lo[0]) * 0.03;
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let d = ((fx - c[0]) / r[0]).powi(2) + ((fy - c[1]) / r[1]).powi(2);
        if d > 1.0 {
            let g = 120 + ((x + y) % 16) as u8;
            return Rgb([g, g, g + 6]);
        }
        if near(fx, fy, 36..48, rad) {
            return Rgb([60, 45, 40]);
        }
        if near(fx, fy, 48..60, rad) {
            return Rgb([170, 80, 80]);
        }
        let shade = 1.0 - 0.25 * d;
        Rgb([
            (224.0 * shade) as u8,
            (172.0 * shade) as u8,
            (140.0 * shade) as u8,
        ])
    })
}

/// The mean face, `width` pixels wide, centred in a `size` x `size` image.
pub fn centred_face(size: u32, width: f32) -> [Point; 68] {
    mean_face([size as f32 / 2.0, size as f32 / 2.0], width)
}

/// Rotates landmarks by `degrees` about `c`.
pub fn rotate(lm: &[Point; 68], c: Point, degrees: f32) -> [Point; 68] {
    let (s, co) = degrees.to_radians().sin_cos();
    lm.map(|p| {
        let (x, y) = (p[0] - c[0], p[1] - c[1]);
        [c[0] + co * x - s * y, c[1] + s * x + co * y]
    })
}

/// A crude yaw: the nose bridge leans and the nose tip (30-35) moves `dx` pixels sideways,
/// which is what the tilt measure reacts to.
pub fn shift_nose(lm: &[Point; 68], dx: f32) -> [Point; 68] {
    let mut out = *lm;
    for (i, p) in out.iter_mut().enumerate().take(36).skip(28) {
        p[0] += dx * if i < 30 { (i - 27) as f32 / 3.0 } else { 1.0 };
    }
    out
}
