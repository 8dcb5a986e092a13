//! Two-panel fabric mask with a centre seam, stitched hems and fabric ear loops.

use super::{DrawContext, Side};
use crate::raster::{cubic, mirror, offset, quad, resample, Canvas, Paint};
use crate::Point;

const PEAK: Point = [200.0, 27.0];
const CHIN: Point = [200.0, 283.0];
const TL: Point = [42.0, 62.0];
const BL: Point = [62.0, 200.0];

fn left_half() -> Vec<Point> {
    let mut half = cubic(PEAK, [168.0, 27.0], [112.0, 46.0], TL, 30);
    half.extend(quad(TL, [30.0, 140.0], BL, 20).into_iter().skip(1));
    half.extend(
        cubic(BL, [92.0, 254.0], [156.0, 283.0], CHIN, 30)
            .into_iter()
            .skip(1),
    );
    half
}

fn outline() -> Vec<Point> {
    let mut half = left_half();
    half.pop();
    let mut poly = half.clone();
    poly.extend(mirror(&half));
    poly
}

pub(crate) fn draw(c: &mut Canvas, ctx: &DrawContext) {
    let ear_loop = cubic(
        [TL[0] + 4.0, 70.0],
        [2.0, 80.0],
        [4.0, 184.0],
        [BL[0] + 2.0, 190.0],
        40,
    );
    let strap = Paint::trim(0.8);
    if ctx.shows(Side::Left) {
        c.stroke(&ear_loop, 6.0, strap);
    }
    if ctx.shows(Side::Right) {
        c.stroke(&mirror(&ear_loop), 6.0, strap);
    }
    c.fill(&outline(), Paint::body(1.0));

    // Hem stitches: short dashes a few units inside the edge.
    let stitch = Paint::trim(0.74);
    let left = left_half();
    for half in [left.clone(), mirror(&left)] {
        let inset = offset(&half, -5.0);
        let pts = resample(&inset, 5.0);
        for pair in pts.chunks_exact(2) {
            c.stroke(pair, 1.1, stitch);
        }
    }
    let seam = quad(
        [PEAK[0], PEAK[1] + 1.0],
        [203.0, 150.0],
        [CHIN[0], CHIN[1] - 1.0],
        40,
    );
    c.stroke(&offset(&seam, -2.0), 1.6, Paint::trim(1.12));
    c.stroke(&seam, 1.6, Paint::trim(0.7));
}

/// Soft cloth: a raised centre seam and a few shallow, slanted folds.
pub(crate) fn body_shade(x: f32, y: f32) -> f32 {
    let d = x - 200.0;
    let ridge = 1.0 + 0.07 * (-((d + 10.0) / 16.0).powi(2)).exp()
        - 0.06 * (-((d - 8.0) / 12.0).powi(2)).exp();
    let folds = 1.0 + 0.035 * (y / 15.0 + d.abs() / 45.0).sin();
    let lower = 1.0 - 0.12 * ((y - 200.0) / 80.0).clamp(0.0, 1.0);
    ridge * folds * lower
}
