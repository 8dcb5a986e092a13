//! The landmark guide (`generator.landmark_guide`): the face's lower-face structure drawn from
//! its 68 landmarks as soft lines, given to every layer of both generators as channels that
//! are known everywhere, so the fill can put the lips, the nose and the jaw where the face
//! has them instead of averaging over where faces might (landmark-guided inpainting, as in
//! LaFIn). Training and evaluation draw it from the masks manifest's landmarks; the photo path
//! from the landmarks the detector placed on the masked face.
//!
//! Channel 0 holds the lips (outer and inner outline), channel 1 the jaw line and the nose.

/// Channels of the guide.
pub const GUIDE_CHANNELS: usize = 2;

/// Polylines of the 68-point (iBUG) layout, `(first, last, closed)`, per channel.
const LIPS: &[(usize, usize, bool)] = &[(48, 59, true), (60, 67, true)];
const JAW_AND_NOSE: &[(usize, usize, bool)] = &[(0, 16, false), (27, 30, false), (31, 35, false)];
/// The nose's sides, from its tip to the nostrils' outer ends.
const NOSE_SIDES: &[(usize, usize)] = &[(30, 31), (30, 35)];

/// The guide planes `[GUIDE_CHANNELS, size, size]`, row-major, values in `[0, 1]`, of a face
/// whose 68 `points` are in the pixels of a `width` x `height` image (resized to the square
/// as the batch's images are); mirrored left-right when `flip` (as the image planes are).
pub fn guide_planes(
    points: &[[f32; 2]],
    (width, height): (f32, f32),
    size: usize,
    flip: bool,
) -> Vec<f32> {
    assert_eq!(points.len(), 68, "the guide needs the 68 landmarks");
    let (sx, sy) = (size as f32 / width, size as f32 / height);
    let at = |i: usize| [points[i][0] * sx, points[i][1] * sy];
    let segments_of = |lines: &[(usize, usize, bool)], extra: &[(usize, usize)]| {
        let mut segs = Vec::new();
        for &(a, b, closed) in lines {
            for i in a..b {
                segs.push((at(i), at(i + 1)));
            }
            if closed {
                segs.push((at(b), at(a)));
            }
        }
        segs.extend(extra.iter().map(|&(a, b)| (at(a), at(b))));
        segs
    };
    // One pixel wide at 64 px, wider in proportion above, with a one-pixel soft edge.
    let half_width = 0.5 * (size as f32 / 64.0).max(1.0);
    let mut out = Vec::with_capacity(GUIDE_CHANNELS * size * size);
    for segs in [
        segments_of(LIPS, &[]),
        segments_of(JAW_AND_NOSE, NOSE_SIDES),
    ] {
        let mut plane = vec![0f32; size * size];
        draw_segments(&mut plane, size, &segs, half_width);
        if flip {
            for row in plane.chunks_mut(size) {
                row.reverse();
            }
        }
        out.extend(plane);
    }
    out
}

/// Each pixel takes the coverage of its centre by the nearest segment, widened by
/// `half_width`; only the pixels near a segment are visited.
fn draw_segments(plane: &mut [f32], size: usize, segs: &[([f32; 2], [f32; 2])], half_width: f32) {
    let reach = half_width + 0.5;
    for &(a, b) in segs {
        let x0 = (a[0].min(b[0]) - reach - 1.0).floor().max(0.0) as usize;
        let y0 = (a[1].min(b[1]) - reach - 1.0).floor().max(0.0) as usize;
        let x1 = ((a[0].max(b[0]) + reach + 1.0).ceil().max(0.0) as usize).min(size);
        let y1 = ((a[1].max(b[1]) + reach + 1.0).ceil().max(0.0) as usize).min(size);
        for y in y0..y1 {
            for x in x0..x1 {
                let d = distance_to_segment([x as f32 + 0.5, y as f32 + 0.5], a, b);
                let v = (reach - d).clamp(0.0, 1.0);
                let p = &mut plane[y * size + x];
                *p = p.max(v);
            }
        }
    }
}

fn distance_to_segment(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    (cx * cx + cy * cy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face laid out on a 64 px square: jaw along the bottom, mouth in the middle.
    fn points() -> Vec<[f32; 2]> {
        let mut p = vec![[32.0, 20.0]; 68];
        for (i, q) in p.iter_mut().enumerate().take(17) {
            *q = [8.0 + 3.0 * i as f32, 56.5];
        }
        for (k, q) in p[48..60].iter_mut().enumerate() {
            let t = k as f32 / 12.0 * std::f32::consts::TAU;
            *q = [32.0 + 8.0 * t.cos(), 44.0 + 3.0 * t.sin()];
        }
        for q in &mut p[60..68] {
            *q = [32.0, 44.0];
        }
        p
    }

    #[test]
    fn lips_and_jaw_land_in_their_own_channels_where_the_landmarks_are() {
        let g = guide_planes(&points(), (64.0, 64.0), 64, false);
        let at = |c: usize, x: usize, y: usize| g[c * 64 * 64 + y * 64 + x];
        // Next to the lips' rightmost point (40, 44), and on the jaw at (32, 56.5).
        assert!(at(0, 39, 43) > 0.8, "{}", at(0, 39, 43));
        assert_eq!(at(1, 39, 43), 0.0);
        assert!(at(1, 32, 56) > 0.9);
        assert_eq!(at(0, 32, 56), 0.0);
        // Far from every line.
        assert_eq!(at(0, 5, 5) + at(1, 5, 5), 0.0);
        assert!(g.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn the_guide_scales_with_the_image_and_mirrors_with_the_flip() {
        let p = points();
        let small = guide_planes(&p, (64.0, 64.0), 64, false);
        let doubled: Vec<[f32; 2]> = p.iter().map(|q| [2.0 * q[0], 2.0 * q[1]]).collect();
        assert_eq!(small, guide_planes(&doubled, (128.0, 128.0), 64, false));
        let flipped = guide_planes(&p, (64.0, 64.0), 64, true);
        for c in 0..GUIDE_CHANNELS {
            for y in 0..64 {
                for x in 0..64 {
                    let i = c * 4096 + y * 64;
                    assert_eq!(flipped[i + x], small[i + 63 - x]);
                }
            }
        }
        assert_ne!(flipped, small);
    }
}
