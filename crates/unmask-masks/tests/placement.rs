//! Anchor points, tilt and homography on faces with known geometry.

mod common;

use unmask_masks::{
    anchor_points, face_tilt_degrees, mean_face, AnchorPoints, Homography, MaskError, MaskType,
    Point, Template, TemplateVariant,
};

const CX: f32 = 128.0;
const CY: f32 = 110.0;
const RX: f32 = 70.0;
const RY: f32 = 90.0;

/// Jaw point `i` on the lower half of an axis-aligned ellipse, from the image left (i = 0)
/// through the chin (i = 8) to the image right (i = 16).
fn jaw(i: usize) -> Point {
    let th = std::f32::consts::PI * i as f32 / 16.0;
    [CX - RX * th.cos(), CY + RY * th.sin()]
}

/// An idealised symmetric face: eyes level at y = 90, nose bridge x = 128 from y = 90 to
/// `nose_tip_y`, mouth corners at y = 150 with the lowest bottom-lip point at (128, 162).
fn ideal_face(nose_tip_y: f32) -> [Point; 68] {
    let mut lm = [[0.0; 2]; 68];
    for (i, p) in lm.iter_mut().enumerate().take(17) {
        *p = jaw(i);
    }
    for i in 0..5 {
        lm[17 + i] = [84.0 + 8.0 * i as f32, 75.0];
        lm[22 + i] = [140.0 + 8.0 * i as f32, 75.0];
    }
    for i in 0..4 {
        lm[27 + i] = [CX, 90.0 + (nose_tip_y - 90.0) * i as f32 / 3.0];
    }
    for i in 0..5 {
        lm[31 + i] = [118.0 + 5.0 * i as f32, nose_tip_y + 5.0];
    }
    let eye = |c: f32| {
        [
            [c - 10.0, 90.0],
            [c - 4.0, 86.0],
            [c + 4.0, 86.0],
            [c + 10.0, 90.0],
            [c + 4.0, 94.0],
            [c - 4.0, 94.0],
        ]
    };
    lm[36..42].copy_from_slice(&eye(100.0));
    lm[42..48].copy_from_slice(&eye(156.0));
    let outer = [
        [108.0, 150.0],
        [115.0, 145.0],
        [122.0, 143.0],
        [128.0, 144.0],
        [134.0, 143.0],
        [141.0, 145.0],
        [148.0, 150.0],
        [142.0, 157.0],
        [135.0, 160.0],
        [128.0, 162.0],
        [121.0, 160.0],
        [114.0, 157.0],
    ];
    lm[48..60].copy_from_slice(&outer);
    let inner = [
        [112.0, 150.0],
        [122.0, 148.0],
        [128.0, 149.0],
        [134.0, 148.0],
        [144.0, 150.0],
        [134.0, 153.0],
        [128.0, 154.0],
        [122.0, 153.0],
    ];
    lm[60..68].copy_from_slice(&inner);
    lm
}

/// Where the horizontal line at `y` crosses the jaw polyline on the left, by hand: find the
/// chord whose end points straddle `y` and interpolate along it.
fn chord_crossing_left(y: f32) -> Point {
    for i in 0..8 {
        let (p, q) = (jaw(i), jaw(i + 1));
        if p[1] <= y && y <= q[1] {
            let t = (y - p[1]) / (q[1] - p[1]);
            return [p[0] + t * (q[0] - p[0]), y];
        }
    }
    panic!("no chord at y = {y}");
}

fn assert_near(p: Point, q: Point, tol: f32, what: &str) {
    let d = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
    assert!(d <= tol, "{what}: {p:?} vs expected {q:?} (off by {d})");
}

#[test]
fn anchors_of_an_idealised_face() {
    let lm = ideal_face(120.0);
    let got = anchor_points(&lm).unwrap();
    // a, c: the line through the nose tip (y = 120) meets chord 0-1 on the left, 15-16 on the
    // right, symmetric about x = 128.
    let a = chord_crossing_left(120.0);
    assert_near(got.a, a, 1e-3, "a");
    assert_near(got.c, [2.0 * CX - a[0], 120.0], 1e-3, "c");
    assert_near(
        got.b,
        [128.0, 105.0],
        1e-4,
        "b = midpoint of 27 (y 90) and 30 (y 120)",
    );
    assert_near(got.e, [128.0, 200.0], 1e-4, "e = chin");
    // d, f: the line through the lowest bottom-lip point (y = 162) meets chord 3-4.
    let d = chord_crossing_left(162.0);
    assert_near(got.d, d, 1e-3, "d");
    assert_near(got.f, [2.0 * CX - d[0], 162.0], 1e-3, "f");
    // Sanity of the hand computation itself: chord 0-1 for y = 120, chord 3-4 for y = 162.
    assert!(jaw(0)[1] <= 120.0 && jaw(1)[1] >= 120.0);
    assert!(jaw(3)[1] <= 162.0 && jaw(4)[1] >= 162.0);
}

#[test]
fn anchors_fall_back_to_the_jaw_ellipse() {
    // The nose tip at y = 100 is above the jaw's ends (y = 110): the line misses the polyline,
    // and the ellipse fitted to the jaw (exactly the one the points lie on) is used instead.
    let lm = ideal_face(100.0);
    let got = anchor_points(&lm).unwrap();
    let half = RX * (1.0 - ((100.0 - CY) / RY).powi(2)).sqrt();
    assert_near(got.a, [CX - half, 100.0], 0.05, "a on the ellipse");
    assert_near(got.c, [CX + half, 100.0], 0.05, "c on the ellipse");
}

#[test]
fn anchors_follow_a_rotated_face() {
    let lm = ideal_face(120.0);
    let base = anchor_points(&lm).unwrap();
    let c = [128.0, 128.0];
    let turned = anchor_points(&common::rotate(&lm, c, 30.0)).unwrap();
    let rot = |p: Point| common::rotate(&[p; 68], c, 30.0)[0];
    let expect = AnchorPoints::from_array(base.to_array().map(rot));
    for (p, q) in turned.to_array().iter().zip(expect.to_array()) {
        assert_near(*p, q, 1e-2, "rotated anchor");
    }
}

#[test]
fn bad_landmarks_are_errors() {
    let mut lm = ideal_face(120.0);
    lm[33][1] = f32::NAN;
    assert_eq!(
        anchor_points(&lm),
        Err(MaskError::NonFiniteLandmark { index: 33 })
    );
    let mut lm = ideal_face(120.0);
    lm[0][0] = f32::INFINITY;
    assert_eq!(
        anchor_points(&lm),
        Err(MaskError::NonFiniteLandmark { index: 0 })
    );
    let mut lm = ideal_face(120.0);
    lm[5][0] = 1e30;
    assert!(matches!(
        anchor_points(&lm),
        Err(MaskError::LandmarkOutOfRange { index: 5, .. })
    ));
    assert!(matches!(
        anchor_points(&[[50.0, 50.0]; 68]),
        Err(MaskError::DegenerateLandmarks(_))
    ));
    assert!(matches!(
        anchor_points(&[[0.0, 0.0]; 68]),
        Err(MaskError::DegenerateLandmarks(_))
    ));
    // Mirrored labelling (left and right swapped) puts the chin above the eyes.
    let mirrored = ideal_face(120.0).map(|p| [256.0 - p[0], p[1]]);
    assert!(matches!(
        anchor_points(&mirrored),
        Err(MaskError::DegenerateLandmarks(_))
    ));
    // A collapsed nose.
    let mut lm = ideal_face(120.0);
    lm[27..31].fill([128.0, 100.0]);
    assert!(anchor_points(&lm).is_err());
}

#[test]
fn tilt_picks_the_turned_variants() {
    let lm = ideal_face(120.0);
    assert!(face_tilt_degrees(&lm).abs() < 1e-4);
    assert_eq!(
        TemplateVariant::from_tilt(face_tilt_degrees(&lm)),
        TemplateVariant::Front
    );
    // Rotating the whole face in the image plane is not a turn.
    let rolled = common::rotate(&lm, [128.0, 128.0], 35.0);
    assert!(face_tilt_degrees(&rolled).abs() < 1e-2);
    // Leaning the nose line (27 -> 30 and the tip) by 20 degrees about landmark 27 is.
    for (deg, expect) in [
        (20.0, TemplateVariant::Right),
        (-20.0, TemplateVariant::Left),
        (8.0, TemplateVariant::Front),
    ] {
        let leaned = common::rotate(&lm, lm[27], -deg);
        let mut turned = lm;
        turned[27..36].copy_from_slice(&leaned[27..36]);
        let tilt = face_tilt_degrees(&turned);
        // Leaning the nose towards the image right gives a negative tilt.
        assert!((tilt + deg).abs() < 2.0, "lean {deg}: tilt {tilt}");
        assert_eq!(TemplateVariant::from_tilt(tilt), expect, "lean {deg}");
    }
    assert_eq!(TemplateVariant::from_tilt(13.0), TemplateVariant::Front);
    assert_eq!(TemplateVariant::from_tilt(13.5), TemplateVariant::Left);
    assert_eq!(TemplateVariant::from_tilt(-13.5), TemplateVariant::Right);
}

#[test]
fn homography_puts_template_anchors_on_a_real_face() {
    // The mean face (an average of real annotated faces) at several sizes, rolls and places.
    for (i, (width, roll, centre)) in [
        (150.0, 0.0, [128.0, 128.0]),
        (90.0, 17.0, [100.0, 140.0]),
        (220.0, -25.0, [130.0, 120.0]),
    ]
    .iter()
    .enumerate()
    {
        let lm = common::rotate(&mean_face(*centre, *width), *centre, *roll);
        let anchors = anchor_points(&lm).unwrap().to_array();
        for t in [MaskType::Surgical, MaskType::Gas] {
            let tpl = Template::get(t, TemplateVariant::Front);
            let h = Homography::fit(&tpl.anchors(), &anchors).unwrap();
            for (src, dst) in tpl.anchors().iter().zip(anchors) {
                assert_near(h.apply(*src), dst, 0.5, &format!("case {i} {t}"));
            }
            let inv = h.inverse().unwrap();
            for p in [[0.0, 0.0], [400.0, 300.0], [123.4, 56.7], [350.0, 10.0]] {
                assert_near(
                    inv.apply(h.apply(p)),
                    p,
                    1e-2,
                    "round trip template -> image -> template",
                );
            }
            for p in anchors {
                assert_near(
                    h.apply(inv.apply(p)),
                    p,
                    1e-2,
                    "round trip image -> template -> image",
                );
            }
        }
    }
}

#[test]
fn homography_least_squares_with_more_points() {
    // Eight points related by a known homography plus symmetric noise: the fit stays close.
    let truth = Homography([0.9, -0.2, 40.0, 0.15, 1.1, -12.0, 2e-4, -1e-4, 1.0]);
    let src: Vec<Point> = (0..8)
        .map(|i| [20.0 + 37.0 * i as f32, 30.0 + 53.0 * ((i * 3) % 8) as f32])
        .collect();
    let dst: Vec<Point> = src
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let q = truth.apply(*p);
            let e = if i % 2 == 0 { 0.2 } else { -0.2 };
            [q[0] + e, q[1] - e]
        })
        .collect();
    let h = Homography::fit(&src, &dst).unwrap();
    for p in &src {
        assert_near(h.apply(*p), truth.apply(*p), 0.6, "noisy fit");
    }
}
