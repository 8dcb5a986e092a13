//! The `unmask metrics` command on the reference fixtures.

use std::path::PathBuf;
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/fixtures")
}

fn unmask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_unmask"))
        .args(args)
        .output()
        .expect("runs unmask")
}

fn reference_row(a: &str, b: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join("reference.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["a"] == a && r["b"] == b)
        .unwrap()
        .clone()
}

#[test]
fn metrics_json_matches_reference() {
    let f = fixtures();
    let out = unmask(&[
        "metrics",
        f.join("base.png").to_str().unwrap(),
        f.join("noise_high.png").to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = reference_row("base.png", "noise_high.png");
    for key in ["l1", "psnr", "ssim", "lpips_alex"] {
        let (g, w) = (got[key].as_f64().unwrap(), want[key].as_f64().unwrap());
        assert!((g - w).abs() < 1e-3, "{key}: {g} vs {w}");
    }
}

#[test]
fn metrics_identity_is_one_for_the_same_image_and_lower_for_another() {
    let f = fixtures();
    let sim = |other: &str| -> f64 {
        let out = unmask(&[
            "metrics",
            f.join("base.png").to_str().unwrap(),
            f.join(other).to_str().unwrap(),
            "--json",
            "--no-lpips",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        got["id_sim"].as_f64().unwrap()
    };
    assert!((sim("base.png") - 1.0).abs() < 1e-6);
    let noisy = sim("noise_high.png");
    assert!(noisy < 1.0 - 1e-4 && noisy > -1.0, "{noisy}");
}

#[test]
fn metrics_with_mask_prints_hole_l1() {
    let dir = tempfile::tempdir().unwrap();
    let mask = dir.path().join("mask.png");
    image::GrayImage::from_fn(80, 64, |x, _| image::Luma([if x < 40 { 255 } else { 0 }]))
        .save(&mask)
        .unwrap();
    let f = fixtures();
    let out = unmask(&[
        "metrics",
        f.join("base.png").to_str().unwrap(),
        f.join("blur.png").to_str().unwrap(),
        "--mask",
        mask.to_str().unwrap(),
        "--no-lpips",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("hole_l1"), "{text}");
}

#[test]
fn different_sizes_and_unreadable_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.png");
    image::RgbImage::new(20, 20).save(&small).unwrap();
    let bad = dir.path().join("broken.png");
    std::fs::write(&bad, b"not a png").unwrap();
    let base = fixtures().join("base.png");

    let out = unmask(&["metrics", base.to_str().unwrap(), small.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("small.png") && err.contains("same size"),
        "{err}"
    );

    let out = unmask(&["metrics", bad.to_str().unwrap(), base.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("broken.png"), "{err}");
}
