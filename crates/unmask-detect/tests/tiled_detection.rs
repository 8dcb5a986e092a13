//! `FaceFinder::detect_tiled`: the whole photo's faces come first, unchanged, and tiles find
//! faces that are too small for the detector in the whole photo.

use image::{imageops, Rgb, RgbImage};
use unmask_detect::{Detector, FaceFinder, SSD_DEFAULT_MIN_CONFIDENCE};
use unmask_weights::{WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

type B = burn::backend::Flex;

#[test]
fn tiles_find_small_faces_and_keep_the_whole_photos_faces_first() {
    let store = WeightStore::from_env().unwrap();
    let finder = FaceFinder::<B>::load(&store, Detector::Ssd, &Default::default()).unwrap();
    let path = store
        .package_file(&FACE_API, &FACE_API_DEMO_PHOTOS[0])
        .unwrap();
    let photo = image::open(path).unwrap().to_rgb8();
    // The demo photo at a third of its size in the corner of a canvas of its own size: its
    // faces become a few dozen pixels wide in a large photo.
    let small = imageops::resize(
        &photo,
        photo.width() / 3,
        photo.height() / 3,
        imageops::FilterType::Triangle,
    );
    let mut canvas = RgbImage::from_pixel(photo.width(), photo.height(), Rgb([120, 120, 120]));
    imageops::overlay(&mut canvas, &small, 0, 0);

    let score = SSD_DEFAULT_MIN_CONFIDENCE;
    let whole = finder.detect(&canvas, score).unwrap();
    assert_eq!(finder.detect_tiled(&canvas, score, 1).unwrap(), whole);
    let tiled = finder.detect_tiled(&canvas, score, 3).unwrap();
    assert_eq!(
        &tiled[..whole.len()],
        &whole[..],
        "the whole photo's faces come first"
    );
    let in_photo = finder.detect(&photo, score).unwrap().len();
    assert!(
        tiled.len() > whole.len(),
        "tiles found {} faces, the whole photo {} (the photo itself has {in_photo})",
        tiled.len(),
        whole.len()
    );
    // Every face found lies in the shrunken photo, not on the grey canvas.
    for face in &tiled {
        let (cx, cy) = (face.x + face.width / 2.0, face.y + face.height / 2.0);
        assert!(
            cx < small.width() as f64 && cy < small.height() as f64,
            "{face:?} lies outside the photo"
        );
    }
}
