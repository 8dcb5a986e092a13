//! A second look of the landmark net at a face turned upright. face-api's net sees the
//! detector's upright box as it is; on a tilted face it places the points worse, and on a
//! tilted face with a mask far worse, as the mouth and jaw it leans on are hidden. On
//! face-api's demo photos with masks drawn, its eye corners on a face tilted by 45° lay a
//! quarter of the eye distance from where it puts them on the bare photo, and the face's crop
//! shrank by as much, cutting the mask's lower edge out of it. The second look turns the
//! same square by the eye line of the first, so the net sees the face as it was trained to.

use crate::detector::FaceBox;
use crate::input::Rgb32;
use crate::landmarks::{LandmarkNet, Landmarks68, LANDMARK_INPUT, LANDMARK_MEAN};
use anyhow::Result;
use image::RgbImage;
use unmask_kernels::KernelBackend;

/// A square of a photo turned by an angle about its centre: `origin` is the photo point of
/// the square's corner `(0, 0)`, `along` and `down` the photo steps of one square pixel to
/// the right and down. Coordinates are face-api's: pixel `i` lies at `i`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TurnedSquare {
    pub origin: [f64; 2],
    pub along: [f64; 2],
    pub down: [f64; 2],
    pub side: f64,
}

impl TurnedSquare {
    /// The square of side `max(width, height)` centred on `face`, turned so that a line at
    /// `angle` radians in the photo (the eye line) is level in the square.
    pub fn of(face: &FaceBox, angle: f64) -> Self {
        let side = face.width.max(face.height);
        let (sin, cos) = angle.sin_cos();
        let (along, down) = ([cos, sin], [-sin, cos]);
        let centre = [face.x + face.width / 2.0, face.y + face.height / 2.0];
        let half = side / 2.0;
        Self {
            origin: [
                centre[0] - half * (along[0] + down[0]),
                centre[1] - half * (along[1] + down[1]),
            ],
            along,
            down,
            side,
        }
    }

    /// The photo point of square position `(u, v)` (in square pixels).
    pub fn to_photo(&self, u: f64, v: f64) -> [f64; 2] {
        [
            self.origin[0] + u * self.along[0] + v * self.down[0],
            self.origin[1] + u * self.along[1] + v * self.down[1],
        ]
    }

    /// The square resized to `size` as the landmark net's input: output pixel `d` samples
    /// square position `d * side / size` bilinearly (TensorFlow's legacy rule, as face-api
    /// resizes its upright crops), black outside the photo (face-api pads with zeros).
    pub fn planes(&self, img: &RgbImage, size: usize, mean: [f32; 3]) -> Vec<f32> {
        let step = self.side / size as f64;
        Rgb32::from_fn(size, |x, y, c| {
            let [px, py] = self.to_photo(x as f64 * step, y as f64 * step);
            bilinear_or_zero(img, px, py, c)
        })
        .normalised(mean)
    }
}

fn bilinear_or_zero(img: &RgbImage, x: f64, y: f64, c: usize) -> f64 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |i: i64, j: i64| {
        if i < 0 || j < 0 || i >= w || j >= h {
            0.0
        } else {
            img.get_pixel(i as u32, j as u32).0[c] as f64
        }
    };
    let (i, j) = (x0 as i64, y0 as i64);
    let top = at(i, j) * (1.0 - fx) + at(i + 1, j) * fx;
    let bottom = at(i, j + 1) * (1.0 - fx) + at(i + 1, j + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// The angle of the line from the left eye's centre to the right eye's (points 36-41 and
/// 42-47), in radians: 0 for a level face.
pub fn eye_line_angle(points: &Landmarks68) -> f64 {
    let centre = |r: std::ops::Range<usize>| {
        let n = r.len() as f64;
        r.fold([0.0, 0.0], |a, i| {
            [a[0] + points[i][0] / n, a[1] + points[i][1] / n]
        })
    };
    let (left, right) = (centre(36..42), centre(42..48));
    (right[1] - left[1]).atan2(right[0] - left[0])
}

impl<B: KernelBackend> LandmarkNet<B> {
    /// The landmarks of each face, from a second look at its box turned upright by the eye
    /// line of the first ([`LandmarkNet::landmarks`]).
    pub fn landmarks_upright(&self, img: &RgbImage, faces: &[FaceBox]) -> Result<Vec<Landmarks68>> {
        let first = self.landmarks(img, faces)?;
        if faces.is_empty() {
            return Ok(first);
        }
        let squares: Vec<TurnedSquare> = faces
            .iter()
            .zip(&first)
            .map(|(f, p)| TurnedSquare::of(f, eye_line_angle(p)))
            .collect();
        let out = self.raw_outputs(
            squares
                .iter()
                .map(|s| s.planes(img, LANDMARK_INPUT, LANDMARK_MEAN)),
        )?;
        Ok(squares
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let raw = &out[i * 136..(i + 1) * 136];
                let mut points = [[0.0; 2]; 68];
                for (k, p) in points.iter_mut().enumerate() {
                    *p = s.to_photo(raw[2 * k] as f64 * s.side, raw[2 * k + 1] as f64 * s.side);
                }
                points
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f64, y: f64, width: f64, height: f64) -> FaceBox {
        FaceBox::at(x, y, width, height)
    }

    #[test]
    fn a_level_square_is_the_box_itself() {
        let s = TurnedSquare::of(&face(10.0, 20.0, 40.0, 40.0), 0.0);
        assert_eq!(s.to_photo(0.0, 0.0), [10.0, 20.0]);
        assert_eq!(s.to_photo(40.0, 40.0), [50.0, 60.0]);
    }

    #[test]
    fn a_turned_square_keeps_its_centre_and_levels_the_angle() {
        let angle = 30f64.to_radians();
        let s = TurnedSquare::of(&face(100.0, 50.0, 60.0, 80.0), angle);
        let centre = s.to_photo(40.0, 40.0);
        assert!((centre[0] - 130.0).abs() < 1e-9 && (centre[1] - 90.0).abs() < 1e-9);
        // A level step in the square is a step along the photo's line at `angle`.
        let [a, b] = [s.to_photo(0.0, 0.0), s.to_photo(1.0, 0.0)];
        assert!(((b[1] - a[1]).atan2(b[0] - a[0]) - angle).abs() < 1e-12);
    }

    #[test]
    fn the_eye_line_angle_follows_the_eyes() {
        let mut p = [[0.0; 2]; 68];
        for i in 36..42 {
            p[i] = [0.0, 0.0];
        }
        for i in 42..48 {
            p[i] = [10.0, 10.0];
        }
        assert!((eye_line_angle(&p) - std::f64::consts::FRAC_PI_4).abs() < 1e-12);
    }

    #[test]
    fn the_level_input_samples_the_photo_as_the_legacy_resize_does() {
        // A gradient photo; the square lies inside it, so the samples are exact lerps.
        let img = RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 3) as u8, (y * 3) as u8, 7]));
        let s = TurnedSquare::of(&face(8.0, 8.0, 32.0, 32.0), 0.0);
        let planes = s.planes(&img, 16, [0.0; 3]);
        // Output pixel (5, 3) samples square position (10, 6): photo (18, 14).
        let n = 16 * 16;
        assert!((planes[3 * 16 + 5] * 255.0 - 54.0).abs() < 1e-3);
        assert!((planes[n + 3 * 16 + 5] * 255.0 - 42.0).abs() < 1e-3);
        // Outside the photo the input is black: (0 - mean) / 255 with mean 0.
        let outside = TurnedSquare::of(&face(-40.0, -40.0, 16.0, 16.0), 0.0);
        assert!(outside.planes(&img, 4, [0.0; 3]).iter().all(|&v| v == 0.0));
    }
}
