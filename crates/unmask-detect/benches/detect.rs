//! Face detection and landmarks on the CPU (burn flex) for a 1024x768 photo with one face
//! (cut from face-api's `sample2.jpg`): the tiny detector alone, the SSD detector alone, and
//! the tiny detector + 68 landmarks.

use criterion::{criterion_group, criterion_main, Criterion};
use unmask_detect::{
    LandmarkNet, SsdMobilenetV1, TinyFaceDetector, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD,
    SSD_DEFAULT_MIN_CONFIDENCE,
};
use unmask_weights::{Asset, WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

type B = burn::backend::Flex;

fn detect(c: &mut Criterion) {
    // The allocator as the binaries set it up, so figures match what a run sees.
    unmask_core::malloc::keep_freed_buffers();
    let store = WeightStore::from_env().expect("weights store");
    let device = Default::default();
    let detector =
        TinyFaceDetector::<B>::load(&store.path(Asset::TinyFaceDetector).unwrap(), &device)
            .unwrap();
    let net = LandmarkNet::<B>::load(&store.path(Asset::FaceLandmark68).unwrap(), &device).unwrap();
    let photo = store
        .package_file(&FACE_API, &FACE_API_DEMO_PHOTOS[1])
        .unwrap();
    // A 1024x768 cut of the photo holding its one face.
    let full = image::open(photo).unwrap().to_rgb8();
    let img = image::imageops::crop_imm(&full, full.width() - 1024, 100, 1024, 768).to_image();
    let faces = detector
        .detect(&img, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD)
        .unwrap();
    assert_eq!(faces.len(), 1, "the bench photo has one face");
    let mut group = c.benchmark_group("face_1024x768");
    group.sample_size(20);
    group.bench_function("detect", |b| {
        b.iter(|| {
            detector
                .detect(&img, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD)
                .unwrap()
        })
    });
    let ssd =
        SsdMobilenetV1::<B>::load(&store.path(Asset::SsdMobilenetV1).unwrap(), &device).unwrap();
    let found = ssd.detect(&img, SSD_DEFAULT_MIN_CONFIDENCE).unwrap();
    assert_eq!(found.len(), 1, "the SSD detector finds the one face");
    group.bench_function("detect_ssd", |b| {
        b.iter(|| ssd.detect(&img, SSD_DEFAULT_MIN_CONFIDENCE).unwrap())
    });
    group.bench_function("detect_ssd_burn_ops", |b| {
        unmask_kernels::with_burn_ops(|| {
            b.iter(|| ssd.detect(&img, SSD_DEFAULT_MIN_CONFIDENCE).unwrap())
        })
    });
    group.bench_function("detect_burn_ops", |b| {
        unmask_kernels::with_burn_ops(|| {
            b.iter(|| {
                detector
                    .detect(&img, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD)
                    .unwrap()
            })
        })
    });
    group.bench_function("detect_and_landmarks", |b| {
        b.iter(|| {
            let faces = detector
                .detect(&img, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD)
                .unwrap();
            net.landmarks(&img, &faces).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, detect);
criterion_main!(benches);
