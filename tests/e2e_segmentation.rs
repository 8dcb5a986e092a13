//! The quickstart pipeline end to end at test size: faces, masks, the segmenter and the GAN
//! trained and evaluated, skipped when current, and resumed rather than restarted.

use unmask_pipeline::{Runner, StageStatus};

mod common;
use common::{opts, project_root};

const TINY: &[&str] = &[
    "faces.count=24",
    "faces.size=64",
    "faces.preview_count=2",
    "faces.val_fraction=0.25",
    "faces.test_fraction=0.25",
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
];

#[test]
fn quickstart_trains_and_evaluates_the_segmenter() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(&project_root(), out.path());
    let summary = runner.run("quickstart", &opts(TINY)).unwrap();
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

    // Up to date: nothing reruns.
    let again = runner.run("quickstart", &opts(TINY)).unwrap();
    assert_eq!(again.status_of("train-seg"), Some(&StageStatus::Skipped));

    // More epochs continue the checkpoint instead of starting over.
    let longer: Vec<&str> = TINY.iter().copied().chain(["train-seg.epochs=2"]).collect();
    let more = runner.run("quickstart", &opts(&longer)).unwrap();
    assert!(more.failure().is_none(), "{}", more.table());
    let text = std::fs::read_to_string(seg_dir.join("summary.txt")).unwrap();
    assert!(text.contains("resumed at"), "{text}");
}
