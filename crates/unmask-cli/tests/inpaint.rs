//! `unmask inpaint` as a user runs it, with a given mask and with the segmenter's.

use std::path::Path;
use std::process::Command;

fn unmask(args: &[&str], runs: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_unmask"))
        .args(args)
        .env("UNMASK_RUNS", runs)
        .output()
        .unwrap()
}

#[test]
fn inpaint_fills_only_the_hole() {
    let tmp = tempfile::tempdir().unwrap();
    let faces = unmask_faces::dataset::FacesConfig {
        count: 8,
        size: 32,
        val_fraction: 0.3,
        test_fraction: 0.0,
        preview_count: 0,
        ..Default::default()
    };
    let masks = unmask_masks::dataset::MasksParams {
        preview_per_type: 0,
        ..Default::default()
    };
    let data = unmask_masks::dataset::synthetic_pairs(tmp.path(), &faces, &masks).unwrap();
    let runs = tmp.path().join("runs");
    let seg = unmask_seg::TrainSegConfig {
        model: unmask_seg::UNetConfig {
            depth: 2,
            base_channels: 4,
            image_size: 32,
            ..Default::default()
        },
        max_steps: Some(1),
        batch_size: 4,
        ..Default::default()
    };
    unmask_seg::train(&seg, &data, &runs.join("p/train-seg"), &Default::default()).unwrap();
    let mut gan = unmask_inpaint::TrainInpaintConfig {
        generator: unmask_inpaint::GeneratorConfig {
            width: 4,
            image_size: 32,
            ..Default::default()
        },
        max_steps: Some(1),
        batch_size: 2,
        max_val_samples: Some(2),
        sample_count: 1,
        ..Default::default()
    };
    gan.discriminator.layers = 2;
    gan.discriminator.width = 4;
    gan.losses.perceptual = 0.0;
    let inputs = unmask_inpaint::TrainInputs {
        data: &data,
        segmenter: None,
    };
    unmask_inpaint::train(
        &gan,
        &inputs,
        &runs.join("p/train-inpaint"),
        &Default::default(),
    )
    .unwrap();

    let pair = &unmask_masks::read_pairs(&data).unwrap()[0];
    let out = tmp.path().join("out.png");
    let (img, mask, out_s) = (
        pair.masked.to_str().unwrap(),
        pair.mask.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let run = unmask(
        &["inpaint", img, "--mask", mask, "-o", out_s, "--json"],
        &runs,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(json["hole_fraction"].as_f64().unwrap() > 0.0);
    let (before, after) = (
        image::open(&pair.masked).unwrap().into_rgb8(),
        image::open(&out).unwrap().into_rgb8(),
    );
    let m = image::open(&pair.mask).unwrap().into_luma8();
    assert_eq!(before.dimensions(), after.dimensions());
    for ((a, b), m) in before.pixels().zip(after.pixels()).zip(m.pixels()) {
        if m.0[0] <= 127 {
            assert_eq!(a, b, "a pixel outside the mask changed");
        }
    }

    // Without --mask the segmenter finds it.
    let run = unmask(&["inpaint", img, "-o", out_s, "--json"], &runs);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(json["segmenter"].is_string());
}
