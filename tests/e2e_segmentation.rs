//! The quickstart pipeline end to end at test size: faces, masks, the segmenter and the GAN
//! trained and evaluated, skipped when current, and resumed rather than restarted.

use unmask_pipeline::{Runner, StageStatus};

mod common;
use common::{opts, project_root, TINY_FACES};
#[path = "support/tiny_gan.rs"]
#[allow(dead_code)] // the guided GAN is for the CLI's tests
mod support;
use support::tiny_gan;

/// This pipeline's stages at test size (with `common::TINY_FACES`).
const TINY_STAGES: &[&str] = &[
    "train-seg.model.image_size=32",
    "train-seg.model.depth=2",
    "train-seg.model.base_channels=4",
    "train-seg.epochs=1",
    "train-seg.batch_size=4",
    "train-seg.checkpoint_every=1",
    "train-inpaint.generator.image_size=32",
    "train-inpaint.generator.width=4",
    "train-inpaint.discriminator.layers=2",
    "train-inpaint.epochs=1",
    "train-inpaint.batch_size=4",
    "train-inpaint.sample_count=2",
    "train-inpaint.losses.perceptual=0.1",
    "train-inpaint.losses.perceptual_layers=1",
    "train-inpaint.masks=segmenter",
    "eval-inpaint.lpips=false",
    "eval-inpaint.identity=false",
    "eval-e2e.lpips=false",
    "eval-e2e.identity=false",
    "baselines.image_size=32",
    "baselines.lpips=false",
    "baselines.identity=false",
    "baselines-e2e.image_size=32",
    "baselines-e2e.lpips=false",
    "baselines-e2e.identity=false",
    "report.examples=2",
];

fn tiny() -> Vec<&'static str> {
    TINY_FACES.iter().chain(TINY_STAGES).copied().collect()
}

#[test]
fn quickstart_trains_and_evaluates_the_segmenter() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(&project_root(), out.path());
    let summary = runner.run("quickstart", &opts(&tiny())).unwrap();
    assert!(summary.failure().is_none(), "{}", summary.table());
    let seg_dir = out.path().join("quickstart/train-seg");
    assert!(seg_dir.join("best/segmenter.json").is_file());
    assert!(seg_dir.join("steps.parquet").is_file());
    assert!(seg_dir.join("validation.parquet").is_file());
    let eval = std::fs::read_to_string(out.path().join("quickstart/eval-seg/metrics.md")).unwrap();
    for t in ["**all**", "surgical", "gas"] {
        assert!(eval.contains(t), "{t} missing from\n{eval}");
    }
    let gan = out.path().join("quickstart/train-inpaint");
    assert!(gan.join("best/inpainter.json").is_file());
    assert!(std::fs::read_dir(gan.join("samples")).unwrap().count() >= 1);
    let eval =
        std::fs::read_to_string(out.path().join("quickstart/eval-inpaint/metrics.md")).unwrap();
    assert!(
        eval.contains("hole L1") && eval.contains("**all**"),
        "{eval}"
    );
    let table = summary.table();
    assert!(table.contains("Dice"), "{table}");
    // The report compares the GAN with the classical fills image by image, on both holes.
    let report = std::fs::read_to_string(out.path().join("quickstart/report/ablation.md")).unwrap();
    for t in [
        "### Paired differences",
        "| train-inpaint | telea | ",
        "| mean-fill | telea | ",
        "End to end",
    ] {
        assert!(report.contains(t), "{t} missing from\n{report}");
    }

    // Up to date: nothing reruns.
    let again = runner.run("quickstart", &opts(&tiny())).unwrap();
    assert_eq!(again.status_of("train-seg"), Some(&StageStatus::Skipped));

    // More epochs continue the checkpoint instead of starting over.
    let longer: Vec<&str> = tiny().into_iter().chain(["train-seg.epochs=2"]).collect();
    let more = runner.run("quickstart", &opts(&longer)).unwrap();
    assert!(more.failure().is_none(), "{}", more.table());
    let text = std::fs::read_to_string(seg_dir.join("summary.txt")).unwrap();
    assert!(text.contains("resumed at"), "{text}");
}

#[test]
fn a_segmenter_from_another_pipeline_is_scored_on_real_faces_and_rescored_when_retrained() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(&project_root(), out.path());
    // The segmenter pipeline at test size, with negatives.
    let tiny_seg: Vec<&str> = tiny()
        .into_iter()
        .filter(|s| s.starts_with("faces.") || s.starts_with("train-seg."))
        .chain([
            "train-seg.bce_weight=1",
            "train-seg.augment.negatives=0.5",
            "train-seg.checkpoint_every=100",
        ])
        .collect();
    let mut segmenter = opts(&tiny_seg);
    let trained = runner.run("segmenter", &segmenter).unwrap();
    assert!(trained.failure().is_none(), "{}", trained.table());
    let model = out.path().join("segmenter/train-seg");
    let gan = out.path().join("gan");
    tiny_gan(&out.path().join("segmenter/masks"), &gan, 2);
    let real = [
        format!("eval-seg.model={}", model.display()),
        format!("eval-unmask.segmenter={}", model.display()),
        format!("eval-unmask.gan={}", gan.display()),
        "faces.size=64".into(),
        "faces.preview_count=0".into(),
        "eval-unmask.examples=3".into(),
    ];
    let real: Vec<&str> = real.iter().map(String::as_str).collect();
    let first = runner.run("real-faces", &opts(&real)).unwrap();
    assert!(first.failure().is_none(), "{}", first.table());
    let md = std::fs::read_to_string(out.path().join("real-faces/eval-seg/metrics.md")).unwrap();
    // face-api's demo photos: the SSD detector finds 22 faces, all take a mask (the README).
    assert!(md.contains("| **all** | 22 |"), "{md}");
    assert!(md.contains("bare marked"), "{md}");
    // The photo path end to end: every face found takes a drawn mask and is scored against
    // the bare photo, next to Telea and the mean fill.
    let unmask_dir = out.path().join("real-faces/eval-unmask");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(unmask_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["photos"], 6, "{summary}");
    assert_eq!(summary["faces_found"], 22, "{summary}");
    assert_eq!(summary["faces_masked"], 22, "{summary}");
    let unmasked = summary["faces_unmasked"].as_u64().unwrap();
    assert!(unmasked <= 22 && summary["bare_faces_changed"].as_u64().unwrap() <= 22);
    let per_face =
        unmask_core::manifest::read_parquet(&unmask_dir.join("per_face.parquet")).unwrap();
    assert_eq!(per_face.height(), 22);
    let path = unmask_dir.join("per_face.parquet");
    for column in [
        "ours_lpips",
        "ours_true_holes_lpips",
        "ours_true_holes_hole_l1",
        "telea_lpips",
        "telea_hole_l1",
        "mean_fill_ssim",
        "ours_id_sim",
        "telea_id_sim",
    ] {
        let values = unmask_core::manifest::f64_column(&per_face, column, &path).unwrap();
        assert!(values.iter().all(|v| v.is_finite()), "{column}: {values:?}");
    }
    // The mask check's margin: the unmasker's own detections, matched back to each face.
    for column in ["coverage_masked", "coverage_bare"] {
        let values = unmask_core::manifest::f64_column(&per_face, column, &path).unwrap();
        let found = values.iter().filter(|v| v.is_finite()).count();
        assert!(found >= 20, "{column}: {values:?}");
        assert!(
            values.iter().all(|v| v.is_nan() || (0.0..=1.0).contains(v)),
            "{column}: {values:?}"
        );
    }
    // Telea fills the hole from its surroundings: closer to the bare face than a flat colour.
    let mean = |c: &str| {
        let v = unmask_core::manifest::f64_column(&per_face, c, &path).unwrap();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(mean("telea_hole_l1") < mean("mean_fill_hole_l1"));
    for c in ["ours_id_sim", "telea_id_sim", "mean_fill_id_sim"] {
        assert!(mean(c) > 0.0 && mean(c) <= 1.0, "{c} {}", mean(c));
    }
    let grid = image::open(unmask_dir.join("side_by_side.png")).unwrap();
    assert!(
        grid.height() > 2 * grid.width() / 5,
        "three faces of five tiles each"
    );
    let metrics = std::fs::read_to_string(unmask_dir.join("metrics.md")).unwrap();
    assert!(
        metrics.contains("| telea |") && metrics.contains("Bare faces changed"),
        "{metrics}"
    );

    let again = runner.run("real-faces", &opts(&real)).unwrap();
    assert_eq!(again.status_of("eval-seg"), Some(&StageStatus::Skipped));
    assert_eq!(again.status_of("eval-unmask"), Some(&StageStatus::Skipped));
    // Training again replaces the model outside this pipeline: its score is stale.
    segmenter.force = true;
    assert!(runner
        .run("segmenter", &segmenter)
        .unwrap()
        .failure()
        .is_none());
    let rescored = runner.run("real-faces", &opts(&real)).unwrap();
    assert_eq!(rescored.status_of("eval-seg"), Some(&StageStatus::Ran));
    assert_eq!(rescored.status_of("eval-unmask"), Some(&StageStatus::Ran));
    assert_eq!(rescored.status_of("masks"), Some(&StageStatus::Skipped));

    // Neither a model nor a train-seg stage: refused before anything runs.
    let file = out.path().join("nothing.yaml");
    std::fs::write(
        &file,
        "description: no model\nstages:\n  faces: {kind: faces, params: {count: 4, size: 32}}\n  masks: {kind: masks, needs: [faces]}\n  eval-seg: {kind: eval-seg, needs: [masks]}\n",
    )
    .unwrap();
    let err = runner
        .run(file.to_str().unwrap(), &opts(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nothing to score"), "{err}");
    assert!(!out.path().join("nothing").exists());
}
