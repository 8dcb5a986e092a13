//! Finding trained models: a training folder keeps its best weights in `best/`, described by a
//! JSON file whose name says what model it is (`segmenter.json`, `inpainter.json`).

use anyhow::{bail, Context, Result};
use burn::module::Module;
use burn::tensor::backend::Backend;
use serde::{de::DeserializeOwned, Serialize};
use std::path::{Path, PathBuf};

pub const BEST_DIR: &str = "best";

/// The description saved beside a trained model's weights: what inference needs besides them.
pub trait ModelInfo: DeserializeOwned {
    /// The architecture the weights were trained with.
    type Arch: Serialize;
    /// The description's file name (e.g. `segmenter.json`).
    const INFO_FILE: &'static str;
    /// The weights' file name (e.g. `segmenter.mpk`).
    const WEIGHTS_FILE: &'static str;
    /// The model in messages (e.g. `segmenter`).
    const WHAT: &'static str;

    fn arch(&self) -> &Self::Arch;
    /// Checks the architecture is one the code can build.
    fn check(&self) -> Result<()>;
}

/// The folder of the model in `dir` (itself or `dir/best`) and its checked description; with
/// `expected`, the description must have that architecture (the error names the first field
/// that differs).
pub fn read_model_info<I: ModelInfo>(
    dir: &Path,
    expected: Option<&I::Arch>,
) -> Result<(PathBuf, I)> {
    let dir = resolve_model_dir(dir, I::INFO_FILE, I::WHAT)?;
    let file = dir.join(I::INFO_FILE);
    let info: I = crate::checkpoint::read_json(&file)?;
    if let Some(expected) = expected {
        crate::checkpoint::ensure_same_config(info.arch(), expected, &file)?;
    }
    info.check()
        .with_context(|| format!("{}: invalid model description", file.display()))?;
    Ok((dir, info))
}

/// `module` with the weights of the burn record `file` in `dir`.
pub fn load_weights<B: Backend, M: Module<B>>(
    module: M,
    dir: &Path,
    file: &str,
    device: &B::Device,
) -> Result<M> {
    let record = crate::checkpoint::load_record::<B, _>(&dir.join(file), device)?;
    // Loading draws the module's lazy weights before replacing them (`seed::without_seeding`).
    Ok(crate::seed::without_seeding(|| module.load_record(record)))
}

/// The trained model in `dir` (itself or `dir/best`): the module `build(architecture)`
/// makes, with its weights loaded, and its description; `expected` as in
/// [`read_model_info`].
pub fn load_model<B: Backend, I: ModelInfo, M: Module<B>>(
    dir: &Path,
    expected: Option<&I::Arch>,
    build: impl FnOnce(&I::Arch) -> M,
    device: &B::Device,
) -> Result<(M, I)> {
    let (dir, info) = read_model_info::<I>(dir, expected)?;
    let module = load_weights(build(info.arch()), &dir, I::WEIGHTS_FILE, device)?;
    Ok((module, info))
}

/// The module `build(configuration)` makes with the weights `file` of the last checkpoint
/// in training folder `train_dir` (not necessarily the best), and that checkpoint's step and
/// configuration (read as `C`, the model's view of the fields it needs).
pub fn load_from_checkpoint<B: Backend, C: DeserializeOwned, M: Module<B>>(
    train_dir: &Path,
    file: &str,
    build: impl FnOnce(&C) -> M,
    device: &B::Device,
) -> Result<(M, crate::trainer::CheckpointView<C>)> {
    let (dir, view) = crate::trainer::last_checkpoint::<C>(train_dir)?;
    let module = load_weights(build(&view.config), &dir, file, device)?;
    Ok((module, view))
}

/// Saves `module` and its description as the trained model in `dir` (swapped in whole).
pub fn save_model<B: Backend, M: Module<B>, I: ModelInfo + Serialize>(
    module: &M,
    info: &I,
    dir: &Path,
) -> Result<()> {
    let bytes = crate::checkpoint::record_bytes::<B, _>(module.clone().into_record())?;
    crate::checkpoint::save_dir(
        dir,
        &[
            (I::WEIGHTS_FILE, &bytes),
            (I::INFO_FILE, &crate::checkpoint::to_json(info)?),
        ],
    )
}

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
