//! `unmask inpaint` as a user runs it, with a given mask and with the segmenter's.

mod common;
use common::{tiny_gan, tiny_guided_gan, tiny_pairs, tiny_segmenter, unmask};

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
    // The hole grows over the mask's rim by the generator's hole_dilation (at 32 px: 1 px).
    let share = unmask_inpaint::GeneratorConfig::default().hole_dilation;
    let grown = unmask_inpaint::hole::grow_mask_by_share(&m, share);
    assert!(
        grown.pixels().filter(|p| p.0[0] > 0).count() > m.pixels().filter(|p| p.0[0] > 127).count(),
        "the hole grew"
    );
    assert_eq!(before.dimensions(), after.dimensions());
    let mut rim_changed = 0;
    for (((a, b), m), g) in before
        .pixels()
        .zip(after.pixels())
        .zip(m.pixels())
        .zip(grown.pixels())
    {
        if g.0[0] == 0 {
            assert_eq!(a, b, "a pixel outside the grown hole changed");
        } else if m.0[0] <= 127 {
            rim_changed += (a != b) as usize;
        }
    }
    assert!(rim_changed > 0, "the rim around the mask was filled too");

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

#[test]
fn a_guided_gan_places_the_landmarks_on_a_face_the_detector_misses() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tiny_pairs(tmp.path(), 32);
    let runs = tmp.path().join("runs");
    tiny_guided_gan(&data, &runs.join("p/train-inpaint"));
    let pair = &unmask_masks::read_pairs(&data).unwrap()[0];
    let out = tmp.path().join("out.png");
    // At 32 px no detector finds the face, so the landmarks come from the crop box.
    let run = unmask(
        &[
            "inpaint",
            pair.masked.to_str().unwrap(),
            "--mask",
            pair.mask.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        &runs,
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("no face detected"), "{stderr}");
    let (before, after) = (
        image::open(&pair.masked).unwrap().into_rgb8(),
        image::open(&out).unwrap().into_rgb8(),
    );
    assert_eq!(before.dimensions(), after.dimensions());
    assert_ne!(before, after, "the hole was filled");
}
