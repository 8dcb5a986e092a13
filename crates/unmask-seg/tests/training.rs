//! The segmenter on a tiny synthetic dataset: overfitting, resume, save/load and bad input.

use std::path::Path;
use unmask_seg::training::{BEST_DIR, CHECKPOINT_DIR, STEP_LOG};
use unmask_seg::{evaluation, train, Norm, Segmenter, TrainControl, TrainSegConfig, UNetConfig};
use unmask_train::ScoreRow;

type B = burn::backend::Flex;

/// Faces and masks at 64 px in `dir/faces` and `dir/masks`; returns the masks folder.
fn dataset(dir: &Path, count: usize, val_fraction: f64) -> std::path::PathBuf {
    unmask_testkit::small_pairs(dir, count, 64, val_fraction)
}

fn tiny(steps: u64) -> TrainSegConfig {
    TrainSegConfig {
        model: UNetConfig {
            depth: 2,
            base_channels: 8,
            norm: Norm::Batch,
            image_size: 64,
        },
        epochs: 1000,
        max_steps: Some(steps),
        batch_size: 4,
        lr: 0.01,
        max_train_samples: Some(4),
        checkpoint_every: 1000,
        eval_batch_size: 4,
        ..Default::default()
    }
}

#[test]
fn tiny_unet_overfits_four_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path(), 12, 0.3);
    let out = tmp.path().join("seg");
    let outcome = train(&tiny(80), &data, &out, &TrainControl::default()).unwrap();
    assert_eq!(outcome.run.steps, 80);
    assert!(out.join(STEP_LOG).exists());

    // Score the final weights on the four training pairs themselves.
    let mut pairs = unmask_masks::read_split(&data, "train").unwrap();
    pairs.sort_by(|a, b| a.id.cmp(&b.id));
    pairs.truncate(4);
    let seg = Segmenter::<B>::from_checkpoint(&out, &Default::default()).unwrap();
    let scores =
        evaluation::score_pairs(seg.model(), &pairs, 0.5, 64, 4, &Default::default()).unwrap();
    let dice = evaluation::ValScores::mean(&scores).dice;
    assert!(dice > 0.9, "training Dice after 80 steps: {dice}");
}

#[test]
fn resume_after_interruption_equals_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path(), 10, 0.3);
    // With every augmentation on, so resuming must redraw the same views.
    let config = TrainSegConfig {
        checkpoint_every: 2,
        max_train_samples: Some(6),
        bce_weight: 1.0,
        augment: unmask_seg::AugmentConfig {
            negatives: 0.3,
            photometric: 1.0,
            geometric: 1.0,
            distractors: 0.5,
        },
        ..tiny(6)
    };

    let straight = tmp.path().join("straight");
    train(&config, &data, &straight, &TrainControl::default()).unwrap();

    let resumed = tmp.path().join("resumed");
    // Killed after step 3: the checkpoint of step 2 survives, step 3 is lost.
    let killed = TrainControl {
        stop_after: Some(3),
        ..Default::default()
    };
    train(&config, &data, &resumed, &killed).unwrap();
    let outcome = train(&config, &data, &resumed, &TrainControl::default()).unwrap();
    assert_eq!(outcome.run.resumed_from, Some(2));
    assert_eq!(outcome.run.steps, 6);

    // Same weights: bit-identical logits on a batch (records differ only in parameter ids).
    let pairs = unmask_masks::read_pairs(&data).unwrap();
    let batch =
        unmask_seg::data::make_batch(&pairs[..4], &vec![Default::default(); 4], 64).unwrap();
    let (images, _) = batch.tensors::<B>(&Default::default());
    let logits = |dir: &Path| {
        let seg = Segmenter::<B>::from_checkpoint(dir, &Default::default()).unwrap();
        seg.model()
            .forward(images.clone())
            .into_data()
            .to_vec::<f32>()
            .unwrap()
    };
    assert!(
        logits(&straight) == logits(&resumed),
        "resumed weights differ"
    );
    let log =
        |dir: &Path| unmask_train::log::MetricLog::load(&dir.join(STEP_LOG), u64::MAX).unwrap();
    assert_eq!(log(&straight).column("loss"), log(&resumed).column("loss"));
    assert_eq!(log(&resumed).steps(), &[1, 2, 3, 4, 5, 6]);
}

#[test]
fn saved_segmenter_reloads_to_identical_outputs_and_checks_architecture() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path(), 10, 0.3);
    let out = tmp.path().join("seg");
    let config = tiny(2);
    train(&config, &data, &out, &TrainControl::default()).unwrap();

    let img = image::open(&unmask_masks::read_pairs(&data).unwrap()[0].masked)
        .unwrap()
        .into_rgb8();
    let a = Segmenter::<B>::load(&out, &Default::default()).unwrap();
    let b = Segmenter::<B>::load(&out.join(BEST_DIR), &Default::default()).unwrap();
    assert_eq!(
        a.probability_maps(&[img.clone()]),
        b.probability_maps(&[img.clone()])
    );
    // Any input size: the mask comes back at the image's own size.
    let big = image::imageops::resize(&img, 100, 80, image::imageops::FilterType::Triangle);
    assert_eq!(a.segment(&big, None).dimensions(), (100, 80));

    let other = UNetConfig {
        depth: 3,
        ..config.model.clone()
    };
    let err = Segmenter::<B>::load_expecting(&out, &other, &Default::default())
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("`depth`"), "{err:#}");

    std::fs::write(out.join(BEST_DIR).join("segmenter.mpk"), b"not a model").unwrap();
    let err = Segmenter::<B>::load(&out, &Default::default())
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("corrupt"), "{err:#}");

    let err = Segmenter::<B>::load(tmp.path(), &Default::default())
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("cargo xtask run quickstart"),
        "{err:#}"
    );
}

#[test]
fn bad_runs_stop_with_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path(), 6, 0.0);
    let err = train(
        &tiny(2),
        &data,
        &tmp.path().join("a"),
        &TrainControl::default(),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("`val` split"), "{err:#}");

    let data = dataset(&tmp.path().join("b"), 10, 0.3);
    let mut exploding = TrainSegConfig {
        lr: 1e38,
        checkpoint_every: 1,
        ..tiny(20)
    };
    exploding.model.norm = Norm::None;
    let out = tmp.path().join("nan");
    let err = train(&exploding, &data, &out, &TrainControl::default()).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("loss became"), "{msg}");
    assert!(
        out.join(CHECKPOINT_DIR).join("state.json").exists(),
        "last good checkpoint kept"
    );

    // A changed architecture cannot continue the checkpoint.
    let other = TrainSegConfig {
        model: UNetConfig {
            base_channels: 4,
            ..exploding.model.clone()
        },
        ..exploding
    };
    let err = train(&other, &data, &out, &TrainControl::default()).unwrap_err();
    assert!(format!("{err:#}").contains("base_channels"), "{err:#}");
}

#[test]
fn a_checkpoint_from_before_sample_views_is_not_continued() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path(), 10, 0.3);
    let config = TrainSegConfig {
        checkpoint_every: 1,
        ..tiny(4)
    };
    let out = tmp.path().join("seg");
    let killed = TrainControl {
        stop_after: Some(2),
        ..Default::default()
    };
    train(&config, &data, &out, &killed).unwrap();
    // What an older unmask wrote: no `format` field.
    let state_file = out.join(CHECKPOINT_DIR).join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    state.as_object_mut().unwrap().remove("format");
    std::fs::write(&state_file, state.to_string()).unwrap();
    let err = train(&config, &data, &out, &TrainControl::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("older unmask") && err.contains("--force"),
        "{err}"
    );
    // Starting afresh works.
    let fresh = TrainControl {
        fresh: true,
        ..Default::default()
    };
    assert_eq!(train(&config, &data, &out, &fresh).unwrap().run.steps, 4);
}
