//! `unmask inpaint` as a user runs it, with a given mask and with the segmenter's.

mod common;
use common::{tiny_gan, tiny_pairs, tiny_segmenter, unmask};

#[test]
fn inpaint_fills_only_the_hole() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tiny_pairs(tmp.path(), 32);
    let runs = tmp.path().join("runs");
    tiny_segmenter(&data, &runs.join("p/train-seg"), 1);
    tiny_gan(&data, &runs.join("p/train-inpaint"));

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
