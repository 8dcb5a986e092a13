//! The port against face-api itself: the package's own JavaScript, run under node on its demo
//! photos (decoded by this crate's `image`, so both sides see the same pixels), wrote
//! `tests/reference/face_api/sampleN.json` (see the README there). Every face it found must be
//! found here with a box IoU of at least 0.9, and its 68 landmarks within 2% of the distance
//! between the eyes.

use std::path::PathBuf;
use unmask_detect::{
    FaceBox, LandmarkNet, Landmarks68, SsdMobilenetV1, TinyFaceDetector, DEFAULT_INPUT_SIZE,
    DEFAULT_SCORE_THRESHOLD, SSD_DEFAULT_MIN_CONFIDENCE,
};
use unmask_weights::{Asset, WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

type B = burn::backend::Flex;

fn reference(name: &str) -> (serde_json::Value, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/face_api");
    let path = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    (serde_json::from_str(&text).unwrap(), path)
}

/// A demo photo decoded by the `image` crate, checked to be the very pixels the fixtures were
/// computed from (`make_reference.mjs --rgb`, see the README next to them).
fn decoded(store: &WeightStore, photo: &unmask_weights::RawFile) -> image::RgbImage {
    use sha2::Digest;
    let path = store.package_file(&FACE_API, photo).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    let name = photo.file_name().trim_end_matches(".jpg");
    let (fixture, fixture_path) = reference(name);
    let sha = hex::encode(sha2::Sha256::digest(img.as_raw()));
    assert_eq!(
        Some(sha.as_str()),
        fixture["decoded_rgb_sha256"].as_str(),
        "{} was computed from other pixels than this decoder gives: regenerate it (README there)",
        fixture_path.display()
    );
    img
}

fn boxes_of(fixture: &serde_json::Value) -> Vec<FaceBox> {
    fixture["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| FaceBox {
            x: f["box"]["x"].as_f64().unwrap(),
            y: f["box"]["y"].as_f64().unwrap(),
            width: f["box"]["width"].as_f64().unwrap(),
            height: f["box"]["height"].as_f64().unwrap(),
            score: f["score"].as_f64().unwrap(),
        })
        .collect()
}

#[test]
fn detector_finds_the_faces_face_api_finds_on_its_demo_photos() {
    let store = WeightStore::from_env().unwrap();
    let device = Default::default();
    let detector =
        TinyFaceDetector::<B>::load(&store.path(Asset::TinyFaceDetector).unwrap(), &device)
            .unwrap();
    for photo in &FACE_API_DEMO_PHOTOS {
        let name = photo.file_name().trim_end_matches(".jpg");
        let (fixture, fixture_path) = reference(name);
        let img = decoded(&store, photo);
        let found = detector
            .detect(&img, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD)
            .unwrap();
        let want = boxes_of(&fixture);
        println!(
            "{name}: face-api {} faces, ours {}",
            want.len(),
            found.len()
        );
        for w in &want {
            let best = found
                .iter()
                .map(|f| (f.iou(w), f))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let (iou, f) = best.unwrap_or_else(|| {
                panic!(
                    "{name}: no face found for {w:?} ({})",
                    fixture_path.display()
                )
            });
            assert!(iou >= 0.9, "{name}: IoU {iou:.3} for {w:?} vs {f:?}");
            assert!(
                (f.score - w.score).abs() < 0.05,
                "{name}: score {f:?} vs {w:?}"
            );
            println!(
                "  IoU {iou:.4}, score {:.4} (face-api {:.4})",
                f.score, w.score
            );
        }
        assert_eq!(found.len(), want.len(), "{name}: {found:?}");
    }
}

#[test]
fn ssd_detector_finds_the_faces_face_api_finds_on_its_demo_photos() {
    let store = WeightStore::from_env().unwrap();
    let path = store.path(Asset::SsdMobilenetV1).unwrap();
    let detector = SsdMobilenetV1::<B>::load(&path, &Default::default()).unwrap();
    let (mut worst_iou, mut worst_score): (f64, f64) = (1.0, 0.0);
    for photo in &FACE_API_DEMO_PHOTOS {
        let name = photo.file_name().trim_end_matches(".jpg");
        let (fixture, fixture_path) = reference(&format!("ssd_{name}"));
        let img = decoded(&store, photo);
        assert_eq!(
            fixture["decoded_rgb_sha256"],
            reference(name).0["decoded_rgb_sha256"],
            "{} was computed from other pixels than the tiny detector's fixture",
            fixture_path.display()
        );
        let found = detector.detect(&img, SSD_DEFAULT_MIN_CONFIDENCE).unwrap();
        let want = boxes_of(&fixture);
        assert_eq!(found.len(), want.len(), "{name}: {found:?} vs {want:?}");
        // Same order (best first), same boxes.
        for (f, w) in found.iter().zip(&want) {
            println!(
                "{name}: IoU {:.5}, score {:.5} (face-api {:.5})",
                f.iou(w),
                f.score,
                w.score
            );
            worst_iou = worst_iou.min(f.iou(w));
            worst_score = worst_score.max((f.score - w.score).abs());
        }
    }
    println!("worst IoU {worst_iou:.5}, worst score difference {worst_score:.2e}");
    // Measured: IoU 1.00000, scores within 2.4e-7.
    assert!(worst_iou >= 0.999, "worst IoU {worst_iou}");
    assert!(worst_score <= 1e-5, "worst score difference {worst_score}");
}

fn points_of(face: &serde_json::Value) -> Vec<[f64; 2]> {
    face["landmarks68"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
        .collect()
}

/// Distance between the eye centres (points 36-41 and 42-47).
fn inter_ocular(points: &[[f64; 2]]) -> f64 {
    let centre = |r: std::ops::Range<usize>| {
        let n = r.len() as f64;
        let (sx, sy) = r.fold((0.0, 0.0), |(a, b), i| (a + points[i][0], b + points[i][1]));
        [sx / n, sy / n]
    };
    let (l, r) = (centre(36..42), centre(42..48));
    ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2)).sqrt()
}

/// Mean landmark error as a fraction of the reference's inter-ocular distance.
fn relative_error(want: &[[f64; 2]], ours: &Landmarks68) -> f64 {
    let mean = want
        .iter()
        .zip(ours)
        .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt())
        .sum::<f64>()
        / 68.0;
    mean / inter_ocular(want)
}

#[test]
fn landmarks_match_face_api_within_two_percent_of_the_eye_distance() {
    let store = WeightStore::from_env().unwrap();
    let device = Default::default();
    let detector =
        TinyFaceDetector::<B>::load(&store.path(Asset::TinyFaceDetector).unwrap(), &device)
            .unwrap();
    let net = LandmarkNet::<B>::load(&store.path(Asset::FaceLandmark68).unwrap(), &device).unwrap();
    let (mut worst_given, mut worst_end_to_end): (f64, f64) = (0.0, 0.0);
    for photo in &FACE_API_DEMO_PHOTOS {
        let name = photo.file_name().trim_end_matches(".jpg");
        let (fixture, _) = reference(name);
        let img = decoded(&store, photo);
        let faces = fixture["faces"].as_array().unwrap();
        // On face-api's own boxes: the landmark net alone.
        let given = net.landmarks(&img, &boxes_of(&fixture)).unwrap();
        // End to end: our boxes, matched to face-api's by IoU.
        let found = detector
            .detect(&img, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD)
            .unwrap();
        let ours = net.landmarks(&img, &found).unwrap();
        for (k, (face, want_box)) in faces.iter().zip(boxes_of(&fixture)).enumerate() {
            let want = points_of(face);
            let matched = (0..found.len())
                .max_by(|&a, &b| found[a].iou(&want_box).total_cmp(&found[b].iou(&want_box)))
                .unwrap();
            let (g, e) = (
                relative_error(&want, &given[k]),
                relative_error(&want, &ours[matched]),
            );
            println!(
                "{name} face {k}: {:.4}% on face-api's box, {:.4}% end to end",
                g * 100.0,
                e * 100.0
            );
            worst_given = worst_given.max(g);
            worst_end_to_end = worst_end_to_end.max(e);
        }
    }
    assert!(worst_given <= 0.02, "worst {:.2}%", worst_given * 100.0);
    assert!(
        worst_end_to_end <= 0.02,
        "worst {:.2}%",
        worst_end_to_end * 100.0
    );
}

/// Writes the photos as this crate decodes them (raw RGB8) for `make_reference.mjs --rgb`, so
/// the fixtures see the same pixels: `UNMASK_RGB_DIR=/tmp/rgb cargo test -p unmask-detect
/// --test face_api_reference -- --ignored dump`.
#[test]
#[ignore]
fn dump_decoded_photos() {
    let dir = PathBuf::from(std::env::var("UNMASK_RGB_DIR").expect("set UNMASK_RGB_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let store = WeightStore::from_env().unwrap();
    for photo in &FACE_API_DEMO_PHOTOS {
        let path = store.package_file(&FACE_API, photo).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        let name = photo.file_name().trim_end_matches(".jpg");
        std::fs::write(dir.join(format!("{name}.rgb")), img.as_raw()).unwrap();
    }
}

fn landmarks_of(face: &serde_json::Value) -> Landmarks68 {
    let mut points = [[0.0; 2]; 68];
    for (p, v) in points
        .iter_mut()
        .zip(face["landmarks68"].as_array().unwrap())
    {
        *p = [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()];
    }
    points
}

/// `descriptor_sampleN.json` (`make_descriptor_reference.mjs`): face-api's recognition net on
/// the crops it cuts from its own landmarks. Here: the same crop rectangle from the same
/// landmarks, the same descriptor within 1e-4 per value given that rectangle, and from this
/// crate's own landmarks (on face-api's boxes) a descriptor far closer to face-api's than
/// any other person is (face-api's same-person threshold is 0.6).
#[test]
fn face_descriptors_match_face_api_on_its_demo_photos() {
    use unmask_detect::recognition::{distance, dlib_square, FaceRecognitionNet};
    let store = WeightStore::from_env().unwrap();
    let device = Default::default();
    let net = FaceRecognitionNet::<B>::load(&store.path(Asset::FaceRecognition).unwrap(), &device)
        .unwrap();
    let landmark_net =
        LandmarkNet::<B>::load(&store.path(Asset::FaceLandmark68).unwrap(), &device).unwrap();
    let (mut worst_value, mut worst_end_to_end, mut faces_seen) = (0f64, 0f64, 0);
    for photo in &FACE_API_DEMO_PHOTOS {
        let img = decoded(&store, photo);
        let name = format!("descriptor_{}", photo.file_name().trim_end_matches(".jpg"));
        let (fixture, path) = reference(&name);
        assert_eq!(
            fixture["decoded_rgb_sha256"].as_str().unwrap(),
            reference(photo.file_name().trim_end_matches(".jpg")).0["decoded_rgb_sha256"]
                .as_str()
                .unwrap(),
            "{} was made from other pixels",
            path.display()
        );
        let faces = fixture["faces"].as_array().unwrap();
        let boxes = boxes_of(&fixture);
        let rects: Vec<[f64; 4]> = faces
            .iter()
            .map(|f| {
                let r = &f["aligned_rect"];
                ["x", "y", "width", "height"].map(|k| r[k].as_f64().unwrap())
            })
            .collect();
        let ours_given_rects = net.descriptors_of_rects(&img, &rects).unwrap();
        let ours_landmarks = landmark_net.landmarks(&img, &boxes).unwrap();
        let pairs: Vec<_> = boxes.iter().copied().zip(ours_landmarks).collect();
        let end_to_end = net.descriptors(&img, &pairs).unwrap();
        for (i, face) in faces.iter().enumerate() {
            let theirs: Vec<f32> = face["descriptor"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let theirs: unmask_detect::Descriptor = theirs.try_into().unwrap();
            let rect = dlib_square(&landmarks_of(face), &img, &boxes[i]).unwrap();
            assert_eq!(
                rect,
                rects[i],
                "{}: face {i}'s crop rectangle",
                path.display()
            );
            for (a, b) in ours_given_rects[i].iter().zip(&theirs) {
                worst_value = worst_value.max((a - b).abs() as f64);
            }
            let d = distance(&end_to_end[i], &theirs);
            worst_end_to_end = worst_end_to_end.max(d);
            faces_seen += 1;
        }
    }
    eprintln!(
        "{faces_seen} faces: worst value difference {worst_value:.2e} given face-api's crops, worst distance {worst_end_to_end:.4} end to end"
    );
    assert_eq!(faces_seen, 20);
    assert!(worst_value <= 1e-4, "worst value difference {worst_value}");
    assert!(
        worst_end_to_end < 0.1,
        "worst end-to-end distance {worst_end_to_end}"
    );
}
