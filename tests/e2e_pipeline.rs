//! End-to-end tests of the pipeline runner on the real project files and on small pipelines
//! written for each case, run in-process as `cargo xtask run` does.

use std::path::Path;
use unmask_pipeline::{RunOptions, Runner, StageStatus};

mod common;
use common::{opts, project_root};

/// A project root holding one pipeline file, for error cases.
fn scratch_project(pipeline: &str) -> (tempfile::TempDir, Runner) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
    std::fs::create_dir_all(dir.path().join("datasets")).unwrap();
    std::fs::write(dir.path().join("pipelines/p.yaml"), pipeline).unwrap();
    let runner = Runner::new(dir.path(), dir.path().join("out"));
    (dir, runner)
}

fn run_err(pipeline: &str, sets: &[&str]) -> String {
    let (dir, runner) = scratch_project(pipeline);
    let err = runner
        .run("p", &opts(sets))
        .expect_err("the run must be refused")
        .to_string();
    assert!(
        !dir.path().join("out").exists(),
        "a refused run wrote outputs"
    );
    err
}

const SMALL: &[&str] = &["faces.count=12", "faces.size=64", "faces.preview_count=4"];

#[test]
fn list_shows_the_shipped_pipelines() {
    let listing = unmask_pipeline::catalog::listing(&project_root());
    for name in ["quickstart", "dataset", "synthetic", "faces"] {
        assert!(listing.contains(name), "`{name}` missing from:\n{listing}");
    }
}

#[test]
fn dataset_runs_then_skips_then_reruns_when_an_output_is_deleted() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(project_root(), out.path());
    let first = runner.run("dataset", &opts(SMALL)).unwrap();
    assert_eq!(
        first.status_of("faces"),
        Some(&StageStatus::Ran),
        "{}",
        first.table()
    );
    let dir = out.path().join("dataset/faces");
    let images = std::fs::read_dir(dir.join("images")).unwrap().count();
    assert_eq!(images, 12);
    assert!(dir.join("manifest.parquet").is_file() && dir.join("preview.png").is_file());

    let second = runner.run("dataset", &opts(SMALL)).unwrap();
    assert_eq!(second.status_of("faces"), Some(&StageStatus::Skipped));

    std::fs::remove_file(dir.join("images/000003.png")).unwrap();
    let third = runner.run("dataset", &opts(SMALL)).unwrap();
    assert_eq!(third.status_of("faces"), Some(&StageStatus::Ran));
    assert!(dir.join("images/000003.png").is_file());

    let changed = runner
        .run("dataset", &opts(&[SMALL, &["faces.seed=5"]].concat()))
        .unwrap();
    assert_eq!(
        changed.status_of("faces"),
        Some(&StageStatus::Ran),
        "a new seed must rerun"
    );

    let forced = runner
        .run(
            "dataset",
            &RunOptions {
                force: true,
                ..opts(&[SMALL, &["faces.seed=5"]].concat())
            },
        )
        .unwrap();
    assert_eq!(forced.status_of("faces"), Some(&StageStatus::Ran));
    assert!(forced.table().contains("faces"));
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    common::files_under(dir)
        .into_iter()
        .filter(|rel| !rel.ends_with(".stamp.json"))
        .map(|rel| {
            let bytes = std::fs::read(dir.join(&rel)).unwrap();
            (rel, bytes)
        })
        .collect()
}

#[test]
fn same_seed_gives_byte_identical_outputs_in_two_folders() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for out in [&a, &b] {
        Runner::new(project_root(), out.path())
            .run("dataset", &opts(SMALL))
            .unwrap();
    }
    let (ta, tb) = (
        read_tree(&a.path().join("dataset/faces")),
        read_tree(&b.path().join("dataset/faces")),
    );
    assert_eq!(ta.len(), 12 + 3, "images, manifest, preview, summary");
    assert!(
        ta == tb,
        "outputs differ between two runs with the same seed"
    );
}

#[test]
fn set_with_a_wrong_type_or_key_names_the_problem() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(project_root(), out.path());
    let err = runner
        .run("dataset", &opts(&["faces.count=abc"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("count") && err.contains("abc") && err.contains("valid keys"),
        "{err}"
    );
    let err = runner
        .run("dataset", &opts(&["faces.cout=3"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`cout`") && err.contains("count, size"),
        "{err}"
    );
    let err = runner
        .run("dataset", &opts(&["facez.count=3"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no stage `facez`"), "{err}");
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing may be written"
    );
}

#[test]
fn misspelt_key_in_a_file_is_reported_with_its_line_and_column() {
    let err = run_err(
        "description: t\nstages:\n  faces:\n    kind: faces\n    params:\n      count: 3\n      sise: 64\n",
        &[],
    );
    assert!(err.contains("p.yaml:7:7"), "{err}");
    assert!(
        err.contains("unknown field `sise`") && err.contains("`size`"),
        "{err}"
    );
}

#[test]
fn wrong_type_missing_field_and_unknown_kind_are_located() {
    let err = run_err(
        "description: t\nstages:\n  faces:\n    kind: faces\n    params:\n      count: many\n",
        &[],
    );
    assert!(
        err.contains("p.yaml:6:14") && err.contains("invalid type"),
        "{err}"
    );
    let err = run_err("description: t\nstages:\n  faces:\n    params: {}\n", &[]);
    assert!(
        err.contains("p.yaml:") && err.contains("missing field `kind`"),
        "{err}"
    );
    let err = run_err("description: t\nstages:\n  a:\n    kind: facez\n", &[]);
    assert!(
        err.contains("p.yaml:4:11") && err.contains("unknown stage kind `facez`"),
        "{err}"
    );
    assert!(
        err.contains("`faces`"),
        "allowed kinds must be listed: {err}"
    );
    let err = run_err(
        "description: t\nstages:\n  a:\n    kind: faces\n    need: [b]\n",
        &[],
    );
    assert!(
        err.contains("p.yaml:5:5") && err.contains("unknown field `need`"),
        "{err}"
    );
    let err = run_err(
        "description: t\nstages:\n  a:\n    kind: faces\n    needs: [zz]\n",
        &[],
    );
    assert!(
        err.contains("p.yaml:5:13") && err.contains("unknown stage `zz`"),
        "{err}"
    );
}

#[test]
fn cycles_are_rejected_before_anything_runs() {
    let err = run_err(
        "description: t\nstages:\n  a:\n    kind: faces\n    needs: [b]\n  b:\n    kind: faces\n    needs: [a]\n",
        &[],
    );
    assert!(err.contains("cycle") && err.contains("a, b"), "{err}");
}

#[test]
fn a_failing_stage_keeps_the_previous_outputs_and_leaves_nothing_half_written() {
    let (dir, runner) = scratch_project(
        "description: t\nstages:\n  faces:\n    kind: faces\n    params: {count: 3, size: 64, preview_count: 2}\n  later:\n    kind: faces\n    needs: [faces]\n    params: {count: 2, size: 64}\n",
    );
    runner.run("p", &opts(&[])).unwrap();
    let stage = dir.path().join("out/p/faces");
    let before = read_tree(&stage);
    let failed = runner.run("p", &opts(&["faces.size=8"])).unwrap();
    assert!(
        matches!(failed.status_of("faces"), Some(StageStatus::Failed(e)) if e.contains("size"))
    );
    assert_eq!(failed.status_of("later"), Some(&StageStatus::NotRun));
    assert!(failed.table().contains("FAILED"));
    assert_eq!(
        read_tree(&stage),
        before,
        "previous outputs must survive a failed rerun"
    );
    assert!(!dir.path().join("out/p/faces.partial").exists());
}

#[test]
fn dry_run_writes_nothing_and_only_or_from_select_stages() {
    let (dir, runner) = scratch_project(
        "description: t\nstages:\n  a:\n    kind: faces\n    params: {count: 2, size: 64, preview_count: 1}\n  b:\n    kind: faces\n    needs: [a]\n    params: {count: 2, size: 64, preview_count: 1}\n",
    );
    let dry = runner
        .run(
            "p",
            &RunOptions {
                dry_run: true,
                ..opts(&[])
            },
        )
        .unwrap();
    assert!(matches!(dry.status_of("a"), Some(StageStatus::WouldRun(_))));
    assert!(!dir.path().join("out").exists());
    let err = runner
        .run(
            "p",
            &RunOptions {
                only: Some("b".into()),
                ..opts(&[])
            },
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("run the pipeline without --only"),
        "{err}"
    );
    runner.run("p", &opts(&[])).unwrap();
    let only = runner
        .run(
            "p",
            &RunOptions {
                only: Some("b".into()),
                ..opts(&[])
            },
        )
        .unwrap();
    assert_eq!(only.status_of("a"), Some(&StageStatus::Skipped));
    assert_eq!(only.status_of("b"), Some(&StageStatus::Ran));
    let from = runner
        .run(
            "p",
            &RunOptions {
                from: Some("a".into()),
                ..opts(&[])
            },
        )
        .unwrap();
    assert_eq!(from.status_of("a"), Some(&StageStatus::Ran));
    assert_eq!(from.status_of("b"), Some(&StageStatus::Ran));
    let dry = runner
        .run(
            "p",
            &RunOptions {
                dry_run: true,
                ..opts(&[])
            },
        )
        .unwrap();
    assert_eq!(dry.status_of("b"), Some(&StageStatus::WouldSkip));
}

#[test]
fn upstream_change_reruns_downstream() {
    let (_dir, runner) = scratch_project(
        "description: t\nstages:\n  a:\n    kind: faces\n    params: {count: 2, size: 64, preview_count: 1}\n  b:\n    kind: faces\n    needs: [a]\n    params: {count: 2, size: 64, preview_count: 1}\n",
    );
    runner.run("p", &opts(&[])).unwrap();
    let again = runner.run("p", &opts(&["a.seed=9"])).unwrap();
    assert_eq!(again.status_of("a"), Some(&StageStatus::Ran));
    assert_eq!(
        again.status_of("b"),
        Some(&StageStatus::Ran),
        "b's input stamp changed"
    );
}

/// A YAML file of the project, parsed.
fn project_yaml(path: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(project_root().join(path)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The base params of a recipe search (`experiments/NAME.yaml`) are quickstart's `stage`
/// params, and its variant `base` is empty.
fn assert_search_base(experiment: &str, stage: &str, base: &str) -> serde_yaml::Value {
    let quickstart = project_yaml("pipelines/quickstart.yaml");
    let recipe = project_yaml(experiment);
    assert_eq!(
        quickstart["stages"][stage]["params"], recipe["params"],
        "{experiment}'s params differ from quickstart's {stage}"
    );
    assert!(recipe["variants"][base]
        .as_mapping()
        .is_some_and(|m| m.is_empty()));
    quickstart
}

/// `quickstart-recipe`'s base variant is the quickstart's GAN: the two files must not drift.
#[test]
fn the_recipe_search_base_is_the_quickstart_gan() {
    let quickstart = assert_search_base(
        "experiments/quickstart-recipe.yaml",
        "train-inpaint",
        "perceptual-relu1",
    );
    // Every stage but the GAN's is the quickstart's.
    let search = project_yaml("pipelines/quickstart-recipe.yaml");
    let (q, s) = (
        quickstart["stages"].as_mapping().unwrap(),
        search["stages"].as_mapping().unwrap(),
    );
    assert_eq!(q.keys().collect::<Vec<_>>(), s.keys().collect::<Vec<_>>());
    for (name, stage) in q {
        if name.as_str() != Some("train-inpaint") {
            assert_eq!(stage, &s[name], "stage {name:?} differs");
        }
    }
}

/// `segmenter-recipe`'s base variant and data are the quickstart's: the files must not drift.
#[test]
fn the_segmenter_search_base_is_the_quickstart_segmenter() {
    let quickstart = assert_search_base("experiments/segmenter-recipe.yaml", "train-seg", "base");
    let search = project_yaml("pipelines/segmenter-recipe.yaml");
    for name in ["faces", "masks"] {
        assert_eq!(
            quickstart["stages"][name], search["stages"][name],
            "stage {name:?} differs"
        );
    }
}
