//! The flagship `ablation` pipeline at test size: every variant trained and scored against
//! the baselines, the report written, finished variants skipped, the same table twice, bad
//! variants refused before any training; and the nightly check with its regression alert.

use std::path::Path;
use unmask_pipeline::{Runner, StageStatus};

mod common;
use common::{opts, project_root, TINY_FACES};

/// This pipeline's stages at test size (with `common::TINY_FACES`).
const TINY_STAGES: &[&str] = &[
    "train-seg.model={depth: 2, base_channels: 4, norm: batch, image_size: 32}",
    "train-seg.epochs=1",
    "train-seg.batch_size=4",
    "train-inpaint.generator.image_size=32",
    "train-inpaint.generator.width=4",
    "train-inpaint.discriminator={layers: 2, width: 8}",
    "train-inpaint.epochs=1",
    "train-inpaint.max_steps=2",
    "train-inpaint.batch_size=4",
    "train-inpaint.sample_count=2",
    "eval-truth.lpips=false",
    "eval-e2e.lpips=false",
    "baselines-truth.lpips=false",
    "baselines-e2e.lpips=false",
    "baselines-truth.image_size=32",
    "baselines-e2e.image_size=32",
    "train-stylegan.generator={image_size: 32, z_dim: 8, w_dim: 8, mapping_layers: 2, channel_base: 128, channel_max: 8}",
    "train-stylegan.discriminator={channel_base: 128, channel_max: 8}",
    "train-stylegan.epochs=1",
    "train-stylegan.max_steps=2",
    "train-stylegan.batch_size=4",
    "train-stylegan.sample_count=2",
    "train-stylegan.max_val_samples=2",
    "train-psp.encoder={stage_widths: [4, 4, 8, 8], stage_blocks: [1, 1, 1, 1]}",
    "train-psp.epochs=1",
    "train-psp.max_steps=2",
    "train-psp.batch_size=4",
    "train-psp.sample_count=2",
    "train-psp.max_val_samples=2",
    "psp-raw.lpips=false",
    "psp-truth.lpips=false",
    "psp-e2e.lpips=false",
    "report.examples=3",
];

fn tiny() -> Vec<&'static str> {
    TINY_FACES.iter().chain(TINY_STAGES).copied().collect()
}

const VARIANTS: [&str; 8] = [
    "imputed",
    "gated",
    "tanh",
    "pixel-norm",
    "no-norm",
    "decoder-norm",
    "impute-k3",
    "impute-k7",
];

fn table(out: &Path) -> Vec<unmask_report::table::Row> {
    unmask_report::table::read_parquet(&out.join("ablation/report/ablation.parquet")).unwrap()
}

#[test]
fn ablation_trains_every_variant_and_writes_the_report() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(project_root(), out.path());
    let summary = runner.run("ablation", &opts(&tiny())).unwrap();
    assert!(summary.failure().is_none(), "{:?}", summary.failure());
    let report = out.path().join("ablation/report");

    let rows = table(out.path());
    for masks in ["truth", "segmenter"] {
        let names: Vec<&str> = rows
            .iter()
            .filter(|r| r.masks == masks)
            .map(|r| r.name.as_str())
            .collect();
        let mut want: Vec<&str> = VARIANTS.to_vec();
        if masks == "truth" {
            want.push("psp-raw");
        }
        want.extend(["psp-composite", "mean-fill", "telea"]);
        assert_eq!(names, want, "{masks} rows");
    }
    let row = |name: &str| rows.iter().find(|r| r.name == name).unwrap();
    // StyleGAN2 + pSp: the raw output changes what the mask did not cover, the composite
    // only the ring its grown hole adds.
    let outside = unmask_report::table::METRICS
        .iter()
        .position(|m| m.key == "l1_outside")
        .unwrap();
    let truth_row = |name: &str| {
        rows.iter()
            .find(|r| r.name == name && r.masks == "truth")
            .unwrap()
    };
    let (raw, composite) = (
        truth_row("psp-raw").metrics[outside].mean,
        truth_row("psp-composite").metrics[outside].mean,
    );
    assert!(raw > composite && composite >= 0.0, "{raw} vs {composite}");
    assert!(truth_row("telea").metrics[outside].mean < raw);
    assert_eq!(truth_row("psp-raw").changes, "StyleGAN2 + pSp, raw output");
    assert!(truth_row("psp-raw").generator_params.unwrap() > 0);
    for r in &rows {
        for (k, i) in r.metrics.iter().take(4).enumerate() {
            assert!(
                i.lo <= i.mean && i.mean <= i.hi,
                "{} metric {k}: {i:?}",
                r.name
            );
        }
        assert_eq!(r.pairs, row("imputed").pairs);
        // Identity similarity (face-api's descriptors of result and target) on every row.
        let id = unmask_report::table::METRICS
            .iter()
            .position(|m| m.key == "id_sim")
            .unwrap();
        let i = r.metrics[id];
        assert!(
            -1.0 <= i.lo && i.lo <= i.mean && i.mean <= i.hi && i.hi <= 1.0,
            "{} ID sim {i:?}",
            r.name
        );
    }
    // Gated convolutions need about twice the parameters; imputation adds a few.
    let (imputed, gated) = (
        row("imputed").generator_params.unwrap(),
        row("gated").generator_params.unwrap(),
    );
    assert!(gated as f64 > 1.5 * imputed as f64, "{gated} vs {imputed}");
    assert_eq!(row("imputed").changes, "base");
    assert_eq!(row("gated").changes, "generator.conv=gated");
    assert!(row("telea").baseline && row("telea").generator_params.is_none());

    let md = std::fs::read_to_string(report.join("ablation.md")).unwrap();
    for text in [
        "End to end",
        "telea (baseline)",
        "**",
        "impute-k7",
        "x as many",
        "### Paired differences",
        "| gated | imputed | ",
        "| imputed | telea | ",
        "| mean-fill | telea | ",
        "ID sim",
    ] {
        assert!(md.contains(text), "`{text}` missing from\n{md}");
    }
    // Every other row against the base and against Telea (the base against Telea once), for
    // both mask sources.
    let paired = report.join("paired.parquet");
    let paired = unmask_core::manifest::read_parquet(&paired).unwrap();
    // Rows per source: the variants, pSp (raw and composite with the true masks, composite
    // end to end) and the two baselines.
    let paired_of = |rows: usize| 2 * (rows - 1) - 1;
    assert_eq!(
        paired.height(),
        paired_of(VARIANTS.len() + 4) + paired_of(VARIANTS.len() + 3)
    );
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    for text in [
        "data:image/png;base64,",
        "<svg",
        "Segmentation examples",
        "Configuration",
        "class=\"best\"",
        "Paired differences",
        "psp-raw",
        "L1 outside hole",
    ] {
        assert!(html.contains(text), "`{text}` missing from the page");
    }
    assert!(
        !html.contains("src=\"http"),
        "the page must be self-contained"
    );

    // Finished variants are skipped; a variant whose outputs went missing runs again alone.
    std::fs::remove_file(
        out.path()
            .join("ablation/train-inpaint/tanh/train_summary.json"),
    )
    .unwrap();
    let again = runner.run("ablation", &opts(&tiny())).unwrap();
    assert!(again.failure().is_none(), "{:?}", again.failure());
    for v in VARIANTS {
        let want = if v == "tanh" {
            StageStatus::Ran
        } else {
            StageStatus::Skipped
        };
        assert_eq!(
            again.status_of(&format!("train-inpaint/{v}")),
            Some(&want),
            "{v}"
        );
    }

    // Same seed, data and config in a fresh folder: the same table.
    let other = tempfile::tempdir().unwrap();
    let second = Runner::new(project_root(), other.path())
        .run("ablation", &opts(&tiny()))
        .unwrap();
    assert!(second.failure().is_none(), "{:?}", second.failure());
    let (a, b) = (table(out.path()), table(other.path()));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        // Compared as text: the LPIPS column is NaN when LPIPS is off, and NaN != NaN.
        assert_eq!(
            format!("{} {} {:?}", x.name, x.masks, x.metrics),
            format!("{} {} {:?}", y.name, y.masks, y.metrics)
        );
    }

    nightly_flags_regressions(out.path());
}

/// The nightly pipeline on the models the ablation left in `runs`.
fn nightly_flags_regressions(runs: &Path) {
    let runner = Runner::new(project_root(), runs);
    let sets = [
        "faces.count=16",
        "faces.size=64",
        "nightly.lpips=false",
        "nightly.resamples=200",
    ];
    let first = runner.run("nightly", &opts(&sets)).unwrap();
    assert!(first.failure().is_none(), "{:?}", first.failure());
    assert!(first.alerts().is_empty());
    let reports = runs.join("nightly/nightly/reports");
    let mut dated: Vec<_> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dated.len(), 1);
    let md = std::fs::read_to_string(dated[0].join("nightly.md")).unwrap();
    assert!(md.contains("hole_l1") && md.contains("dice"), "{md}");

    // The same models again: nothing regressed.
    let second = runner.run("nightly", &opts(&sets)).unwrap();
    assert_eq!(second.status_of("nightly"), Some(&StageStatus::Ran));
    assert!(second.alerts().is_empty(), "{:?}", second.alerts());

    // Pretend the last night was much better at hole L1: this run must raise an alert.
    dated = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dated.sort();
    let last = dated.last().unwrap().join("nightly.parquet");
    let mut metrics = unmask_report::nightly::read_metrics(&last).unwrap();
    for m in metrics.iter_mut().filter(|m| m.metric == "hole_l1") {
        m.now.mean = 0.0;
        m.now.lo = 0.0;
        m.now.hi = 0.0;
    }
    unmask_report::nightly::write_metrics(&metrics, &last).unwrap();
    let third = runner.run("nightly", &opts(&sets)).unwrap();
    let alerts = third.alerts();
    assert_eq!(alerts.len(), 1, "{}", third.table());
    assert!(alerts[0].1.contains("hole_l1"), "{}", alerts[0].1);
    assert!(!alerts[0].1.contains("dice"), "{}", alerts[0].1);
}

/// A project with the real experiments/ and one pipeline using a variants file.
fn variant_project(variants: &str) -> (tempfile::TempDir, Runner) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["pipelines", "datasets", "experiments"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    std::fs::copy(
        project_root().join("datasets/synthetic.yaml"),
        dir.path().join("datasets/synthetic.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("experiments/v.yaml"),
        format!("description: test\nkind: train-inpaint\nparams: {{}}\nvariants:\n{variants}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pipelines/p.yaml"),
        "description: test\nstages:\n  faces: {kind: faces, dataset: synthetic, params: {count: 8, size: 64}}\n  masks: {kind: masks, needs: [faces]}\n  train: {kind: train-inpaint, needs: [masks], experiment: v}\n",
    )
    .unwrap();
    let runner = Runner::new(dir.path(), dir.path().join("out"));
    (dir, runner)
}

#[test]
fn bad_variants_are_refused_before_anything_runs_naming_variant_and_key() {
    for (variants, wants) in [
        (
            "  good: {}\n  typo:\n    generator.convv: gated\n",
            vec!["variant `typo`", "generator.convv", "valid keys"],
        ),
        (
            "  bad-value:\n    generator.conv: sideways\n",
            vec!["variant `bad-value`", "generator.conv", "sideways"],
        ),
        (
            "  even-kernel:\n    generator.impute_kernel: 4\n",
            vec![
                "train/even-kernel",
                "impute_kernel",
                "variant `even-kernel`",
            ],
        ),
        (
            "  seg-masks:\n    masks: segmenter\n",
            vec!["train/seg-masks", "needs a `train-seg` stage"],
        ),
        ("  \"a.b\": {}\n", vec!["variant name `a.b`"]),
    ] {
        let (dir, runner) = variant_project(variants);
        let err = format!("{:#}", runner.run("p", &opts(&[])).unwrap_err());
        for want in wants {
            assert!(err.contains(want), "`{want}` missing from: {err}");
        }
        assert!(
            !dir.path().join("out").exists(),
            "a refused run wrote outputs"
        );
    }
}

#[test]
fn baselines_at_another_size_than_the_gan_are_refused_before_training() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(project_root(), out.path());
    let err = runner
        .run(
            "ablation",
            &opts(&["train-inpaint.generator.image_size=128"]),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("128 px") && err.contains("64 px") && err.contains("image_size"),
        "{err}"
    );
    assert!(!out.path().join("ablation").exists());
}

#[test]
fn presets_are_listed_and_an_unknown_one_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(project_root(), out.path());
    let mut o = opts(&[]);
    o.preset = Some("laptop".into());
    let err = runner.run("ablation", &o).unwrap_err().to_string();
    assert!(err.contains("cpu-small") && err.contains("paper"), "{err}");
    // The paper preset plans GPU stages into its own folder.
    o.preset = Some("paper".into());
    o.dry_run = true;
    let plan = runner.run("ablation", &o).unwrap();
    let train = plan
        .stages
        .iter()
        .find(|s| s.name == "train-inpaint/gated")
        .unwrap();
    assert!(train.dir.ends_with("ablation-paper/train-inpaint/gated"));
    assert!(
        train.summary.contains("\"device\":\"cuda\""),
        "{}",
        train.summary
    );
    assert!(
        train.summary.contains("\"conv\":\"gated\""),
        "{}",
        train.summary
    );

    // --from a variant forces it and what depends on it, not its sibling variants.
    let mut o = opts(&[]);
    o.from = Some("train-inpaint/tanh".into());
    o.dry_run = true;
    let plan = runner.run("ablation", &o).unwrap();
    let status = |name: &str| plan.status_of(name).cloned().unwrap();
    let forced = StageStatus::WouldRun("forced".into());
    assert_eq!(status("train-inpaint/tanh"), forced);
    assert_eq!(status("eval-e2e/tanh"), forced);
    assert_eq!(status("report"), forced);
    assert_ne!(status("train-inpaint/gated"), forced);
    assert_ne!(status("eval-truth/gated"), forced);
}
