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

/// The most recently trained model with `info_file` under a runs folder: `RUNS/PIPELINE/STAGE/best/`,
/// or deeper when pipelines were run with `--out RUNS/SOMETHING`.
pub fn latest_model(runs: &Path, info_file: &str, what: &str) -> Result<PathBuf> {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    collect_best(runs, info_file, 4, &mut found);
    found.sort();
    found.pop().map(|(_, p)| p).with_context(|| {
        format!(
            "no trained {what} under {}: train one with `cargo xtask run quickstart` (or pass --model DIR)",
            runs.display()
        )
    })
}

/// `best/` folders holding `info_file` up to `depth` levels below `dir`, with their times.
fn collect_best(
    dir: &Path,
    info_file: &str,
    depth: usize,
    found: &mut Vec<(std::time::SystemTime, PathBuf)>,
) {
    let best = dir.join(BEST_DIR);
    if let Ok(meta) = std::fs::metadata(best.join(info_file)) {
        found.push((meta.modified().unwrap_or(std::time::UNIX_EPOCH), best));
        return;
    }
    if depth == 0 {
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect_best(&entry.path(), info_file, depth - 1, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_newest_model_at_any_run_depth() {
        let tmp = tempfile::tempdir().unwrap();
        let old = tmp.path().join("quickstart/train-seg/best");
        let new = tmp.path().join("long/segmenter/train-seg/best");
        for (dir, secs) in [(&old, 1_000), (&new, 2_000)] {
            std::fs::create_dir_all(dir).unwrap();
            let file = std::fs::File::create(dir.join("segmenter.json")).unwrap();
            file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .unwrap();
        }
        assert_eq!(
            latest_model(tmp.path(), "segmenter.json", "segmenter").unwrap(),
            new
        );
        let err = latest_model(tmp.path(), "inpainter.json", "inpainting GAN").unwrap_err();
        assert!(err.to_string().contains("cargo xtask run quickstart"));
    }
}
