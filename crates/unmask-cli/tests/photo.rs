//! `unmask PHOTOS -o OUT` as a user runs it on a folder: face-api's demo photos (real faces),
//! a cut-off JPEG, a file that is not an image and one over the size limit; and
//! `unmask wear-mask` drawing masks on chosen faces of a demo photo.

mod common;
use common::{tiny_gan, tiny_pairs, tiny_segmenter, unmask};
use unmask_weights::{WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

#[test]
fn a_folder_of_photos_changes_only_the_faces_and_lists_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tiny_pairs(tmp.path(), 32);
    let runs = tmp.path().join("runs");
    tiny_segmenter(&data, &runs.join("p/train-seg"), 1);
    tiny_gan(&data, &runs.join("p/train-inpaint"));

    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let store = WeightStore::from_env().unwrap();
    for photo in &FACE_API_DEMO_PHOTOS[1..3] {
        let src = store.package_file(&FACE_API, photo).unwrap();
        std::fs::copy(&src, photos.join(photo.file_name())).unwrap();
    }
    let whole = std::fs::read(photos.join("sample2.jpg")).unwrap();
    std::fs::write(photos.join("cut.jpg"), &whole[..whole.len() / 3]).unwrap();
    std::fs::write(photos.join("notes.png"), b"not an image").unwrap();
    image::GrayImage::new(7100, 7100)
        .save(photos.join("huge.png"))
        .unwrap();

    let out = tmp.path().join("out");
    let args = [
        photos.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--json",
        // The tiny segmenter marks anything; take its marks so the paste path runs.
        "--min-coverage",
        "0",
    ];
    // One writer per output folder, as for pipeline folders.
    let held = unmask_core::lock::FolderLock::acquire(&out, unmask_core::lock::Wait::No).unwrap();
    let refused = unmask(&args, &runs);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("is in use by process"),
        "{stderr}"
    );
    drop(held);
    let run = unmask(&args, &runs);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "bad files must fail the batch");
    for (file, why) in [
        ("cut.jpg", "truncated"),
        ("notes.png", "not a PNG (starts with \"not an i\")"),
        ("huge.png", "megapixels"),
    ] {
        assert!(
            stderr.contains(file) && stderr.contains(why),
            "`{file}` / `{why}` missing from:\n{stderr}"
        );
    }
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let done = summary["photos"].as_array().unwrap();
    assert_eq!(done.len(), 2, "{summary}");
    assert_eq!(summary["failed"].as_array().unwrap().len(), 3);
    for s in done {
        assert!(s["faces_found"].as_u64().unwrap() >= 1, "{s}");
        let input = image::open(s["input"].as_str().unwrap())
            .unwrap()
            .into_rgb8();
        let output = image::open(s["output"].as_str().unwrap())
            .unwrap()
            .into_rgb8();
        assert_eq!(input.dimensions(), output.dimensions());
        // Every changed pixel lies near a detected face (its box grown by its own size).
        let boxes = grown_boxes(s);
        let mut changed = 0;
        for (x, y, p) in output.enumerate_pixels() {
            if p != input.get_pixel(x, y) {
                changed += 1;
                let (fx, fy) = (x as f64, y as f64);
                assert!(
                    boxes
                        .iter()
                        .any(|b| fx >= b.0 && fx <= b.2 && fy >= b.1 && fy <= b.3),
                    "pixel ({x}, {y}) changed away from every face"
                );
            }
        }
        let reported: u64 = s["faces"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["changed_pixels"].as_u64())
            .sum();
        assert!(
            changed as u64 <= reported,
            "{changed} changed, {reported} reported"
        );
    }

    // A face whose confident mask covers less of the mouth and chin than asked is left
    // alone, with the reason: demanding every pixel at 99% leaves the photo as it was.
    let strict = tmp.path().join("strict.png");
    let run = unmask(
        &[
            photos.join("sample2.jpg").to_str().unwrap(),
            "-o",
            strict.to_str().unwrap(),
            "--json",
            "--min-coverage",
            "1",
            "--sure-probability",
            "0.99",
        ],
        &runs,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["faces_unmasked"], 0, "{summary}");
    assert!(
        summary["note"].as_str().unwrap().contains("unchanged"),
        "{summary}"
    );
    for face in summary["faces"].as_array().unwrap() {
        let marked = face["mask_area"].as_f64().unwrap() > 0.0;
        assert!(!marked || face["skipped"].as_str().unwrap().contains("mouth and chin"));
    }
    let input = unmask_detect::read_photo(&photos.join("sample2.jpg")).unwrap();
    assert_eq!(image::open(&strict).unwrap().into_rgb8(), input);

    // --mask fills the user's hole on every face instead of the segmenter's; nothing away
    // from it changes. A mask of another size is refused, naming the flag.
    let (w, h) = input.dimensions();
    let b = &summary["faces"][0]["box"];
    let (bx, by) = (
        b["x"].as_f64().unwrap() as u32,
        b["y"].as_f64().unwrap() as u32,
    );
    let (x0, y0, x1, y1) = (bx + 20, by + 40, bx + 60, by + 70);
    let hole = image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
            255
        } else {
            0
        }])
    });
    let hole_path = tmp.path().join("hole.png");
    hole.save(&hole_path).unwrap();
    let mine = tmp.path().join("mine.png");
    let args = |mask: &std::path::Path, out: &std::path::Path| {
        let photo = photos.join("sample2.jpg");
        let (photo, mask, out) = (
            photo.to_str().unwrap().to_string(),
            mask.to_str().unwrap().to_string(),
            out.to_str().unwrap().to_string(),
        );
        vec![
            photo,
            "-o".into(),
            out,
            "--json".into(),
            "--mask".into(),
            mask,
        ]
    };
    let owned = args(&hole_path, &mine);
    let run = unmask(&owned.iter().map(String::as_str).collect::<Vec<_>>(), &runs);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    for face in summary["faces"].as_array().unwrap() {
        assert_eq!(face["mask_source"], "user", "{face}");
    }
    assert_eq!(
        summary["faces"][0]["unmasked"], true,
        "{}",
        summary["faces"][0]
    );
    let out = image::open(&mine).unwrap().into_rgb8();
    assert_ne!(out, input, "the hole was filled");
    for (x, y, p) in out.enumerate_pixels() {
        if p != input.get_pixel(x, y) {
            assert!(
                x + 30 >= x0 && x < x1 + 30 && y + 30 >= y0 && y < y1 + 30,
                "({x}, {y}) changed away from --mask"
            );
        }
    }
    let small = tmp.path().join("small.png");
    image::GrayImage::new(9, 9).save(&small).unwrap();
    let owned = args(&small, &tmp.path().join("never.png"));
    let run = unmask(&owned.iter().map(String::as_str).collect::<Vec<_>>(), &runs);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && stderr.contains("--mask") && stderr.contains("photo's size"),
        "{stderr}"
    );
}

/// The boxes of a summary's faces, each grown by its own size on every side.
fn grown_boxes(summary: &serde_json::Value) -> Vec<(f64, f64, f64, f64)> {
    summary["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let b = &f["box"];
            let (x, y) = (b["x"].as_f64().unwrap(), b["y"].as_f64().unwrap());
            let (w, h) = (b["width"].as_f64().unwrap(), b["height"].as_f64().unwrap());
            (x - w, y - h, x + 2.0 * w, y + 2.0 * h)
        })
        .collect()
}

#[test]
fn wear_mask_draws_on_the_chosen_face_only() {
    let tmp = tempfile::tempdir().unwrap();
    let store = WeightStore::from_env().unwrap();
    // sample3: three faces.
    let photo = store
        .package_file(&FACE_API, &FACE_API_DEMO_PHOTOS[2])
        .unwrap();
    let out = tmp.path().join("worn.png");
    let wear = |extra: &[&str]| {
        let mut args = vec![
            "wear-mask",
            photo.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ];
        args.extend_from_slice(extra);
        unmask(&args, tmp.path())
    };
    let run = wear(&["--faces", "1", "--save-mask", "--type", "gas"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["faces_found"], 3, "{summary}");
    assert_eq!(summary["faces_masked"], 1, "{summary}");
    let face = &summary["faces"][1];
    assert_eq!(face["masked"], true, "{summary}");
    assert_eq!(face["mask_type"], "gas", "{summary}");

    let input = unmask_detect::read_photo(&photo).unwrap();
    let worn = image::open(&out).unwrap().into_rgb8();
    let truth = image::open(summary["mask"].as_str().unwrap())
        .unwrap()
        .into_luma8();
    assert_eq!(worn.dimensions(), input.dimensions());
    let region = grown_boxes(&summary)[1];
    let near = |x: u32, y: u32| {
        let (x, y) = (x as f64, y as f64);
        x >= region.0 && x <= region.2 && y >= region.1 && y <= region.3
    };
    let marked = truth.pixels().filter(|p| p.0[0] > 0).count();
    assert_eq!(marked as u64, face["mask_pixels"].as_u64().unwrap());
    assert!(marked > 1000, "{marked} mask pixels");
    let mut changed = 0;
    for (x, y, p) in worn.enumerate_pixels() {
        if truth.get_pixel(x, y).0[0] > 0 {
            assert!(near(x, y), "mask pixel ({x}, {y}) away from face 1");
        }
        if p != input.get_pixel(x, y) {
            changed += 1;
            assert!(near(x, y), "pixel ({x}, {y}) changed away from face 1");
        }
    }
    assert!(
        changed >= marked / 2,
        "{changed} changed, {marked} in the mask"
    );

    // Same seed, same photo: the same masks.
    let first = std::fs::read(&out).unwrap();
    assert!(wear(&["--faces", "1", "--type", "gas"]).status.success());
    assert_eq!(std::fs::read(&out).unwrap(), first);

    let run = wear(&["--faces", "5"]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("face 5") && err.contains("3 face(s)"), "{err}");
}
