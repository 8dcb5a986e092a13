//! Moulded cup (N95, after the 3M 8210) and flat-fold KN95 respirators.

use super::{DrawContext, Side};
use crate::raster::{band, ellipse, mirror, offset, quad, resample, rounded_rect, Canvas, Paint};
use crate::Point;

const N95_CENTER: Point = [200.0, 150.0];
const N95_RX: f32 = 166.0;
const N95_RY_TOP: f32 = 118.0;
const N95_RY_BOTTOM: f32 = 128.0;
const STRAP: [u8; 3] = [238, 232, 206];
const STAPLE: [u8; 3] = [246, 196, 40];
const NOSE_CLIP: [u8; 3] = [196, 198, 202];
const LOOP_WHITE: [u8; 3] = [246, 246, 244];

/// Superellipse cup, narrower over the nose; clockwise in image coordinates.
fn n95_outline() -> Vec<Point> {
    (0..160)
        .map(|i| {
            let th = std::f32::consts::TAU * i as f32 / 160.0;
            let (s, c) = th.sin_cos();
            let e = 2.0 / 2.6;
            let narrow = 1.0 - 0.16 * (-s).max(0.0).powi(3);
            let ry = if s < 0.0 { N95_RY_TOP } else { N95_RY_BOTTOM };
            [
                N95_CENTER[0] + N95_RX * narrow * c.signum() * c.abs().powf(e),
                N95_CENTER[1] + ry * s.signum() * s.abs().powf(e),
            ]
        })
        .collect()
}

fn n95_seam() -> Vec<Point> {
    quad([40.0, 124.0], [200.0, 190.0], [360.0, 124.0], 40)
}

pub(crate) fn draw_n95(c: &mut Canvas, ctx: &DrawContext) {
    let outline = n95_outline();
    c.fill(&outline, Paint::body(1.0));
    let mut ring = outline.clone();
    ring.push(outline[0]);
    c.fill(&band(&ring, 7.0), Paint::trim(1.04));
    c.stroke(&offset(&ring, 7.0), 1.0, Paint::trim(0.86));

    let seam = n95_seam();
    c.stroke(&seam, 2.0, Paint::trim(0.8));
    c.stroke(&offset(&seam, 2.2), 1.6, Paint::trim(1.1));

    c.fill(
        &rounded_rect(166.0, 41.0, 234.0, 50.0, 4.0),
        Paint::detail(NOSE_CLIP, 1.0),
    );
    c.stroke(
        &[[170.0, 47.5], [230.0, 47.5]],
        1.0,
        Paint::detail(NOSE_CLIP, 0.8),
    );

    // Head straps leave the cup at its sides, each held by a staple on the front.
    let straps: [(Point, Point); 2] = [([82.0, 96.0], [0.0, 72.0]), ([76.0, 214.0], [0.0, 246.0])];
    for (side, flip) in [(Side::Left, false), (Side::Right, true)] {
        if !ctx.shows(side) {
            continue;
        }
        for (on_cup, away) in straps {
            let mut line = vec![on_cup, away];
            let mut staple = rounded_rect(
                on_cup[0] - 6.0,
                on_cup[1] - 5.0,
                on_cup[0] + 6.0,
                on_cup[1] + 5.0,
                2.0,
            );
            if flip {
                line = mirror(&line);
                staple = mirror(&staple);
            }
            c.stroke(&line, 7.0, Paint::detail(STRAP, 1.0));
            c.fill(&staple, Paint::detail(STAPLE, 1.0));
        }
    }
}

/// A dome lit from the upper left, a little darker below the moulded seam.
pub(crate) fn n95_shade(x: f32, y: f32) -> f32 {
    let (dx, dy) = ((x - N95_CENTER[0]) / N95_RX, (y - N95_CENTER[1]) / 128.0);
    let dome = (1.0 - dx * dx - dy * dy).max(0.0).sqrt();
    let hi = (-(((x - 160.0) / 70.0).powi(2) + ((y - 100.0) / 45.0).powi(2))).exp();
    let seam_y = 124.0 + 66.0 * (1.0 - ((x - 200.0) / 160.0).powi(2)).max(0.0) / 2.0;
    let below = if y > seam_y { 0.95 } else { 1.0 };
    (0.82 + 0.22 * dome + 0.07 * hi) * below
}

const KN95_PEAK: Point = [200.0, 30.0];
const KN95_CHIN: Point = [200.0, 279.0];
const KN95_TL: Point = [44.0, 66.0];
const KN95_BL: Point = [70.0, 198.0];

fn kn95_left_half() -> Vec<Point> {
    let mut half = quad(KN95_PEAK, [118.0, 50.0], KN95_TL, 24);
    half.extend(
        quad(KN95_TL, [36.0, 140.0], KN95_BL, 20)
            .into_iter()
            .skip(1),
    );
    half.extend(
        quad(KN95_BL, [124.0, 262.0], KN95_CHIN, 24)
            .into_iter()
            .skip(1),
    );
    half
}

fn kn95_outline() -> Vec<Point> {
    let mut half = kn95_left_half();
    half.pop();
    let mut poly = half.clone();
    poly.extend(mirror(&half));
    poly
}

pub(crate) fn draw_kn95(c: &mut Canvas, ctx: &DrawContext) {
    let ear_loop = quad(
        [KN95_TL[0] + 4.0, 72.0],
        [-30.0, 130.0],
        [KN95_BL[0] + 3.0, 192.0],
        40,
    );
    let white = Paint::detail(LOOP_WHITE, 1.0);
    if ctx.shows(Side::Left) {
        c.stroke(&ear_loop, 2.6, white);
    }
    if ctx.shows(Side::Right) {
        c.stroke(&mirror(&ear_loop), 2.6, white);
    }

    let outline = kn95_outline();
    c.fill(&outline, Paint::body(1.0));
    // Heat-sealed border, drawn per half so the band stays on the inside (the outline runs
    // anticlockwise on the left half and mirrored on the right).
    let left = kn95_left_half();
    let right = mirror(&left);
    let weld = Paint::trim(0.84);
    for (half, w) in [(&left, -8.0f32), (&right, -8.0)] {
        c.fill(&band(half, w), Paint::trim(0.97));
        for frac in [0.3, 0.7] {
            for p in resample(&offset(half, w * frac), 3.5) {
                c.fill(&ellipse(p, 0.8, 0.8, 8), weld);
            }
        }
    }
    // Centre fold with its weld line, and the dotted fold line across the nose piece.
    let seam = [
        [KN95_PEAK[0], KN95_PEAK[1] + 2.0],
        [KN95_CHIN[0], KN95_CHIN[1] - 2.0],
    ];
    c.stroke(&seam, 1.8, Paint::trim(0.74));
    for dx in [-4.0, 4.0] {
        let line = [[200.0 + dx, 40.0], [200.0 + dx, 268.0]];
        for p in resample(&line, 4.0) {
            c.fill(&ellipse(p, 0.8, 0.8, 8), weld);
        }
    }
    for p in resample(&quad([56.0, 84.0], [200.0, 46.0], [344.0, 84.0], 40), 4.0) {
        c.fill(&ellipse(p, 0.75, 0.75, 8), weld);
    }
}

/// Two flat panels meeting at the centre fold, turned slightly away from each other.
pub(crate) fn kn95_shade(x: f32, y: f32) -> f32 {
    let panel = 0.955 + 0.045 * ((x - 200.0) / 8.0).tanh();
    let crease = 1.0 - 0.1 * (-((x - 200.0) / 5.0).powi(2)).exp();
    let lower = 1.0 - 0.1 * ((y - 190.0) / 90.0).clamp(0.0, 1.0);
    let fold = if y < 84.0 - 38.0 * (1.0 - ((x - 200.0) / 144.0).powi(2)).max(0.0) {
        1.04
    } else {
        1.0
    };
    panel * crease * lower * fold
}
