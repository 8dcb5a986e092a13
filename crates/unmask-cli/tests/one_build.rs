//! `cargo xtask run`, `cargo unmask` and `cargo test --workspace` share one build: every
//! dependency the entry points have in common is built with the same features in each, so
//! none compiles twice (crates/workspace-hack pins the union). A dependency that adds a
//! feature to polars' or burn's graph fails this test rather than a user's next command.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// What `cargo tree --offline --prefix none ARGS` prints, one package per line.
fn cargo_tree(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["tree", "--offline", "--prefix", "none"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Package (`name vX.Y.Z`) -> the feature sets it is built with in `cargo tree ARGS`.
fn feature_sets(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let tree = cargo_tree(&[&["-f", "{p}|{f}"], args].concat());
    let mut sets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in tree.lines() {
        let line = line.trim_end_matches(" (*)");
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        // Our own crates are named by path; only registry crates matter here.
        if package.contains('(') {
            continue;
        }
        sets.entry(package.trim().to_string())
            .or_default()
            .insert(features.trim().to_string());
    }
    sets
}

#[test]
fn the_pipelines_the_cli_and_the_tests_build_shared_dependencies_alike() {
    let xtask = feature_sets(&["-p", "xtask", "-e", "normal,build"]);
    let cli = feature_sets(&["-p", "unmask-cli", "-e", "normal,build"]);
    let tests = feature_sets(&["--workspace", "-e", "normal,build,dev"]);
    assert!(
        xtask.len() > 100 && cli.len() > 100,
        "cargo tree listed the graphs"
    );
    let mut differ = Vec::new();
    for (package, features) in &xtask {
        if let Some(other) = cli.get(package) {
            if other != features {
                differ.push(format!(
                    "{package}: xtask {features:?}, unmask-cli {other:?}"
                ));
            }
        }
    }
    for (name, graph) in [("xtask", &xtask), ("unmask-cli", &cli)] {
        for (package, features) in graph {
            let built = &tests[package];
            if !features.is_subset(built) {
                differ.push(format!(
                    "{package}: {name} {features:?}, cargo test {built:?}"
                ));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "built with other features (add the union to crates/workspace-hack/Cargo.toml):\n{}",
        differ.join("\n")
    );
}

/// The packages `package` builds with (normal edges), one `NAME vX.Y.Z` per line.
fn normal_dependencies(package: &str) -> String {
    cargo_tree(&["-p", package, "-e", "normal"])
}

fn pulls_in(tree: &str, package: &str) -> bool {
    tree.lines().any(|l| l.starts_with(&format!("{package} ")))
}

#[test]
fn mask_synthesis_builds_without_burn_or_the_face_detector() {
    let masks = feature_sets(&["-p", "unmask-masks", "-e", "normal"]);
    let tree = normal_dependencies("unmask-masks");
    assert!(tree.contains("unmask-core"), "{tree}");
    for heavy in ["burn", "unmask-detect", "unmask-faces", "unmask-metrics"] {
        assert!(
            !masks.keys().any(|p| p.starts_with(&format!("{heavy} "))) && !pulls_in(&tree, heavy),
            "unmask-masks pulls in {heavy}"
        );
    }
}

#[test]
fn the_reports_read_files_and_run_no_model() {
    let tree = normal_dependencies("unmask-report");
    assert!(pulls_in(&tree, "unmask-core"), "{tree}");
    for model in [
        "unmask-seg",
        "unmask-inpaint",
        "unmask-detect",
        "unmask-photo",
    ] {
        assert!(!pulls_in(&tree, model), "unmask-report pulls in {model}");
    }
}
