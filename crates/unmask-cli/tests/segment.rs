//! `unmask segment` as a user runs it: with a trained model, and without one.

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
fn segment_writes_a_mask_of_the_image_size() {
    let tmp = tempfile::tempdir().unwrap();
    let faces = unmask_faces::dataset::FacesConfig {
        count: 8,
        size: 64,
        val_fraction: 0.3,
        test_fraction: 0.0,
        preview_count: 0,
        ..Default::default()
    };
    let masks = unmask_masks::dataset::MasksParams {
        preview_per_type: 0,
        ..Default::default()
    };
    unmask_masks::dataset::synthetic_pairs(tmp.path(), &faces, &masks).unwrap();
    // Laid out as a pipeline run, so the default model lookup finds it.
    let model_dir = tmp.path().join("runs/p/train-seg");
    let config = unmask_seg::TrainSegConfig {
        model: unmask_seg::UNetConfig {
            depth: 2,
            base_channels: 4,
            image_size: 32,
            ..Default::default()
        },
        max_steps: Some(2),
        batch_size: 4,
        ..Default::default()
    };
    unmask_seg::train(
        &config,
        &tmp.path().join("masks"),
        &model_dir,
        &Default::default(),
    )
    .unwrap();

    let image = unmask_masks::read_pairs(&tmp.path().join("masks")).unwrap()[0]
        .masked
        .clone();
    let out = tmp.path().join("mask.png");
    let run = unmask(
        &[
            "segment",
            image.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
        &tmp.path().join("runs"),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(json["width"], 64);
    assert!(json["mask_area_fraction"].as_f64().unwrap() <= 1.0);
    let mask = image::open(&out).unwrap().into_luma8();
    assert_eq!(mask.dimensions(), (64, 64));
    assert!(mask.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
}

#[test]
fn segment_without_a_model_says_how_to_train_one() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("x.png");
    image::RgbImage::new(8, 8).save(&img).unwrap();
    let run = unmask(
        &["segment", img.to_str().unwrap(), "-o", "m.png"],
        &tmp.path().join("runs"),
    );
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("cargo xtask run quickstart"), "{err}");
}
