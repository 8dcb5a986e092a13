//! Diffusion-style inpainting by the fast marching method (Telea 2004, "An image inpainting
//! technique based on the fast marching method"): the hole is filled from its border
//! inwards, each pixel from the already known ones within `radius`, weighted by direction
//! (along the distance map's gradient), distance and level-set proximity.
//!
//! The paper also extrapolates each neighbour along its colour gradient. That term overshoots
//! at strong edges (a mask's bright border becomes a glow inside the hole), and OpenCV's
//! implementation normalises it down to about one grey level, so it is left out here: each
//! pixel is the weighted mean of its settled neighbours.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flag {
    Known,
    Band,
    Inside,
}

/// A pixel waiting in the narrow band, ordered by arrival time (smallest first).
#[derive(PartialEq)]
struct Front {
    t: f32,
    idx: usize,
}

impl Eq for Front {}

impl PartialOrd for Front {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Front {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed for a min-heap; ties by index keep the order (and the result) fixed.
        other
            .t
            .total_cmp(&self.t)
            .then_with(|| other.idx.cmp(&self.idx))
    }
}

const FAR: f32 = 1.0e6;

/// Fills the pixels of `planes` (channel-major, `w * h` values each) where `hole` is true;
/// other pixels are left untouched. A hole with no known pixel at all is left as it is.
pub fn telea_fill(planes: &mut [Vec<f32>], w: usize, h: usize, hole: &[bool], radius: f32) {
    assert_eq!(hole.len(), w * h, "hole size");
    if !hole.iter().any(|&x| x) || hole.iter().all(|&x| x) {
        return;
    }
    let mut flag: Vec<Flag> = hole
        .iter()
        .map(|&m| if m { Flag::Inside } else { Flag::Known })
        .collect();
    let mut t = vec![0.0f32; w * h];
    let mut heap = BinaryHeap::new();
    // The narrow band starts as the known pixels touching the hole.
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if hole[i] {
                t[i] = FAR;
            } else if neighbours4(x, y, w, h).any(|j| hole[j]) {
                flag[i] = Flag::Band;
                heap.push(Front { t: 0.0, idx: i });
            }
        }
    }
    let reach = radius.ceil() as isize;
    while let Some(Front { idx, .. }) = heap.pop() {
        if flag[idx] == Flag::Known {
            continue;
        }
        flag[idx] = Flag::Known;
        let (x, y) = (idx % w, idx / w);
        for j in neighbours4(x, y, w, h) {
            if flag[j] != Flag::Inside {
                continue;
            }
            let (jx, jy) = (j % w, j / w);
            t[j] = arrival_time(&t, &flag, jx, jy, w, h);
            inpaint_pixel(planes, &t, &flag, jx, jy, w, h, reach, radius);
            flag[j] = Flag::Band;
            heap.push(Front { t: t[j], idx: j });
        }
    }
}

fn neighbours4(x: usize, y: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (x as isize, y as isize);
    [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
        .into_iter()
        .filter(move |&(a, b)| a >= 0 && b >= 0 && a < w as isize && b < h as isize)
        .map(move |(a, b)| b as usize * w + a as usize)
}

/// The eikonal equation |grad T| = 1 solved at `(x, y)` from its settled neighbours.
fn arrival_time(t: &[f32], flag: &[Flag], x: usize, y: usize, w: usize, h: usize) -> f32 {
    let at = |dx: isize, dy: isize| -> Option<f32> {
        let (a, b) = (x as isize + dx, y as isize + dy);
        if a < 0 || b < 0 || a >= w as isize || b >= h as isize {
            return None;
        }
        let j = b as usize * w + a as usize;
        (flag[j] != Flag::Inside).then_some(t[j])
    };
    let mut best = FAR;
    for (hx, vy) in [(-1, -1), (1, -1), (-1, 1), (1, 1)] {
        let sol = match (at(hx, 0), at(0, vy)) {
            (Some(t1), Some(t2)) => {
                let d = t1 - t2;
                if d.abs() >= std::f32::consts::SQRT_2 {
                    1.0 + t1.min(t2)
                } else {
                    let r = (2.0 - d * d).sqrt();
                    (t1 + t2 + r) / 2.0
                }
            }
            (Some(t1), None) => 1.0 + t1,
            (None, Some(t2)) => 1.0 + t2,
            (None, None) => FAR,
        };
        best = best.min(sol);
    }
    best
}

/// Central (or one-sided) difference of `values` at `(x, y)` over settled pixels only.
fn gradient(values: &[f32], flag: &[Flag], x: usize, y: usize, w: usize, h: usize) -> (f32, f32) {
    let ok = |a: usize, b: usize| flag[b * w + a] != Flag::Inside;
    let v = |a: usize, b: usize| values[b * w + a];
    let axis = |lo: Option<(usize, usize)>, hi: Option<(usize, usize)>| -> f32 {
        let lo = lo.filter(|&(a, b)| ok(a, b));
        let hi = hi.filter(|&(a, b)| ok(a, b));
        match (lo, hi) {
            (Some(l), Some(r)) => (v(r.0, r.1) - v(l.0, l.1)) / 2.0,
            (Some(l), None) => v(x, y) - v(l.0, l.1),
            (None, Some(r)) => v(r.0, r.1) - v(x, y),
            (None, None) => 0.0,
        }
    };
    let gx = axis(
        x.checked_sub(1).map(|a| (a, y)),
        (x + 1 < w).then_some((x + 1, y)),
    );
    let gy = axis(
        y.checked_sub(1).map(|b| (x, b)),
        (y + 1 < h).then_some((x, y + 1)),
    );
    (gx, gy)
}

#[allow(clippy::too_many_arguments)]
fn inpaint_pixel(
    planes: &mut [Vec<f32>],
    t: &[f32],
    flag: &[Flag],
    x: usize,
    y: usize,
    w: usize,
    h: usize,
    reach: isize,
    radius: f32,
) {
    let (tgx, tgy) = gradient(t, flag, x, y, w, h);
    let tp = t[y * w + x];
    let mut sums = vec![0.0f32; planes.len()];
    let mut total = 0.0f32;
    for dy in -reach..=reach {
        for dx in -reach..=reach {
            let (qx, qy) = (x as isize + dx, y as isize + dy);
            if qx < 0 || qy < 0 || qx >= w as isize || qy >= h as isize || (dx == 0 && dy == 0) {
                continue;
            }
            let (qx, qy) = (qx as usize, qy as usize);
            let q = qy * w + qx;
            let dist2 = (dx * dx + dy * dy) as f32;
            if flag[q] == Flag::Inside || dist2 > radius * radius {
                continue;
            }
            // r points from the neighbour to the pixel being filled.
            let (rx, ry) = (-dx as f32, -dy as f32);
            let len = dist2.sqrt();
            let direction = ((rx * tgx + ry * tgy) / len).abs().max(1e-6);
            let distance = 1.0 / dist2;
            let level = 1.0 / (1.0 + (t[q] - tp).abs());
            let weight = direction * distance * level;
            for (c, plane) in planes.iter().enumerate() {
                sums[c] += weight * plane[q];
            }
            total += weight;
        }
    }
    if total > 0.0 {
        for (c, plane) in planes.iter_mut().enumerate() {
            plane[y * w + x] = sums[c] / total;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc_hole(w: usize, h: usize, cx: f32, cy: f32, r: f32) -> Vec<bool> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                (x - cx).powi(2) + (y - cy).powi(2) <= r * r
            })
            .collect()
    }

    #[test]
    fn constant_image_is_filled_with_its_constant_and_known_pixels_stay() {
        let (w, h) = (24, 20);
        let hole = disc_hole(w, h, 11.0, 9.0, 6.0);
        let mut planes = vec![vec![0.25f32; w * h], vec![0.75f32; w * h]];
        for p in planes.iter_mut() {
            for (v, &m) in p.iter_mut().zip(&hole) {
                if m {
                    *v = 0.0;
                }
            }
        }
        telea_fill(&mut planes, w, h, &hole, 5.0);
        for (p, want) in planes.iter().zip([0.25f32, 0.75]) {
            for v in p {
                assert!((v - want).abs() < 1e-5, "{v} vs {want}");
            }
        }
    }

    #[test]
    fn a_ramp_is_continued_across_the_hole() {
        let (w, h) = (32, 32);
        let hole = disc_hole(w, h, 16.0, 16.0, 7.0);
        let ramp: Vec<f32> = (0..w * h).map(|i| (i % w) as f32 / w as f32).collect();
        let mut planes = vec![ramp
            .iter()
            .zip(&hole)
            .map(|(&v, &m)| if m { 0.0 } else { v })
            .collect::<Vec<f32>>()];
        telea_fill(&mut planes, w, h, &hole, 5.0);
        let n = hole.iter().filter(|&&m| m).count() as f32;
        let hole_error = |values: &[f32]| -> f32 {
            values
                .iter()
                .zip(&ramp)
                .zip(&hole)
                .filter(|(_, &m)| m)
                .map(|((a, b), _)| (a - b).abs())
                .sum::<f32>()
                / n
        };
        let known: Vec<f32> = ramp
            .iter()
            .zip(&hole)
            .filter(|(_, &m)| !m)
            .map(|(&v, _)| v)
            .collect();
        let mean = known.iter().sum::<f32>() / known.len() as f32;
        let fill_error = hole_error(&vec![mean; w * h]);
        let telea_error = hole_error(&planes[0]);
        assert!(
            telea_error < 0.6 * fill_error,
            "diffusion {telea_error} vs mean fill {fill_error}"
        );
        assert!(planes[0].iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn no_hole_or_all_hole_leaves_the_image_alone() {
        let mut planes = vec![vec![0.5f32; 16]];
        telea_fill(&mut planes, 4, 4, &[false; 16], 3.0);
        telea_fill(&mut planes, 4, 4, &[true; 16], 3.0);
        assert!(planes[0].iter().all(|&v| v == 0.5));
    }
}
