//! The 68-point facial landmark layout (iBUG 300-W order) shared by every face source, the mask
//! renderer and the manifests.

use std::ops::Range;

/// A point in image pixel coordinates (x right, y down), pixel centres at `i + 0.5`.
pub type Point = [f32; 2];

pub const N_LANDMARKS: usize = 68;

/// Index ranges of the iBUG 68-point groups.
pub mod groups {
    use std::ops::Range;
    pub const JAW: Range<usize> = 0..17;
    pub const RIGHT_BROW: Range<usize> = 17..22;
    pub const LEFT_BROW: Range<usize> = 22..27;
    pub const NOSE_BRIDGE: Range<usize> = 27..31;
    pub const NOSE_BASE: Range<usize> = 31..36;
    pub const RIGHT_EYE: Range<usize> = 36..42;
    pub const LEFT_EYE: Range<usize> = 42..48;
    pub const OUTER_LIPS: Range<usize> = 48..60;
    pub const INNER_LIPS: Range<usize> = 60..68;
}

/// 68 landmarks of one face, in image pixel coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Landmarks(pub [Point; N_LANDMARKS]);

impl Landmarks {
    pub fn points(&self, range: Range<usize>) -> &[Point] {
        &self.0[range]
    }

    /// Mean of a group of points.
    pub fn centroid(&self, range: Range<usize>) -> Point {
        let pts = &self.0[range];
        let n = pts.len() as f32;
        let (sx, sy) = pts
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
        [sx / n, sy / n]
    }

    /// The 136 coordinates as `x0, y0, x1, y1, ...`, the order of the manifest columns.
    pub fn to_flat(&self) -> [f32; 2 * N_LANDMARKS] {
        let mut flat = [0.0; 2 * N_LANDMARKS];
        for (i, p) in self.0.iter().enumerate() {
            flat[2 * i] = p[0];
            flat[2 * i + 1] = p[1];
        }
        flat
    }

    pub fn from_flat(flat: &[f32]) -> Option<Self> {
        if flat.len() != 2 * N_LANDMARKS {
            return None;
        }
        let mut pts = [[0.0; 2]; N_LANDMARKS];
        for (i, p) in pts.iter_mut().enumerate() {
            *p = [flat[2 * i], flat[2 * i + 1]];
        }
        Some(Self(pts))
    }

    /// True when every coordinate is finite and inside a `width` x `height` image.
    pub fn inside(&self, width: u32, height: u32) -> bool {
        self.0.iter().all(|p| {
            p[0].is_finite()
                && p[1].is_finite()
                && p[0] >= 0.0
                && p[1] >= 0.0
                && p[0] <= width as f32
                && p[1] <= height as f32
        })
    }
}

/// Manifest column names of the landmark coordinates: `lm00_x, lm00_y, ..., lm67_y`.
pub fn column_names() -> Vec<String> {
    (0..N_LANDMARKS)
        .flat_map(|i| [format!("lm{i:02}_x"), format!("lm{i:02}_y")])
        .collect()
}
