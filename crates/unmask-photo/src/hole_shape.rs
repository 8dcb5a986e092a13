//! Completing the segmenter's hole in a face crop before it is filled. On real photos the
//! segmenter, trained on synthetic faces, marks the middle of a mask and stops short of the
//! parts that look least like its training masks: a white kn95's lower corner, the far side
//! of a turned face, the fold of an n95. Whatever it leaves out stays in the photo as a piece
//! of mask. A face mask is one piece of cloth over the mouth and chin, so the hole is
//! completed from that shape rather than from the pixels alone:
//!
//! - [`grow_into_unsure`]: the hole grows into the connected pixels the segmenter gave a
//!   lower probability (hysteresis, as Canny's edges grow from their strong part);
//! - [`keep_touching`]: only the pieces that reach the mouth and chin are kept;
//! - [`convex_hull_fill`]: the hole becomes its convex hull, so the gaps and bays inside
//!   the mask's outline are filled.
//!
//! All masks here are binary (255 inside, read as above 127) and of one size.

use image::{GrayImage, Luma};
use imageproc::point::Point;
use imageproc::region_labelling::{connected_components, Connectivity};

fn inside(p: &Luma<u8>) -> bool {
    p.0[0] > 127
}

/// The pieces of `candidate` (8-connected) that contain a pixel of `seed`, with `seed`
/// itself: each piece is kept whole or not at all.
pub fn grow_into_unsure(seed: &GrayImage, candidate: &GrayImage) -> GrayImage {
    let mut union = candidate.clone();
    for (u, s) in union.pixels_mut().zip(seed.pixels()) {
        if inside(s) {
            u.0[0] = 255;
        }
    }
    keep_touching(&union, seed)
}

/// The pieces of `mask` (8-connected) that share a pixel with `region`.
pub fn keep_touching(mask: &GrayImage, region: &GrayImage) -> GrayImage {
    let labels = connected_components(mask, Connectivity::Eight, Luma([0u8]));
    let count = labels.pixels().map(|l| l.0[0]).max().unwrap_or(0) as usize;
    let mut touches = vec![false; count + 1];
    for ((l, m), r) in labels.pixels().zip(mask.pixels()).zip(region.pixels()) {
        if inside(m) && inside(r) {
            touches[l.0[0] as usize] = true;
        }
    }
    GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        let label = labels.get_pixel(x, y).0[0] as usize;
        Luma([if label != 0 && touches[label] { 255 } else { 0 }])
    })
}

/// The convex hull of `mask`'s pixels, filled (an empty mask stays empty). Each pixel is
/// taken as its unit square, so a hull of one row or column is not lost.
pub fn convex_hull_fill(mask: &GrayImage) -> GrayImage {
    let mut corners = Vec::new();
    for (x, y, p) in mask.enumerate_pixels() {
        if inside(p) {
            let (x, y) = (x as i32, y as i32);
            corners.extend([
                Point::new(x, y),
                Point::new(x + 1, y),
                Point::new(x, y + 1),
                Point::new(x + 1, y + 1),
            ]);
        }
    }
    let mut out = GrayImage::new(mask.width(), mask.height());
    if corners.is_empty() {
        return out;
    }
    let hull = imageproc::geometry::convex_hull(corners);
    // A pixel is inside when its centre is inside the hull (or on its edge).
    let edges: Vec<(f64, f64, f64, f64)> = hull
        .iter()
        .zip(hull.iter().cycle().skip(1))
        .map(|(a, b)| (a.x as f64, a.y as f64, b.x as f64, b.y as f64))
        .collect();
    let orientation = signed_area(&edges).signum();
    for (x, y, p) in out.enumerate_pixels_mut() {
        let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
        let within = edges.iter().all(|&(ax, ay, bx, by)| {
            orientation * ((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) >= 0.0
        });
        if within {
            p.0[0] = 255;
        }
    }
    out
}

fn signed_area(edges: &[(f64, f64, f64, f64)]) -> f64 {
    edges
        .iter()
        .map(|&(ax, ay, bx, by)| ax * by - bx * ay)
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_of(w: u32, h: u32, on: impl Fn(u32, u32) -> bool) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| Luma([if on(x, y) { 255 } else { 0 }]))
    }

    fn count(mask: &GrayImage) -> usize {
        mask.pixels().filter(|p| inside(p)).count()
    }

    #[test]
    fn the_hull_of_an_l_shape_fills_its_bay_and_no_more() {
        // An L: the left column and the bottom row of a 5 x 5 square at (2, 2).
        let l = mask_of(10, 10, |x, y| {
            (2..7).contains(&x) && (2..7).contains(&y) && (x == 2 || y == 6)
        });
        let hull = convex_hull_fill(&l);
        // Below the hull's edge from corner (3, 2) to corner (7, 6), pixels on it included.
        for (x, y, p) in hull.enumerate_pixels() {
            let expected = (2..7).contains(&x) && (2..7).contains(&y) && x <= y + 1;
            assert_eq!(inside(p), expected, "pixel ({x}, {y})");
        }
        assert!(count(&hull) > count(&l));
        assert_eq!(count(&convex_hull_fill(&GrayImage::new(4, 4))), 0);
    }

    #[test]
    fn the_hull_of_one_row_is_that_row() {
        let row = mask_of(8, 8, |x, y| y == 3 && (1..6).contains(&x));
        assert_eq!(convex_hull_fill(&row), row);
    }

    #[test]
    fn growth_keeps_the_unsure_pieces_that_touch_the_seed_only() {
        let seed = mask_of(12, 6, |x, y| x == 1 && y == 1);
        // Two pieces of unsure pixels: one joined to the seed, one apart from it.
        let unsure = mask_of(12, 6, |x, y| (x < 4 && y < 4) || (x > 8 && y > 2));
        let grown = grow_into_unsure(&seed, &unsure);
        assert_eq!(grown, mask_of(12, 6, |x, y| x < 4 && y < 4));
        // A seed pixel outside every unsure piece stays.
        let lone = mask_of(12, 6, |x, y| x == 6 && y == 0);
        assert_eq!(grow_into_unsure(&lone, &unsure), lone);
    }

    #[test]
    fn only_the_pieces_reaching_the_region_are_kept() {
        let mask = mask_of(10, 4, |x, _| x < 3 || x > 6);
        let region = mask_of(10, 4, |x, y| x == 8 && y == 2);
        assert_eq!(keep_touching(&mask, &region), mask_of(10, 4, |x, _| x > 6));
        assert_eq!(count(&keep_touching(&mask, &GrayImage::new(10, 4))), 0);
    }
}
