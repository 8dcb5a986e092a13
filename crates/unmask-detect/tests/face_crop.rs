//! `FaceFinder::face_crop_landmarks`: an image taken to be one face's crop gets the detected
//! face's landmarks, or, when the detector finds none, the landmark net's in `FACE_CROP_BOX`.

use unmask_detect::{Detector, FaceFinder, FACE_CROP_BOX, SSD_DEFAULT_MIN_CONFIDENCE};
use unmask_weights::{WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

type B = burn::backend::Flex;

fn finder() -> FaceFinder<B> {
    let store = WeightStore::from_env().unwrap();
    FaceFinder::<B>::load(&store, Detector::Ssd, &Default::default()).unwrap()
}

#[test]
fn a_detected_face_gives_the_detectors_landmarks() {
    let store = WeightStore::from_env().unwrap();
    let path = store
        .package_file(&FACE_API, &FACE_API_DEMO_PHOTOS[0])
        .unwrap();
    let img = image::open(path).unwrap().to_rgb8();
    let finder = finder();
    let (_, all) = finder.find(&img, SSD_DEFAULT_MIN_CONFIDENCE).unwrap();
    let (points, found) = finder
        .face_crop_landmarks(&img, SSD_DEFAULT_MIN_CONFIDENCE)
        .unwrap();
    assert!(found);
    assert_eq!(points, all[0]);
}

#[test]
fn without_a_detected_face_the_points_lie_in_the_crop_box() {
    // A flat grey square holds no face for the detector to find.
    let img = image::RgbImage::from_pixel(128, 96, image::Rgb([128, 128, 128]));
    let finder = finder();
    assert!(finder
        .detect(&img, SSD_DEFAULT_MIN_CONFIDENCE)
        .unwrap()
        .is_empty());
    let (points, found) = finder
        .face_crop_landmarks(&img, SSD_DEFAULT_MIN_CONFIDENCE)
        .unwrap();
    assert!(!found);
    let [x, y, w, h] = FACE_CROP_BOX;
    let centre = points
        .iter()
        .fold([0.0, 0.0], |c, p| [c[0] + p[0] / 68.0, c[1] + p[1] / 68.0]);
    // The net places a face's points around the middle of the box it is given.
    let want = [(x + w / 2.0) * 128.0, (y + h / 2.0) * 96.0];
    assert!(
        (centre[0] - want[0]).abs() < 0.15 * w * 128.0
            && (centre[1] - want[1]).abs() < 0.25 * h * 96.0,
        "centre {centre:?}, the box's {want:?}"
    );
}
