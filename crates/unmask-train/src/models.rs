//! Finding trained models: a training folder keeps its best weights in `best/`, described by a
//! JSON file whose name says what model it is (`segmenter.json`, `inpainter.json`).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub const BEST_DIR: &str = "best";

/// The folder holding `info_file`: `dir` itself or `dir/best`. `what` names the model in errors.
pub fn resolve_model_dir(dir: &Path, info_file: &str, what: &str) -> Result<PathBuf> {
    for candidate in [dir.to_path_buf(), dir.join(BEST_DIR)] {
        if candidate.join(info_file).is_file() {
            return Ok(candidate);
        }
    }
    if !dir.exists() {
        bail!("model folder {} does not exist", dir.display());
    }
    bail!(
        "no trained {what} in {} (looked for {info_file} and {BEST_DIR}/{info_file}): train one with `cargo xtask run quickstart`",
        dir.display()
    )
}

/// The most recently trained model with `info_file` under a runs folder
/// (`RUNS/PIPELINE/STAGE/best/`).
pub fn latest_model(runs: &Path, info_file: &str, what: &str) -> Result<PathBuf> {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for pipeline in std::fs::read_dir(runs).into_iter().flatten().flatten() {
        for stage in std::fs::read_dir(pipeline.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let best = stage.path().join(BEST_DIR);
            if let Ok(meta) = std::fs::metadata(best.join(info_file)) {
                found.push((meta.modified().unwrap_or(std::time::UNIX_EPOCH), best));
            }
        }
    }
    found.sort();
    found.pop().map(|(_, p)| p).with_context(|| {
        format!(
            "no trained {what} under {}: train one with `cargo xtask run quickstart` (or pass --model DIR)",
            runs.display()
        )
    })
}
