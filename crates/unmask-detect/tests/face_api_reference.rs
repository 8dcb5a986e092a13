//! The port against face-api itself: the package's own JavaScript, run under node on its demo
//! photos, wrote `tests/reference/face_api/sampleN.json` (see the README there). Every face it
//! found must be found here with a box IoU of at least 0.9.

use std::path::PathBuf;
use unmask_detect::{FaceBox, TinyFaceDetector, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD};
use unmask_weights::{Asset, WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

type B = burn::backend::Flex;

fn reference(name: &str) -> (serde_json::Value, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/face_api");
    let path = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    (serde_json::from_str(&text).unwrap(), path)
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
        let path = store.package_file(&FACE_API, photo).unwrap();
        let name = photo.file_name().trim_end_matches(".jpg");
        let (fixture, fixture_path) = reference(name);
        let img = image::open(&path).unwrap().to_rgb8();
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
