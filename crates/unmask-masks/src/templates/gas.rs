//! Half-face elastomeric respirator (after the 3M 6000 series): rubber face piece, valve
//! housing, two filter cartridges and head straps.

use super::{DrawContext, Side};
use crate::raster::{cubic, ellipse, mirror, rounded_rect, Canvas, Paint};
use crate::Point;

const STRAP_GREY: [u8; 3] = [150, 150, 152];
const COLLAR: [u8; 3] = [52, 60, 68];
const FILTER_WHITE: [u8; 3] = [234, 234, 230];
const FILTER_RIM: [u8; 3] = [206, 206, 200];
const LABEL: [u8; 3] = [206, 112, 42];
const LOGO: [u8; 3] = [52, 150, 80];

fn face_piece_left() -> Vec<Point> {
    let mut half = cubic(
        [200.0, 18.0],
        [170.0, 18.0],
        [142.0, 84.0],
        [120.0, 146.0],
        24,
    );
    half.extend(
        cubic(
            [120.0, 146.0],
            [102.0, 200.0],
            [114.0, 252.0],
            [160.0, 274.0],
            24,
        )
        .into_iter()
        .skip(1),
    );
    half.extend(
        cubic(
            [160.0, 274.0],
            [178.0, 282.0],
            [190.0, 284.0],
            [200.0, 284.0],
            10,
        )
        .into_iter()
        .skip(1),
    );
    half
}

fn symmetric(left: Vec<Point>) -> Vec<Point> {
    let mut half = left;
    half.pop();
    let mut poly = half.clone();
    poly.extend(mirror(&half));
    poly
}

pub(crate) fn draw(c: &mut Canvas, ctx: &DrawContext) {
    let strap = Paint::detail(STRAP_GREY, 1.0);
    for (side, flip) in [(Side::Left, false), (Side::Right, true)] {
        if !ctx.shows(side) {
            continue;
        }
        for line in [
            [[140.0, 104.0], [0.0, 88.0]],
            [[128.0, 226.0], [0.0, 250.0]],
        ] {
            let line = if flip { mirror(&line) } else { line.to_vec() };
            c.stroke(&line, 14.0, strap);
        }
    }

    c.fill(&symmetric(face_piece_left()), Paint::body(1.0));
    // Raised front of the face piece with the exhalation valve housing.
    let housing = symmetric(
        [
            cubic(
                [200.0, 70.0],
                [186.0, 70.0],
                [160.0, 118.0],
                [158.0, 160.0],
                16,
            ),
            cubic(
                [158.0, 160.0],
                [156.0, 210.0],
                [160.0, 262.0],
                [200.0, 264.0],
                16,
            )[1..]
                .to_vec(),
        ]
        .concat(),
    );
    c.fill(&housing, Paint::body(1.1));
    let mut ring = housing.clone();
    ring.push(housing[0]);
    c.stroke(&ring, 1.6, Paint::trim(0.72));
    let valve = symmetric(
        [
            cubic(
                [200.0, 100.0],
                [190.0, 100.0],
                [180.0, 124.0],
                [178.0, 136.0],
                10,
            ),
            cubic(
                [178.0, 136.0],
                [176.0, 146.0],
                [186.0, 148.0],
                [200.0, 148.0],
                10,
            )[1..]
                .to_vec(),
        ]
        .concat(),
    );
    c.fill(&valve, Paint::trim(0.9));
    c.fill(&ellipse([194.0, 118.0], 6.0, 9.0, 16), Paint::trim(1.12));
    let plate = rounded_rect(172.0, 206.0, 228.0, 250.0, 14.0);
    let mut plate_ring = plate.clone();
    plate_ring.push(plate[0]);
    c.stroke(&plate_ring, 1.0, Paint::trim(0.82));

    for flip in [false, true] {
        let m = |p: Vec<Point>| if flip { mirror(&p) } else { p };
        c.fill(
            &m(rounded_rect(98.0, 150.0, 128.0, 214.0, 6.0)),
            Paint::detail(COLLAR, 1.0),
        );
        c.fill(
            &m(rounded_rect(6.0, 102.0, 106.0, 262.0, 24.0)),
            Paint::detail(FILTER_RIM, 1.0),
        );
        c.fill(
            &m(rounded_rect(12.0, 108.0, 82.0, 256.0, 20.0)),
            Paint::detail(FILTER_WHITE, 1.04),
        );
        c.fill(
            &m(rounded_rect(22.0, 124.0, 70.0, 240.0, 14.0)),
            Paint::detail(FILTER_WHITE, 1.1),
        );
        c.fill(
            &m(rounded_rect(84.0, 112.0, 102.0, 252.0, 6.0)),
            Paint::detail(LABEL, 1.0),
        );
        c.fill(
            &m(rounded_rect(86.0, 186.0, 100.0, 206.0, 3.0)),
            Paint::detail(FILTER_WHITE, 1.0),
        );
        c.fill(
            &m(ellipse([93.0, 196.0], 5.0, 6.0, 16)),
            Paint::detail(LOGO, 1.0),
        );
    }
}

/// Moulded rubber: brightest along the centre line, rolling off to the sides.
pub(crate) fn body_shade(x: f32, y: f32) -> f32 {
    let d = (x - 200.0) / 70.0;
    let top = 1.0 + 0.06 * (-((y - 60.0) / 40.0).powi(2)).exp();
    (0.8 + 0.24 * (-d * d).exp()) * top
}
