//! Three-ply surgical mask: pleated body, bound edges with welded stitch dots, a nose wire and
//! elastic ear loops.

use super::{DrawContext, Side};
use crate::raster::{band, cubic, mirror, offset, quad, resample, Canvas, Paint};
use crate::Point;

const X_LEFT: f32 = 44.0;
const CORNER_BOTTOM: Point = [80.0, 206.0];
const BINDING: f32 = 9.0;
const SIDE_BINDING: f32 = 7.0;
const LOOP_WHITE: [u8; 3] = [246, 246, 244];

/// Top edge: level across the cheeks, lifted over the nose.
fn top(x: f32) -> f32 {
    52.0 - 13.0 * (-((x - 200.0) / 55.0).powi(2)).exp()
}

/// Bottom edge, under the chin, extended flat beyond the lower corners.
fn bottom(x: f32) -> f32 {
    let u = ((x - 200.0) / 120.0).clamp(-1.0, 1.0);
    CORNER_BOTTOM[1] + 66.0 * (1.0 - u * u).powf(0.7)
}

fn top_line(x0: f32, x1: f32) -> Vec<Point> {
    let n = ((x1 - x0).abs() / 4.0).ceil().max(1.0) as usize;
    (0..=n)
        .map(|i| x0 + (x1 - x0) * i as f32 / n as f32)
        .map(|x| [x, top(x)])
        .collect()
}

fn bottom_line(x0: f32, x1: f32) -> Vec<Point> {
    let n = ((x1 - x0).abs() / 4.0).ceil().max(1.0) as usize;
    (0..=n)
        .map(|i| x0 + (x1 - x0) * i as f32 / n as f32)
        .map(|x| [x, bottom(x)])
        .collect()
}

fn left_side() -> Vec<Point> {
    quad([X_LEFT, top(X_LEFT)], [34.0, 130.0], CORNER_BOTTOM, 24)
}

fn outline() -> Vec<Point> {
    let mut half = top_line(200.0, X_LEFT);
    half.extend(left_side().into_iter().skip(1));
    half.extend(bottom_line(CORNER_BOTTOM[0], 200.0).into_iter().skip(1));
    half.pop();
    let mut poly = half.clone();
    poly.extend(mirror(&half));
    poly
}

fn ear_loop() -> Vec<Point> {
    cubic(
        [X_LEFT + 3.0, 60.0],
        [4.0, 64.0],
        [2.0, 198.0],
        [CORNER_BOTTOM[0] + 2.0, 200.0],
        40,
    )
}

fn dots(c: &mut Canvas, line: &[Point], step: f32, size: f32, paint: Paint) {
    let h = size / 2.0;
    for p in resample(line, step) {
        c.fill(
            &[
                [p[0] - h, p[1] - h],
                [p[0] + h, p[1] - h],
                [p[0] + h, p[1] + h],
                [p[0] - h, p[1] + h],
            ],
            paint,
        );
    }
}

pub(crate) fn draw(c: &mut Canvas, ctx: &DrawContext) {
    let white = Paint::detail(LOOP_WHITE, 1.0);
    if ctx.shows(Side::Left) {
        c.stroke(&ear_loop(), 3.2, white);
    }
    if ctx.shows(Side::Right) {
        c.stroke(&mirror(&ear_loop()), 3.2, white);
    }
    c.fill(&outline(), Paint::body(1.0));

    let binding = Paint::trim(0.96);
    let weld = Paint::trim(0.8);
    let x_right = 400.0 - X_LEFT;
    let top_edge = top_line(X_LEFT, x_right);
    c.fill(&band(&top_edge, BINDING), binding);
    let bottom_edge = bottom_line(CORNER_BOTTOM[0] - 2.0, 400.0 - CORNER_BOTTOM[0] + 2.0);
    c.fill(&band(&bottom_edge, -BINDING), binding);
    let left = left_side();
    let right = mirror(&left);
    c.fill(&band(&left, -SIDE_BINDING), binding);
    c.fill(&band(&right, -SIDE_BINDING), binding);
    for frac in [0.3, 0.7] {
        dots(c, &offset(&top_edge, BINDING * frac), 4.0, 1.5, weld);
        dots(c, &offset(&bottom_edge, -BINDING * frac), 4.0, 1.5, weld);
        dots(c, &offset(&left, -SIDE_BINDING * frac), 4.0, 1.5, weld);
        dots(c, &offset(&right, -SIDE_BINDING * frac), 4.0, 1.5, weld);
    }
    // The nose wire shows as a ridge in the top binding.
    let wire = top_line(160.0, 240.0);
    c.stroke(&offset(&wire, 4.5), 3.0, Paint::trim(1.08));
    c.stroke(&offset(&wire, 6.8), 0.9, Paint::trim(0.82));
}

/// Pleats: each fold has a highlight above its crease and a shadow that fades below it.
pub(crate) fn body_shade(x: f32, y: f32) -> f32 {
    let (t0, t1) = (top(x) + BINDING, bottom(x) - BINDING);
    let t = (y - t0) / (t1 - t0).max(1.0);
    let mut s = 1.0;
    for p in [0.27, 0.5, 0.73] {
        s *= pleat(t - p);
    }
    let chin = ((y - 220.0) / 55.0).clamp(0.0, 1.0);
    s * (1.0 - 0.12 * chin)
}

fn pleat(d: f32) -> f32 {
    if (-0.08..=0.0).contains(&d) {
        1.0 + 0.1 * (1.0 + d / 0.08)
    } else if d > 0.0 && d < 0.025 {
        0.68 + 0.12 * d / 0.025
    } else if (0.025..0.2).contains(&d) {
        0.8 + 0.2 * (d - 0.025) / 0.175
    } else {
        1.0
    }
}
