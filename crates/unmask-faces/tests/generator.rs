//! The synthetic face generator: determinism, thread independence and landmark sanity.

use unmask_core::Landmarks;
use unmask_faces::synthetic::generate_face;

/// Landmarks in the face's own frame: rotated so the eyes are level (undoing roll).
fn upright(lm: &Landmarks) -> Vec<[f32; 2]> {
    let l = lm.centroid(36..42);
    let r = lm.centroid(42..48);
    let angle = (r[1] - l[1]).atan2(r[0] - l[0]);
    let (s, c) = (-angle).sin_cos();
    lm.0.iter()
        .map(|p| [p[0] * c - p[1] * s, p[0] * s + p[1] * c])
        .collect()
}

#[test]
fn same_seed_and_index_give_identical_faces() {
    let a = generate_face(3, 17, 96);
    let b = generate_face(3, 17, 96);
    assert_eq!(a.image.as_raw(), b.image.as_raw());
    assert_eq!(a.landmarks, b.landmarks);
    let c = generate_face(3, 18, 96);
    assert_ne!(a.image.as_raw(), c.image.as_raw());
    let d = generate_face(4, 17, 96);
    assert_ne!(a.image.as_raw(), d.image.as_raw());
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    use rayon::prelude::*;
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                (0..8u64)
                    .into_par_iter()
                    .map(|i| generate_face(1, i, 64).image.into_raw())
                    .collect::<Vec<_>>()
            })
    };
    assert!(run(1) == run(2));
}

#[test]
fn landmarks_are_inside_the_image_and_in_plausible_order() {
    for size in [64u32, 128, 256] {
        for i in 0..60 {
            let face = generate_face(11, i, size);
            let lm = face.landmarks;
            assert_eq!(face.image.dimensions(), (size, size));
            assert!(
                lm.inside(size, size),
                "face {i} at {size}px has landmarks outside the image"
            );
            let p = upright(&lm);
            let y = |k: usize| p[k][1];
            let x = |k: usize| p[k][0];
            // Top to bottom: brows, eyes, nose tip, mouth, chin.
            assert!(
                y(19) < y(37) && y(24) < y(44),
                "brows above eyes (face {i})"
            );
            assert!(
                y(37) < y(30) && y(44) < y(30),
                "eyes above nose tip (face {i})"
            );
            assert!(
                y(30) < y(51) && y(33) < y(51),
                "nose above mouth (face {i})"
            );
            assert!(y(57) < y(8), "mouth above chin (face {i})");
            // Left to right: jaw, eyes, mouth corners.
            for k in 0..8 {
                assert!(
                    x(k) < x(k + 1) + 1e-3,
                    "jaw runs left to right (face {i}, point {k})"
                );
            }
            assert!(
                x(36) < x(39) && x(39) < x(42) && x(42) < x(45),
                "eyes in order (face {i})"
            );
            assert!(
                x(48) < x(54) && x(31) < x(35),
                "mouth and nose left to right (face {i})"
            );
            // The inner lips lie inside the outer ones.
            assert!(
                y(51) <= y(62) + 1e-3 && y(66) <= y(57) + 1e-3,
                "inner lips inside (face {i})"
            );
        }
    }
}

#[test]
fn the_lower_face_varies_between_faces() {
    // Chin, nose and mouth positions relative to the eyes spread over a real range.
    let spans: Vec<(f32, f32)> = (0..200)
        .map(|i| {
            let lm = generate_face(5, i, 256).landmarks;
            let p = upright(&lm);
            let eye_dist = p[45][0] - p[36][0];
            (
                (p[8][1] - p[30][1]) / eye_dist,
                (p[54][0] - p[48][0]) / eye_dist,
            )
        })
        .collect();
    let range = |f: &dyn Fn(&(f32, f32)) -> f32| {
        let v: Vec<f32> = spans.iter().map(f).collect();
        v.iter().cloned().fold(f32::MIN, f32::max) - v.iter().cloned().fold(f32::MAX, f32::min)
    };
    assert!(range(&|s| s.0) > 0.25, "chin-to-nose length barely varies");
    assert!(range(&|s| s.1) > 0.2, "mouth width barely varies");
}
