//! A folder of photos alone becomes a face dataset: two of face-api's demo photos, plus a file
//! that is not an image and a photo without a face, with either detector.

use unmask_detect::DetectorKind;
use unmask_faces::{generate, FacesConfig};
use unmask_weights::{WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

#[test]
fn photos_without_landmarks_become_aligned_crops_with_landmarks() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let store = WeightStore::from_env().unwrap();
    for photo in &FACE_API_DEMO_PHOTOS[..2] {
        let src = store.package_file(&FACE_API, photo).unwrap();
        std::fs::copy(src, photos.join(photo.file_name())).unwrap();
    }
    std::fs::write(photos.join("broken.png"), b"not an image").unwrap();
    image::RgbImage::from_pixel(300, 200, image::Rgb([90, 120, 200]))
        .save(photos.join("sky.png"))
        .unwrap();
    let out = tmp.path().join("faces");
    // face-api finds 3 + 3 faces in sample1 and sample2 with its SSD detector, 3 + 1 with the
    // tiny one (tests/reference/face_api).
    for (detector, expected) in [(DetectorKind::Tiny, 4), (DetectorKind::Ssd, 6)] {
        let cfg = FacesConfig {
            dir: Some(photos.clone()),
            size: 128,
            preview_count: 4,
            detector,
            // Two of the four photos are rejected on purpose.
            max_reject_fraction: 0.5,
            ..Default::default()
        };
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let summary = generate(&cfg, &out).unwrap();
        assert_eq!(summary.count, expected, "{detector:?}");
        let faces = unmask_faces::read_faces(&out).unwrap();
        assert_eq!(faces.len(), expected);
        for f in &faces {
            let img = image::open(&f.path).unwrap();
            assert_eq!((img.width(), img.height()), (128, 128));
            // Aligned: the eyes level and in the upper half, the mouth below them.
            let lm = &f.landmarks.0;
            let (le, re) = (lm[36..42].iter(), lm[42..48].iter());
            let eye_y = le.chain(re).map(|p| p[1]).sum::<f32>() / 12.0;
            assert!(eye_y > 20.0 && eye_y < 64.0, "eye line at {eye_y}");
            assert!(
                (lm[39][1] - lm[42][1]).abs() < 8.0,
                "eyes not level: {lm:?}"
            );
            assert!(lm[57][1] > eye_y + 15.0);
            assert!(lm.iter().all(|p| p[0] > -10.0 && p[0] < 138.0));
        }
    }
    let rejects = unmask_core::manifest::read_parquet(&out.join("rejects.parquet")).unwrap();
    let reasons =
        unmask_core::manifest::str_column(&rejects, "reason", &out.join("rejects.parquet"))
            .unwrap();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("no face found")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("not a PNG (starts with \"not an i\")")),
        "{reasons:?}"
    );
    assert!(out.join("preview.png").is_file());
    // At the default limit (10%) losing half the photos fails the source, naming why.
    let strict = FacesConfig {
        dir: Some(photos.clone()),
        size: 128,
        detector: DetectorKind::Tiny,
        ..Default::default()
    };
    let err = format!("{:#}", generate(&strict, &out).unwrap_err());
    assert!(
        err.contains("2 of 4 photos rejected") && err.contains("no face found x1"),
        "{err}"
    );
}

#[test]
fn demo_photos_and_a_folder_are_two_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = FacesConfig {
        demo_photos: true,
        dir: Some(tmp.path().to_path_buf()),
        ..Default::default()
    };
    let err = generate(&cfg, tmp.path()).unwrap_err().to_string();
    assert!(
        err.contains("demo_photos") && err.contains("faces.dir") && err.contains("faces.landmarks"),
        "{err}"
    );
}
