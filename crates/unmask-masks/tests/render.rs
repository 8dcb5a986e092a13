//! Rendering: coverage equals the binary mask, robustness on random and hostile landmarks,
//! determinism and configuration.

mod common;

use image::RgbImage;
use proptest::prelude::*;
use rand::SeedableRng;
use unmask_masks::{
    render_mask, sample_style, ColorBlend, MaskConfig, MaskError, MaskStyle, MaskType, Pattern,
    PatternStyle, Point, Rgb, Template, TemplateVariant,
};

fn styled(t: MaskType) -> MaskStyle {
    MaskStyle {
        color: Some(ColorBlend::default()),
        pattern: Some(PatternStyle {
            pattern: Pattern::Check,
            weight: 0.4,
            colors: [Rgb([20, 20, 20]), Rgb([240, 240, 240])],
            scale: 20.0,
            angle_degrees: 10.0,
        }),
        ..MaskStyle::plain(t)
    }
}

/// Re-derives the coverage of every pixel from the template and the returned homography and
/// checks it against the binary mask, and that nothing outside coverage or shadow changed.
fn check_mask_is_coverage(face: &RgbImage, lm: &[Point; 68], style: &MaskStyle) -> usize {
    let out = render_mask(face, lm, style).unwrap();
    let tpl = Template::get(style.mask_type, out.variant);
    let inv = out.homography.inverse().unwrap();
    let mut count = 0;
    for (x, y, m) in out.mask.enumerate_pixels() {
        let p = [x as f32 + 0.5, y as f32 + 0.5];
        let s = tpl.sample(inv.apply(p));
        assert_eq!(
            m.0[0] == 255,
            s.alpha > 0.5,
            "pixel ({x}, {y}) alpha {}",
            s.alpha
        );
        assert!(m.0[0] == 0 || m.0[0] == 255);
        count += (m.0[0] == 255) as usize;
        if s.alpha == 0.0 && s.shadow == 0.0 {
            assert_eq!(
                out.image.get_pixel(x, y),
                face.get_pixel(x, y),
                "untouched pixel ({x}, {y})"
            );
        }
    }
    let frac = count as f32 / (face.width() * face.height()) as f32;
    assert!((out.area_fraction - frac).abs() < 1e-6);
    count
}

#[test]
fn binary_mask_is_the_composited_coverage() {
    let lm = common::centred_face(256, 150.0);
    let face = common::face_image(256, 256, &lm);
    for t in MaskType::ALL {
        let n = check_mask_is_coverage(&face, &lm, &styled(t));
        assert!(n > 256 * 256 / 10, "{t} covers {n} pixels");
    }
    // Rolled and turned faces, and a face cut by the image border.
    let rolled = common::rotate(&lm, [128.0, 128.0], 40.0);
    check_mask_is_coverage(&face, &rolled, &styled(MaskType::N95));
    let mut turned = lm;
    for p in &mut turned[30..36] {
        p[0] += 25.0;
    }
    check_mask_is_coverage(&face, &turned, &styled(MaskType::Kn95));
    let shifted = lm.map(|p| [p[0] + 90.0, p[1] + 40.0]);
    let n = check_mask_is_coverage(&face, &shifted, &styled(MaskType::Gas));
    assert!(n > 0);
}

#[test]
fn mask_sits_on_the_lower_face() {
    let lm = common::centred_face(256, 150.0);
    let face = common::face_image(256, 256, &lm);
    for t in MaskType::ALL {
        let out = render_mask(&face, &lm, &MaskStyle::plain(t)).unwrap();
        let covered = |p: Point| out.mask.get_pixel(p[0] as u32, p[1] as u32).0[0] == 255;
        // Nose tip, mouth and chin are hidden; the eyes are not.
        for i in [30, 33, 51, 57, 62, 66] {
            assert!(covered(lm[i]), "{t}: landmark {i} visible");
        }
        for (i, p) in lm.iter().enumerate().skip(36).take(12) {
            assert!(!covered(*p), "{t}: eye landmark {i} covered");
        }
        assert_eq!(out.variant, TemplateVariant::Front);
    }
}

#[test]
fn turned_faces_use_turned_templates() {
    let lm = common::centred_face(256, 150.0);
    let face = common::face_image(256, 256, &lm);
    for (dx, expect) in [
        (30.0, TemplateVariant::Right),
        (-30.0, TemplateVariant::Left),
    ] {
        let turned = common::shift_nose(&lm, dx);
        let out = render_mask(&face, &turned, &MaskStyle::plain(MaskType::Surgical)).unwrap();
        assert_eq!(out.variant, expect, "tilt {}", out.tilt_degrees);
    }
}

#[test]
fn rendering_is_deterministic() {
    let lm = common::centred_face(256, 150.0);
    let face = common::face_image(256, 256, &lm);
    let cfg = MaskConfig {
        texture_probability: 1.0,
        ..MaskConfig::default()
    };
    let run = || {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
        (0..6)
            .map(|_| {
                let style = sample_style(&cfg, &mut rng);
                let out = render_mask(&face, &lm, &style).unwrap();
                (style, out.image.into_raw(), out.mask.into_raw())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn hostile_inputs_are_errors() {
    let lm = common::centred_face(256, 150.0);
    let face = common::face_image(256, 256, &lm);
    let style = MaskStyle::plain(MaskType::Cloth);
    let mut bad = lm;
    bad[8][1] = f32::NAN;
    assert_eq!(
        render_mask(&face, &bad, &style).unwrap_err(),
        MaskError::NonFiniteLandmark { index: 8 }
    );
    assert!(matches!(
        render_mask(&face, &[[7.0, 7.0]; 68], &style),
        Err(MaskError::DegenerateLandmarks(_))
    ));
    assert_eq!(
        render_mask(&RgbImage::new(0, 0), &lm, &style).unwrap_err(),
        MaskError::EmptyImage
    );
    let far = lm.map(|p| [p[0] + 5000.0, p[1]]);
    assert!(matches!(
        render_mask(&face, &far, &style),
        Err(MaskError::MaskOutsideImage(_))
    ));
    // Jaw collapsed onto the nose: anchors no longer form a face.
    let mut squashed = lm;
    for (i, p) in squashed.iter_mut().enumerate().take(17) {
        *p = [lm[30][0] + (i as f32 - 8.0) * 0.01, lm[30][1] + 0.5];
    }
    assert!(render_mask(&face, &squashed, &style).is_err());
    // Odd style numbers are clamped, not trusted.
    let odd = MaskStyle {
        color: Some(ColorBlend {
            color: Rgb([1, 2, 3]),
            weight: f32::NAN,
        }),
        shadow_strength: f32::INFINITY,
        brightness_match: -3.0,
        saturation_match: 99.0,
        ..MaskStyle::plain(MaskType::Surgical)
    };
    let out = render_mask(&face, &lm, &odd).unwrap();
    assert!(out.area_fraction > 0.0);
    // A one-pixel image.
    let tiny = RgbImage::new(1, 1);
    let small = common::centred_face(1, 0.9);
    let _ = render_mask(&tiny, &small, &style);
}

#[test]
fn config_serde_names_defaults_and_unknown_fields() {
    let cfg = MaskConfig::default();
    let json = serde_json::to_string(&cfg).unwrap();
    for name in [
        "surgical",
        "surgical_blue",
        "surgical_green",
        "n95",
        "kn95",
        "cloth",
        "gas",
        "floral",
        "fabric",
    ] {
        assert!(json.contains(&format!("\"{name}\"")), "{name} in {json}");
    }
    let back: MaskConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cfg);
    let partial: MaskConfig =
        serde_json::from_str(r#"{"types": {"kn95": 2.0}, "color_weight": 0.7}"#).unwrap();
    assert_eq!(partial.types.len(), 1);
    assert_eq!(partial.color_weight, 0.7);
    assert_eq!(partial.colors, cfg.colors);
    partial.validate().unwrap();
    assert!(serde_json::from_str::<MaskConfig>(r#"{"colour_weight": 0.7}"#).is_err());
    assert!(serde_json::from_str::<MaskConfig>(r#"{"types": {"bandana": 1.0}}"#).is_err());
    let style = MaskStyle {
        pattern: styled(MaskType::Cloth).pattern,
        ..styled(MaskType::SurgicalBlue)
    };
    let json = serde_json::to_string(&style).unwrap();
    assert!(
        json.contains("\"#0473e2\"")
            && json.contains("\"surgical_blue\"")
            && json.contains("\"check\"")
    );
    assert_eq!(serde_json::from_str::<MaskStyle>(&json).unwrap(), style);
}

/// A plausible face: the mean face scaled, rolled, shifted, turned a little and jittered.
fn plausible_face() -> impl Strategy<Value = [Point; 68]> {
    (
        90.0f32..180.0,
        -35.0f32..35.0,
        -25.0f32..25.0,
        -25.0f32..25.0,
        -20.0f32..20.0,
        prop::collection::vec(-1.5f32..1.5, 136),
    )
        .prop_map(|(width, roll, dx, dy, yaw, jitter)| {
            let c = [128.0 + dx, 128.0 + dy];
            let lm = common::centred_face(256, width).map(|p| [p[0] + dx, p[1] + dy]);
            let lm = common::shift_nose(&lm, yaw * width / 150.0);
            let mut lm = common::rotate(&lm, c, roll);
            for (i, p) in lm.iter_mut().enumerate() {
                p[0] += jitter[2 * i];
                p[1] += jitter[2 * i + 1];
            }
            lm
        })
}

fn any_landmarks() -> impl Strategy<Value = [Point; 68]> {
    let coord = prop_oneof![
        4 => -300.0f32..600.0,
        1 => any::<f32>(),
        1 => Just(f32::NAN),
        1 => Just(0.0f32),
    ];
    prop::collection::vec(coord, 136)
        .prop_map(|v| std::array::from_fn(|i| [v[2 * i], v[2 * i + 1]]))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn plausible_faces_get_a_mask_inside_the_image(lm in plausible_face(), t in 0usize..7, seed in any::<u64>()) {
        let face = common::face_image(256, 256, &lm);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let style = MaskStyle { mask_type: MaskType::ALL[t], ..sample_style(&MaskConfig::default(), &mut rng) };
        let out = render_mask(&face, &lm, &style).unwrap();
        prop_assert_eq!(out.image.dimensions(), (256, 256));
        prop_assert_eq!(out.mask.dimensions(), (256, 256));
        let n = out.mask.pixels().filter(|p| p.0[0] == 255).count();
        prop_assert!(n > 256 * 256 / 20, "only {} pixels", n);
        prop_assert!(out.mask.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
        prop_assert!(out.area_fraction > 0.0 && out.area_fraction < 1.0);
    }

    #[test]
    fn arbitrary_landmarks_never_panic(lm in any_landmarks(), t in 0usize..7, w in 1u32..64, h in 1u32..64) {
        let face = RgbImage::new(w, h);
        if let Ok(out) = render_mask(&face, &lm, &MaskStyle::plain(MaskType::ALL[t])) {
            prop_assert_eq!(out.mask.dimensions(), (w, h));
        }
    }

    #[test]
    fn damaged_faces_never_panic(lm in plausible_face(), idx in prop::collection::vec(0usize..68, 1..6), v in any::<f32>()) {
        let mut lm = lm;
        for i in idx {
            lm[i][i % 2] = v;
        }
        let face = RgbImage::new(128, 96);
        let _ = render_mask(&face, &lm, &MaskStyle::plain(MaskType::Surgical));
    }
}
