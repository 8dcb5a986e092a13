//! `unmask segment` as a user runs it: with a trained model, and without one.

mod common;
use common::{tiny_pairs, tiny_segmenter, unmask};

#[test]
fn segment_writes_a_mask_of_the_image_size() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tiny_pairs(tmp.path(), 64);
    // Laid out as a pipeline run, so the default model lookup finds it.
    tiny_segmenter(&data, &tmp.path().join("runs/p/train-seg"), 2);

    let image = unmask_masks::read_pairs(&data).unwrap()[0].masked.clone();
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
