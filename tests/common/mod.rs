//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;
use unmask_pipeline::RunOptions;

/// The repository root, which holds the real pipelines/ and datasets/.
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Test-size synthetic faces: enough for a train, a val and a test split.
pub const TINY_FACES: &[&str] = &[
    "faces.count=24",
    "faces.size=64",
    "faces.preview_count=2",
    "faces.val_fraction=0.25",
    "faces.test_fraction=0.25",
];

/// Run options with these `--set` overrides.
pub fn opts(sets: &[&str]) -> RunOptions {
    RunOptions {
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Every file under `dir` (recursively), as paths relative to it, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                pending.push(p);
            } else {
                files.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    files.sort();
    files
}
