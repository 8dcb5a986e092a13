//! Writes a contact sheet of every mask type and variant to the temp directory for eyeballing:
//! `cargo test -p unmask-masks --test preview -- --ignored`.

mod common;

use image::{imageops, RgbImage};
use rand::{Rng, SeedableRng};
use unmask_masks::{
    render_mask, sample_style, ColorBlend, MaskConfig, MaskStyle, MaskType, Pattern, PatternStyle,
    Rgb,
};

#[test]
#[ignore = "writes a PNG for visual inspection"]
fn write_preview() {
    let size = 256u32;
    let base = common::centred_face(size, 150.0);
    // Frontal, then yawed both ways by shifting the nose (see the tilt tests).
    let poses = [
        base,
        common::shift_nose(&base, -22.0),
        common::shift_nose(&base, 22.0),
    ];
    let pattern = |p: Pattern, c0: [u8; 3], c1: [u8; 3]| PatternStyle {
        pattern: p,
        weight: 0.6,
        colors: [Rgb(c0), Rgb(c1)],
        scale: 26.0,
        angle_degrees: 30.0,
    };
    let extras = [
        MaskStyle {
            color: Some(ColorBlend::default()),
            ..MaskStyle::plain(MaskType::Surgical)
        },
        MaskStyle {
            pattern: Some(pattern(Pattern::Check, [200, 40, 50], [245, 240, 230])),
            ..MaskStyle::plain(MaskType::Cloth)
        },
        MaskStyle {
            pattern: Some(pattern(Pattern::Stripes, [30, 50, 110], [240, 240, 240])),
            ..MaskStyle::plain(MaskType::Cloth)
        },
        MaskStyle {
            pattern: Some(pattern(Pattern::Dots, [230, 120, 150], [250, 250, 250])),
            ..MaskStyle::plain(MaskType::Kn95)
        },
        MaskStyle {
            pattern: Some(pattern(Pattern::Floral, [40, 60, 120], [240, 190, 200])),
            ..MaskStyle::plain(MaskType::Cloth)
        },
        MaskStyle {
            pattern: Some(pattern(Pattern::Fabric, [90, 100, 110], [170, 175, 180])),
            ..MaskStyle::plain(MaskType::Cloth)
        },
        MaskStyle {
            color: Some(ColorBlend {
                color: Rgb([200, 40, 50]),
                weight: 0.6,
            }),
            ..MaskStyle::plain(MaskType::N95)
        },
    ];
    let rows: Vec<Vec<(MaskStyle, usize)>> = vec![
        MaskType::ALL
            .iter()
            .map(|t| (MaskStyle::plain(*t), 0))
            .collect(),
        MaskType::ALL
            .iter()
            .map(|t| (MaskStyle::plain(*t), 1))
            .collect(),
        MaskType::ALL
            .iter()
            .map(|t| (MaskStyle::plain(*t), 2))
            .collect(),
        extras.iter().map(|s| (s.clone(), 0)).collect(),
    ];
    let mut sheet = RgbImage::new(size * 7, size * rows.len() as u32);
    for (r, row) in rows.iter().enumerate() {
        for (c, (style, pose)) in row.iter().enumerate() {
            let lm = &poses[*pose];
            let face = common::face_image(size, size, lm);
            let out = render_mask(&face, lm, style).unwrap();
            imageops::replace(
                &mut sheet,
                &out.image,
                (c as u32 * size) as i64,
                (r as u32 * size) as i64,
            );
        }
    }
    let path = std::env::temp_dir().join("unmask_masks_preview.png");
    sheet.save(&path).unwrap();
    println!("wrote {}", path.display());

    // Close-ups at a larger scale, to check the details.
    let big = 400u32;
    let lm = common::centred_face(big, 330.0);
    let face = common::face_image(big, big, &lm);
    let mut sheet = RgbImage::new(big * 4, big * 2);
    for (i, t) in MaskType::ALL
        .iter()
        .chain([MaskType::Surgical].iter())
        .enumerate()
    {
        let style = if i == 7 {
            extras[4].clone()
        } else {
            MaskStyle::plain(*t)
        };
        let out = render_mask(&face, &lm, &style).unwrap();
        imageops::replace(
            &mut sheet,
            &out.image,
            ((i as u32 % 4) * big) as i64,
            ((i as u32 / 4) * big) as i64,
        );
    }
    let path = std::env::temp_dir().join("unmask_masks_closeup.png");
    sheet.save(&path).unwrap();
    println!("wrote {}", path.display());

    // Random styles on random poses, as a pipeline would draw them.
    let cfg = MaskConfig::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut sheet = RgbImage::new(size * 7, size * 3);
    for k in 0..21u32 {
        let width = rng.random_range(90.0..170.0f32);
        let roll = rng.random_range(-35.0..35.0f32);
        let yaw = rng.random_range(-25.0..25.0f32);
        let lm = common::shift_nose(&common::centred_face(size, width), yaw * width / 150.0);
        let lm = common::rotate(&lm, [128.0, 128.0], roll);
        let face = common::face_image(size, size, &lm);
        let style = sample_style(&cfg, &mut rng);
        let out = render_mask(&face, &lm, &style).unwrap();
        imageops::replace(
            &mut sheet,
            &out.image,
            ((k % 7) * size) as i64,
            ((k / 7) * size) as i64,
        );
    }
    let path = std::env::temp_dir().join("unmask_masks_random.png");
    sheet.save(&path).unwrap();
    println!("wrote {}", path.display());
}
