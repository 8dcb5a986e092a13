//! Plane-to-plane projective maps fitted to point correspondences.

use serde::{Deserialize, Serialize};

use crate::error::MaskError;
use crate::linalg::least_squares;
use crate::Point;

/// A 3x3 projective map, row-major, acting on `[x, y, 1]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    pub const IDENTITY: Homography = Homography([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);

    /// Least-squares fit of `src[i] -> dst[i]` (at least 4 pairs).
    ///
    /// Both point sets are Hartley-normalised (centroid at the origin, mean distance sqrt 2)
    /// before the linear (DLT) system with `h33 = 1` is solved, which keeps the normal equations
    /// well conditioned whatever the pixel scale. Collinear, coincident or non-finite points give
    /// [`MaskError::SingularHomography`].
    pub fn fit(src: &[Point], dst: &[Point]) -> Result<Self, MaskError> {
        if src.len() != dst.len() || src.len() < 4 {
            return Err(MaskError::SingularHomography);
        }
        let to_f64 = |p: &Point| [p[0] as f64, p[1] as f64];
        let src: Vec<[f64; 2]> = src.iter().map(to_f64).collect();
        let dst: Vec<[f64; 2]> = dst.iter().map(to_f64).collect();
        let (ts, src_n) = normalise(&src).ok_or(MaskError::SingularHomography)?;
        let (td, dst_n) = normalise(&dst).ok_or(MaskError::SingularHomography)?;

        let mut m = Vec::with_capacity(src.len() * 16);
        let mut y = Vec::with_capacity(src.len() * 2);
        for (s, d) in src_n.iter().zip(&dst_n) {
            let ([x, yy], [u, v]) = (*s, *d);
            m.extend_from_slice(&[x, yy, 1.0, 0.0, 0.0, 0.0, -x * u, -yy * u]);
            y.push(u);
            m.extend_from_slice(&[0.0, 0.0, 0.0, x, yy, 1.0, -x * v, -yy * v]);
            y.push(v);
        }
        let h = least_squares(&m, &y, 8, 1e-10).ok_or(MaskError::SingularHomography)?;
        let hn = Homography([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]);
        // H = Td^-1 * Hn * Ts
        let td_inv = Homography([
            1.0 / td[0],
            0.0,
            td[1],
            0.0,
            1.0 / td[0],
            td[2],
            0.0,
            0.0,
            1.0,
        ]);
        let ts_m = Homography([
            ts[0],
            0.0,
            -ts[0] * ts[1],
            0.0,
            ts[0],
            -ts[0] * ts[2],
            0.0,
            0.0,
            1.0,
        ]);
        td_inv.compose(&hn).compose(&ts_m).normalised()
    }

    /// Least-squares affine fit of `src[i] -> dst[i]` (at least 3 pairs): the fallback when the
    /// full projective fit bends the template's far corners (ear loops, straps) too much.
    pub fn fit_affine(src: &[Point], dst: &[Point]) -> Result<Self, MaskError> {
        if src.len() != dst.len() || src.len() < 3 {
            return Err(MaskError::SingularHomography);
        }
        let mut m = Vec::with_capacity(src.len() * 3);
        let (mut u, mut v) = (Vec::with_capacity(src.len()), Vec::with_capacity(src.len()));
        for (s, d) in src.iter().zip(dst) {
            m.extend_from_slice(&[s[0] as f64, s[1] as f64, 1.0]);
            u.push(d[0] as f64);
            v.push(d[1] as f64);
        }
        let a = least_squares(&m, &u, 3, 1e-10).ok_or(MaskError::SingularHomography)?;
        let b = least_squares(&m, &v, 3, 1e-10).ok_or(MaskError::SingularHomography)?;
        let h = Homography([a[0], a[1], a[2], b[0], b[1], b[2], 0.0, 0.0, 1.0]);
        if !(h.jacobian_det([0.0, 0.0]).abs() > 1e-9) {
            return Err(MaskError::SingularHomography);
        }
        Ok(h)
    }

    /// `self * other`: apply `other` first.
    pub fn compose(&self, other: &Homography) -> Homography {
        let (a, b) = (&self.0, &other.0);
        let mut r = [0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                r[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * b[k * 3 + j]).sum();
            }
        }
        Homography(r)
    }

    /// Maps a point. Points on the line sent to infinity come out non-finite.
    #[inline]
    pub fn apply(&self, p: Point) -> Point {
        let h = &self.0;
        let (x, y) = (p[0] as f64, p[1] as f64);
        let iw = 1.0 / (h[6] * x + h[7] * y + h[8]);
        [
            ((h[0] * x + h[1] * y + h[2]) * iw) as f32,
            ((h[3] * x + h[4] * y + h[5]) * iw) as f32,
        ]
    }

    /// The projective denominator at `p`; its sign tells on which side of the line at infinity
    /// `p` lies.
    pub fn denominator(&self, p: Point) -> f64 {
        self.0[6] * p[0] as f64 + self.0[7] * p[1] as f64 + self.0[8]
    }

    /// Determinant of the map's Jacobian at `p`: the local area scale (negative if mirrored).
    pub fn jacobian_det(&self, p: Point) -> f64 {
        let h = &self.0;
        let (x, y) = (p[0] as f64, p[1] as f64);
        let w = h[6] * x + h[7] * y + h[8];
        let det3 = h[0] * (h[4] * h[8] - h[5] * h[7]) - h[1] * (h[3] * h[8] - h[5] * h[6])
            + h[2] * (h[3] * h[7] - h[4] * h[6]);
        det3 / (w * w * w)
    }

    /// The inverse map.
    pub fn inverse(&self) -> Result<Homography, MaskError> {
        let h = &self.0;
        let adj = [
            h[4] * h[8] - h[5] * h[7],
            h[2] * h[7] - h[1] * h[8],
            h[1] * h[5] - h[2] * h[4],
            h[5] * h[6] - h[3] * h[8],
            h[0] * h[8] - h[2] * h[6],
            h[2] * h[3] - h[0] * h[5],
            h[3] * h[7] - h[4] * h[6],
            h[1] * h[6] - h[0] * h[7],
            h[0] * h[4] - h[1] * h[3],
        ];
        let det = h[0] * adj[0] + h[1] * adj[3] + h[2] * adj[6];
        let scale = h.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if !(det.is_finite() && det.abs() > 1e-14 * scale * scale * scale) {
            return Err(MaskError::SingularHomography);
        }
        Homography(adj.map(|v| v / det)).normalised()
    }

    /// Scales so that `h33 = 1` when that is well defined, else to unit max-norm.
    fn normalised(self) -> Result<Homography, MaskError> {
        let scale = self.0.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if !(scale.is_finite() && scale > 0.0) {
            return Err(MaskError::SingularHomography);
        }
        let k = if self.0[8].abs() > 1e-12 * scale {
            self.0[8]
        } else {
            scale
        };
        let h = self.0.map(|v| v / k);
        if h.iter().all(|v| v.is_finite()) {
            Ok(Homography(h))
        } else {
            Err(MaskError::SingularHomography)
        }
    }
}

/// Hartley normalisation: returns `[k, cx, cy]` (the map is `k * (p - c)`) and the mapped
/// points.
fn normalise(points: &[[f64; 2]]) -> Option<([f64; 3], Vec<[f64; 2]>)> {
    let n = points.len() as f64;
    let cx = points.iter().map(|p| p[0]).sum::<f64>() / n;
    let cy = points.iter().map(|p| p[1]).sum::<f64>() / n;
    let md = points
        .iter()
        .map(|p| ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt())
        .sum::<f64>()
        / n;
    if !(md.is_finite() && md > 1e-9 * (1.0 + cx.abs() + cy.abs())) {
        return None;
    }
    let k = std::f64::consts::SQRT_2 / md;
    Some((
        [k, cx, cy],
        points
            .iter()
            .map(|p| [k * (p[0] - cx), k * (p[1] - cy)])
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_map() {
        let truth = Homography([1.2, 0.1, 30.0, -0.05, 0.9, 12.0, 0.0004, -0.0002, 1.0]);
        let src: Vec<Point> = [
            [0.0, 0.0],
            [300.0, 10.0],
            [310.0, 250.0],
            [5.0, 240.0],
            [150.0, 120.0],
            [80.0, 200.0],
        ]
        .to_vec();
        let dst: Vec<Point> = src.iter().map(|p| truth.apply(*p)).collect();
        let h = Homography::fit(&src, &dst).unwrap();
        for (s, d) in src.iter().zip(&dst) {
            let m = h.apply(*s);
            assert!((m[0] - d[0]).abs() < 1e-3 && (m[1] - d[1]).abs() < 1e-3);
        }
        let back = h.inverse().unwrap();
        for d in &dst {
            let _ = back.apply(*d);
        }
        let p = back.apply(h.apply([77.0, 33.0]));
        assert!((p[0] - 77.0).abs() < 1e-3 && (p[1] - 33.0).abs() < 1e-3);
    }

    #[test]
    fn rejects_degenerate_input() {
        let line: Vec<Point> = (0..6).map(|i| [i as f32, 2.0 * i as f32]).collect();
        assert_eq!(
            Homography::fit(&line, &line),
            Err(MaskError::SingularHomography)
        );
        let same = vec![[3.0, 3.0]; 6];
        assert_eq!(
            Homography::fit(&same, &same),
            Err(MaskError::SingularHomography)
        );
        let sq: Vec<Point> = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let bad = vec![[0.0, 0.0], [1.0, 0.0], [f32::NAN, 1.0], [0.0, 1.0]];
        assert!(Homography::fit(&sq, &bad).is_err());
        assert!(Homography::fit(&sq[..3], &sq[..3]).is_err());
        assert!(Homography([0.0; 9]).inverse().is_err());
    }
}
