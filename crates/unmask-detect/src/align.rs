//! FFHQ-style face alignment from 68 landmarks (the oriented square FFHQ cut its faces with:
//! centred a little below the eyes, turned with the eye line, sized by the eye distance and
//! the eye-to-mouth distance), the crop it defines, and pasting a processed crop back.

use crate::landmarks::Landmarks68;
use image::{GrayImage, RgbImage};

/// An oriented square in the image: crop pixel `(u, v)` (centre at `u + 0.5`) sits at image
/// point `origin + (u + 0.5) * ex + (v + 0.5) * ey`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alignment {
    pub origin: [f64; 2],
    pub ex: [f64; 2],
    pub ey: [f64; 2],
    pub size: u32,
}

fn mean(points: &[[f64; 2]]) -> [f64; 2] {
    let n = points.len() as f64;
    let (x, y) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p[0], b + p[1]));
    [x / n, y / n]
}

fn hypot(v: [f64; 2]) -> f64 {
    v[0].hypot(v[1])
}

impl Alignment {
    /// The FFHQ square of a face, sampled at `size` x `size`.
    pub fn ffhq(points: &Landmarks68, size: u32) -> Self {
        let eye_left = mean(&points[36..42]);
        let eye_right = mean(&points[42..48]);
        let eye_avg = [
            (eye_left[0] + eye_right[0]) / 2.0,
            (eye_left[1] + eye_right[1]) / 2.0,
        ];
        let eye_to_eye = [eye_right[0] - eye_left[0], eye_right[1] - eye_left[1]];
        let mouth_avg = [
            (points[48][0] + points[54][0]) / 2.0,
            (points[48][1] + points[54][1]) / 2.0,
        ];
        let eye_to_mouth = [mouth_avg[0] - eye_avg[0], mouth_avg[1] - eye_avg[1]];
        // The x axis: the eye line, corrected by the eye-to-mouth direction turned by 90°.
        let mut x = [
            eye_to_eye[0] + eye_to_mouth[1],
            eye_to_eye[1] - eye_to_mouth[0],
        ];
        let len = hypot(x).max(1e-9);
        let half = (hypot(eye_to_eye) * 2.0).max(hypot(eye_to_mouth) * 1.8);
        x = [x[0] / len * half, x[1] / len * half];
        let y = [-x[1], x[0]];
        let centre = [
            eye_avg[0] + eye_to_mouth[0] * 0.1,
            eye_avg[1] + eye_to_mouth[1] * 0.1,
        ];
        let s = size as f64;
        Self {
            origin: [centre[0] - x[0] - y[0], centre[1] - x[1] - y[1]],
            ex: [2.0 * x[0] / s, 2.0 * x[1] / s],
            ey: [2.0 * y[0] / s, 2.0 * y[1] / s],
            size,
        }
    }

    /// The same square scaled by `factor` about its centre (above 1 takes in more of the
    /// image), still sampled at `size`.
    pub fn zoomed(&self, factor: f64) -> Self {
        let half = self.size as f64 / 2.0;
        let centre = self.to_image(half, half);
        let (ex, ey) = (self.ex.map(|v| v * factor), self.ey.map(|v| v * factor));
        Self {
            origin: [
                centre[0] - half * (ex[0] + ey[0]),
                centre[1] - half * (ex[1] + ey[1]),
            ],
            ex,
            ey,
            size: self.size,
        }
    }

    /// The side of the square in image pixels.
    pub fn side(&self) -> f64 {
        hypot(self.ex) * self.size as f64
    }

    /// Image point of crop position `(u, v)` (continuous; pixel centres at `+0.5`).
    pub fn to_image(&self, u: f64, v: f64) -> [f64; 2] {
        [
            self.origin[0] + u * self.ex[0] + v * self.ey[0],
            self.origin[1] + u * self.ex[1] + v * self.ey[1],
        ]
    }

    /// Crop position of image point `(x, y)`.
    pub fn to_crop(&self, x: f64, y: f64) -> [f64; 2] {
        let (dx, dy) = (x - self.origin[0], y - self.origin[1]);
        let det = self.ex[0] * self.ey[1] - self.ex[1] * self.ey[0];
        [
            (dx * self.ey[1] - dy * self.ey[0]) / det,
            (self.ex[0] * dy - self.ex[1] * dx) / det,
        ]
    }

    /// The aligned crop (bilinear; outside the image the nearest edge pixel).
    pub fn crop(&self, img: &RgbImage) -> RgbImage {
        RgbImage::from_fn(self.size, self.size, |u, v| {
            let p = self.to_image(u as f64 + 0.5, v as f64 + 0.5);
            let mut out = [0u8; 3];
            for (c, o) in out.iter_mut().enumerate() {
                *o = sample(img.width(), img.height(), p[0] - 0.5, p[1] - 0.5, |x, y| {
                    img.get_pixel(x, y).0[c] as f64
                })
                .round()
                .clamp(0.0, 255.0) as u8;
            }
            image::Rgb(out)
        })
    }

    /// The crop's corners in the image: top-left, top-right, bottom-right, bottom-left.
    pub fn corners(&self) -> [[f64; 2]; 4] {
        let side = self.size as f64;
        [(0.0, 0.0), (side, 0.0), (side, side), (0.0, side)].map(|(u, v)| self.to_image(u, v))
    }

    /// The pixels of a `width` x `height` image the crop covers, `(x0, y0, x1, y1)` with the
    /// ends exclusive; `None` when it lies outside.
    pub fn bounds(&self, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
        let corners = self.corners();
        let lo = |k: usize| corners.iter().map(|c| c[k]).fold(f64::INFINITY, f64::min);
        let hi = |k: usize| {
            corners
                .iter()
                .map(|c| c[k])
                .fold(f64::NEG_INFINITY, f64::max)
        };
        let x0 = lo(0).floor().max(0.0) as u32;
        let y0 = lo(1).floor().max(0.0) as u32;
        let x1 = (hi(0).ceil().max(0.0) as u32).min(width);
        let y1 = (hi(1).ceil().max(0.0) as u32).min(height);
        (x0 < x1 && y0 < y1).then_some((x0, y0, x1, y1))
    }

    /// [`Alignment::crop`] of a one-channel image (a mask).
    pub fn crop_luma(&self, img: &GrayImage) -> GrayImage {
        GrayImage::from_fn(self.size, self.size, |u, v| {
            let p = self.to_image(u as f64 + 0.5, v as f64 + 0.5);
            let value = sample(img.width(), img.height(), p[0] - 0.5, p[1] - 0.5, |x, y| {
                img.get_pixel(x, y).0[0] as f64
            });
            image::Luma([value.round().clamp(0.0, 255.0) as u8])
        })
    }

    /// Blends `crop` back into `img` with per-crop-pixel weights `weight` (0..255). Image
    /// pixels whose weight is 0 are not touched, so outside the weighted region the photo is
    /// kept bit for bit. Returns the number of pixels changed.
    pub fn paste(&self, img: &mut RgbImage, crop: &RgbImage, weight: &GrayImage) -> usize {
        let Some((x0, y0, x1, y1)) = self.bounds(img.width(), img.height()) else {
            return 0;
        };
        let size = self.size;
        let mut changed = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                let [u, v] = self.to_crop(x as f64 + 0.5, y as f64 + 0.5);
                let (u, v) = (u - 0.5, v - 0.5);
                if u < -0.5 || v < -0.5 || u > size as f64 - 0.5 || v > size as f64 - 0.5 {
                    continue;
                }
                let a = sample(size, size, u, v, |i, j| weight.get_pixel(i, j).0[0] as f64) / 255.0;
                if a <= 0.0 {
                    continue;
                }
                let px = img.get_pixel_mut(x, y);
                for c in 0..3 {
                    let new = sample(size, size, u, v, |i, j| crop.get_pixel(i, j).0[c] as f64);
                    let old = px.0[c] as f64;
                    px.0[c] = (old + (new - old) * a).round().clamp(0.0, 255.0) as u8;
                }
                changed += 1;
            }
        }
        changed
    }
}

/// The mouth-and-chin region of a face in its aligned crop: the jaw line from below the
/// ears (points 2 to 14) closed along the bottom of the nose (35 to 31). Every face mask
/// covers it; a segmentation that covers little of it is not a mask.
pub fn mouth_and_chin(align: &Alignment, points: &Landmarks68) -> GrayImage {
    landmark_polygon(align, points, (2..=14).chain([35, 34, 33, 32, 31]))
}

/// Where a face mask can lie in a face's aligned crop: the whole jaw line (points 0 to 16)
/// closed at the top of the nose bridge (27), and all below it down to the crop's edge, grown
/// by `margin` pixels. A mask sits on the face; what a segmenter marks beside or above it is
/// background, hair or a hand. Below stays open: on a masked face the landmark net puts the
/// chin inside the mask, and a cut there leaves the mask's lower edge in the photo.
pub fn lower_face(align: &Alignment, points: &Landmarks68, margin: u8) -> GrayImage {
    let mut jaw = landmark_polygon(align, points, (0..=16).chain([27]));
    for x in 0..jaw.width() {
        if let Some(top) = (0..jaw.height()).find(|&y| jaw.get_pixel(x, y).0[0] == 255) {
            for y in top..jaw.height() {
                jaw.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
    if margin == 0 {
        return jaw;
    }
    imageproc::morphology::dilate(&jaw, imageproc::distance_transform::Norm::L2, margin)
}

/// The filled polygon through the landmarks `order` (255 inside) at the crop's size.
fn landmark_polygon(
    align: &Alignment,
    points: &Landmarks68,
    order: impl Iterator<Item = usize>,
) -> GrayImage {
    let mut polygon: Vec<imageproc::point::Point<i32>> = Vec::new();
    for i in order {
        let [u, v] = align.to_crop(points[i][0], points[i][1]);
        let p = imageproc::point::Point::new(u.round() as i32, v.round() as i32);
        // imageproc refuses a polygon whose first and last points coincide.
        if polygon.last() != Some(&p) && polygon.first() != Some(&p) {
            polygon.push(p);
        }
    }
    let mut region = GrayImage::new(align.size, align.size);
    if polygon.len() >= 3 {
        imageproc::drawing::draw_polygon_mut(&mut region, &polygon, image::Luma([255]));
    }
    region
}

/// Bilinear sample at continuous pixel position `(x, y)` (pixel `i` at `x = i`), clamped to
/// the edges.
fn sample(w: u32, h: u32, x: f64, y: f64, at: impl Fn(u32, u32) -> f64) -> f64 {
    let cx = x.clamp(0.0, (w - 1) as f64);
    let cy = y.clamp(0.0, (h - 1) as f64);
    let (x0, y0) = (cx.floor() as u32, cy.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (cx - x0 as f64, cy - y0 as f64);
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// A soft blending weight from a binary mask: grown by `grow` pixels, then blurred, so the
/// seam fades; exactly 0 far from the mask.
pub fn feathered(mask: &GrayImage, grow: u8, blur_sigma: f32) -> GrayImage {
    let grown =
        imageproc::morphology::dilate(mask, imageproc::distance_transform::Norm::LInf, grow);
    let blurred = imageproc::filter::gaussian_blur_f32(&grown, blur_sigma.max(0.1));
    // The blur spreads only as far as its kernel, but keep a floor against rounding dust.
    GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        let v = blurred.get_pixel(x, y).0[0];
        image::Luma([if v < 2 { 0 } else { v }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face_at(cx: f64, cy: f64, scale: f64, angle: f64) -> Landmarks68 {
        // A stylised face: eyes at (-1, 0) and (1, 0), mouth corners at (-0.8, 2) and (0.8, 2).
        let mut p = [[0.0; 2]; 68];
        let place = |x: f64, y: f64| {
            let (s, c) = angle.sin_cos();
            [cx + scale * (c * x - s * y), cy + scale * (s * x + c * y)]
        };
        for i in 36..42 {
            p[i] = place(-1.0, 0.0);
        }
        for i in 42..48 {
            p[i] = place(1.0, 0.0);
        }
        p[48] = place(-0.8, 2.0);
        p[54] = place(0.8, 2.0);
        p
    }

    #[test]
    fn a_zoomed_crop_keeps_its_centre_and_angle_and_takes_in_more() {
        let align = Alignment::ffhq(&face_at(300.0, 200.0, 20.0, 0.4), 256);
        let wide = align.zoomed(1.25);
        let (c, w) = (align.to_image(128.0, 128.0), wide.to_image(128.0, 128.0));
        assert!(
            (c[0] - w[0]).abs() < 1e-9 && (c[1] - w[1]).abs() < 1e-9,
            "{c:?} {w:?}"
        );
        assert!((wide.side() - 1.25 * align.side()).abs() < 1e-9);
        assert_eq!(wide.size, align.size);
        let angle = |a: &Alignment| a.ex[1].atan2(a.ex[0]);
        assert!((angle(&wide) - angle(&align)).abs() < 1e-12);
        // The old crop's corners lie inside the new one, a tenth of its side from the edges.
        for corner in align.corners() {
            let [u, v] = wide.to_crop(corner[0], corner[1]);
            for t in [u, v] {
                assert!((25.0..=231.0).contains(&t), "{u} {v}");
            }
        }
    }

    #[test]
    fn mouth_and_chin_lies_below_the_nose_inside_the_jaw() {
        // Jaw on the lower half of a circle of radius 60 around (128, 110); nose bottom on
        // the centre line; eyes above it.
        let mut p = face_at(128.0, 80.0, 25.0, 0.0);
        for (i, q) in p.iter_mut().take(17).enumerate() {
            let t = std::f64::consts::PI * (1.0 - i as f64 / 16.0);
            *q = [128.0 + 60.0 * t.cos(), 110.0 + 60.0 * t.sin()];
        }
        for (k, i) in (31..=35).enumerate() {
            p[i] = [108.0 + 10.0 * k as f64, 110.0];
        }
        let align = Alignment {
            origin: [0.0, 0.0],
            ex: [1.0, 0.0],
            ey: [0.0, 1.0],
            size: 256,
        };
        let region = mouth_and_chin(&align, &p);
        let inside = |x: u32, y: u32| region.get_pixel(x, y).0[0] == 255;
        assert!(inside(128, 140) && inside(128, 165), "mouth and chin");
        assert!(!inside(128, 80) && !inside(128, 100), "eyes and nose");
        assert!(!inside(128, 175) && !inside(40, 140), "outside the jaw");
        let area = region.pixels().filter(|q| q.0[0] == 255).count() as f64;
        // Points 2..14 and the nose line leave out the top corners of the half disc (about
        // 0.83 of it by hand).
        let half_disc = std::f64::consts::PI * 60.0 * 60.0 / 2.0;
        assert!(area > 0.78 * half_disc && area < 0.88 * half_disc, "{area}");
    }

    #[test]
    fn lower_face_holds_the_jaw_and_below_and_grows_by_the_margin() {
        // Jaw on the lower half of a circle of radius 60 around (128, 110); nose bridge top
        // on the centre line at the circle's height.
        let mut p = face_at(128.0, 80.0, 25.0, 0.0);
        for (i, q) in p.iter_mut().take(17).enumerate() {
            let t = std::f64::consts::PI * (1.0 - i as f64 / 16.0);
            *q = [128.0 + 60.0 * t.cos(), 110.0 + 60.0 * t.sin()];
        }
        p[27] = [128.0, 110.0];
        let align = Alignment {
            origin: [0.0, 0.0],
            ex: [1.0, 0.0],
            ey: [0.0, 1.0],
            size: 256,
        };
        let tight = lower_face(&align, &p, 0);
        let grown = lower_face(&align, &p, 10);
        let inside = |r: &GrayImage, x: u32, y: u32| r.get_pixel(x, y).0[0] == 255;
        assert!(inside(&tight, 128, 160) && inside(&tight, 75, 115), "jaw");
        assert!(
            inside(&tight, 128, 250) && inside(&tight, 75, 250),
            "below the jaw"
        );
        assert!(
            !inside(&tight, 128, 100) && !inside(&tight, 60, 115),
            "above and beside"
        );
        assert!(
            !inside(&tight, 60, 250) && !inside(&tight, 196, 250),
            "beside, low down"
        );
        assert!(
            inside(&grown, 128, 101) && !inside(&grown, 128, 99),
            "10 px above"
        );
        assert!(
            inside(&grown, 60, 200) && !inside(&grown, 56, 200),
            "10 px beside"
        );
        assert!(!inside(&grown, 128, 80), "eyes");
        // The half disc and the band below it, 120 px wide from y = 110 down to 256, the top
        // corners of that band outside the disc included.
        let area = |r: &GrayImage| r.pixels().filter(|q| q.0[0] == 255).count() as f64;
        let expected = 121.0 * 146.0;
        assert!(
            (area(&tight) / expected - 1.0).abs() < 0.05,
            "{}",
            area(&tight)
        );
    }

    #[test]
    fn ffhq_square_follows_the_face_and_inverts() {
        let a = Alignment::ffhq(&face_at(200.0, 150.0, 20.0, 0.0), 128);
        // Eye distance 40 -> half side 80; eye-to-mouth 40 * 1.8 = 72 is smaller.
        assert!((a.side() - 160.0).abs() < 1e-9, "{}", a.side());
        let c = a.to_image(64.0, 64.0);
        assert!(
            (c[0] - 200.0).abs() < 1e-9 && (c[1] - 154.0).abs() < 1e-9,
            "{c:?}"
        );
        let turned = Alignment::ffhq(&face_at(200.0, 150.0, 20.0, 0.5), 128);
        assert!((turned.ex[1] / turned.ex[0] - 0.5f64.tan()).abs() < 1e-9);
        let back = turned.to_crop(
            turned.to_image(10.0, 99.0)[0],
            turned.to_image(10.0, 99.0)[1],
        );
        assert!((back[0] - 10.0).abs() < 1e-9 && (back[1] - 99.0).abs() < 1e-9);
    }

    #[test]
    fn paste_changes_only_weighted_pixels() {
        let img = RgbImage::from_fn(300, 260, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
        });
        let a = Alignment::ffhq(&face_at(150.0, 120.0, 15.0, 0.3), 64);
        let crop = a.crop(&img);
        let white = RgbImage::from_pixel(64, 64, image::Rgb([255, 255, 255]));
        let mut mask = GrayImage::new(64, 64);
        for y in 40..56 {
            for x in 20..44 {
                mask.put_pixel(x, y, image::Luma([255]));
            }
        }
        let weight = feathered(&mask, 2, 1.5);
        let mut out = img.clone();
        let changed = a.paste(&mut out, &white, &weight);
        assert!(changed > 0);
        let differing = img
            .pixels()
            .zip(out.pixels())
            .filter(|(p, q)| p != q)
            .count();
        assert!(differing <= changed && differing > 0);
        // The crop of an untouched area matches the photo (sampling round trip).
        assert_eq!(crop.dimensions(), (64, 64));
        // Far from the mask (the crop's top rows map to the forehead) nothing changed.
        let top = a.to_image(32.0, 2.0);
        let (x, y) = (top[0] as u32, top[1] as u32);
        assert_eq!(img.get_pixel(x, y), out.get_pixel(x, y));
    }
}
