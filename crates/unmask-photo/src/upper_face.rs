//! The lower face's landmarks placed from the upper face, for the GAN's landmark guide.
//! face-api's landmark net was trained on bare faces: under a mask it pulls the mouth up
//! towards the nose and the jaw into the mask, while the eyes and brows stay where they were.
//! On face-api's demo photos with masks drawn, the mean face (dlib's, not fitted to those
//! photos) fitted to the eyes and brows put the mouth 0.15 of the eye distance from where the
//! net puts it on the bare photo (median over 21 faces), against 0.37 for the net on the
//! masked photo; the jaw 0.27 against 0.37, the lower nose 0.16 against 0.26.

use unmask_detect::Landmarks68;
use unmask_masks::MEAN_FACE;

/// Landmarks the mean face is fitted to: the brows (17..27) and the eyes (36..48).
const UPPER_FACE: [std::ops::Range<usize>; 2] = [17..27, 36..48];

/// Landmarks replaced by the fitted mean face: the jaw (0..17), the nose below its bridge
/// (31..36) and the mouth (48..68).
const LOWER_FACE: [std::ops::Range<usize>; 3] = [0..17, 31..36, 48..68];

/// `points` with the jaw, lower nose and mouth replaced by the mean face's, fitted to the
/// brows and eyes by the least-squares similarity (rotation, scale and shift).
pub fn lower_face_from_upper(points: &Landmarks68) -> Landmarks68 {
    let upper: Vec<usize> = UPPER_FACE.iter().cloned().flatten().collect();
    let fit = Similarity::fit(
        &upper.iter().map(|&i| mean_point(i)).collect::<Vec<_>>(),
        &upper.iter().map(|&i| points[i]).collect::<Vec<_>>(),
    );
    let mut out = *points;
    for i in LOWER_FACE.iter().cloned().flatten() {
        out[i] = fit.apply(mean_point(i));
    }
    out
}

fn mean_point(i: usize) -> [f64; 2] {
    MEAN_FACE[i].map(f64::from)
}

/// `p -> a * (p - from) + to` with `a` a complex number: a rotation and a scale.
struct Similarity {
    a: [f64; 2],
    from: [f64; 2],
    to: [f64; 2],
}

impl Similarity {
    /// The similarity that maps `src` onto `dst` with the least squared error.
    fn fit(src: &[[f64; 2]], dst: &[[f64; 2]]) -> Self {
        let centre = |ps: &[[f64; 2]]| {
            let n = ps.len() as f64;
            ps.iter()
                .fold([0.0; 2], |c, p| [c[0] + p[0] / n, c[1] + p[1] / n])
        };
        let (from, to) = (centre(src), centre(dst));
        // a = sum(conj(s) d) / sum(|s|^2) over the centred points.
        let (mut re, mut im, mut norm) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (s[0] - from[0], s[1] - from[1]);
            let (dx, dy) = (d[0] - to[0], d[1] - to[1]);
            re += sx * dx + sy * dy;
            im += sx * dy - sy * dx;
            norm += sx * sx + sy * sy;
        }
        let norm = norm.max(1e-12);
        Self {
            a: [re / norm, im / norm],
            from,
            to,
        }
    }

    fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let (x, y) = (p[0] - self.from[0], p[1] - self.from[1]);
        [
            self.to[0] + self.a[0] * x - self.a[1] * y,
            self.to[1] + self.a[1] * x + self.a[0] * y,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mean face turned by 20 degrees, scaled by 150 and moved.
    fn moved_mean_face() -> Landmarks68 {
        let (s, c) = 20f64.to_radians().sin_cos();
        std::array::from_fn(|i| {
            let [x, y] = mean_point(i);
            [
                300.0 + 150.0 * (c * x - s * y),
                80.0 + 150.0 * (s * x + c * y),
            ]
        })
    }

    #[test]
    fn a_moved_mean_face_comes_back_unchanged() {
        let face = moved_mean_face();
        let out = lower_face_from_upper(&face);
        for (a, b) in face.iter().zip(&out) {
            assert!((a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
        }
    }

    #[test]
    fn the_mouth_follows_the_eyes_not_the_net() {
        let face = moved_mean_face();
        // A mouth and jaw the net pulled up by 40 px are put back.
        let mut pulled = face;
        for i in LOWER_FACE.iter().cloned().flatten() {
            pulled[i][1] -= 40.0;
        }
        let out = lower_face_from_upper(&pulled);
        for i in LOWER_FACE.iter().cloned().flatten() {
            assert!((out[i][1] - face[i][1]).abs() < 1e-9, "point {i}");
        }
        // The nose bridge and the upper face are the net's own.
        for i in (17..31).chain(36..48) {
            assert_eq!(out[i], pulled[i]);
        }
        // Moving the whole upper face moves the mouth with it.
        let mut shifted = face;
        for p in shifted.iter_mut() {
            p[0] += 25.0;
        }
        let out = lower_face_from_upper(&shifted);
        assert!((out[62][0] - face[62][0] - 25.0).abs() < 1e-9);
    }
}
