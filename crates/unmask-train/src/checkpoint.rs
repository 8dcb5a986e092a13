//! Checkpoints are folders (model, optimizer, state) written next to their final place and
//! swapped in with renames, so a kill at any moment leaves either the old or the new one.

use anyhow::{anyhow, bail, Context, Result};
use burn::module::{AutodiffModule, Module};
use burn::optim::Optimizer;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::{AutodiffBackend, Backend};
use serde::{de::DeserializeOwned, Serialize};
use std::path::{Path, PathBuf};
use unmask_core::atomic::sibling;

type Bytes = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// A burn record (module or optimizer state) as bytes.
pub fn record_bytes<B: Backend, R: Record<B>>(record: R) -> Result<Vec<u8>> {
    Recorder::<B>::record(&Bytes::default(), record, ())
        .map_err(|e| anyhow!("cannot serialise record: {e}"))
}

/// A module's weights as a named checkpoint file.
pub fn module_file<B: Backend, M: Module<B>>(
    name: &'static str,
    module: &M,
) -> Result<(&'static str, Vec<u8>)> {
    Ok((name, record_bytes::<B, _>(module.clone().into_record())?))
}

/// An optimiser's state as a named checkpoint file.
pub fn optimizer_file<B, M, O>(name: &'static str, optim: &O) -> Result<(&'static str, Vec<u8>)>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    Ok((name, record_bytes::<B, _>(optim.to_record())?))
}

/// `optim` with the state of checkpoint file `name` in `dir`.
pub fn load_optimizer<B, M, O>(optim: O, dir: &Path, name: &str, device: &B::Device) -> Result<O>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    Ok(optim.load_record(load_record::<B, _>(&dir.join(name), device)?))
}

/// Reads a record written by [`record_bytes`]; the error names the file.
pub fn load_record<B: Backend, R: Record<B>>(path: &Path, device: &B::Device) -> Result<R> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read checkpoint file {}", path.display()))?;
    Recorder::<B>::load(&Bytes::default(), bytes, device).map_err(|e| {
        anyhow!(
            "checkpoint file {} is corrupt or was written by a different model: {e}",
            path.display()
        )
    })
}

/// Writes the files of a checkpoint into `dir`, replacing any previous content atomically.
pub fn save_dir(dir: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    let swap = unmask_core::atomic::DirSwap::begin(dir, "tmp")?;
    for (name, bytes) in files {
        let path = swap.work().join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::File::open(&path)?.sync_all()?;
    }
    swap.commit()
}

/// The checkpoint folder to read: `dir`, or the previous one if a kill came mid-swap.
pub fn existing_dir(dir: &Path) -> Option<PathBuf> {
    unmask_core::atomic::readable_dir(dir)
}

/// Removes a checkpoint folder and its swap leftovers.
pub fn remove_dir(dir: &Path) -> Result<()> {
    for d in [dir.to_path_buf(), sibling(dir, "tmp"), sibling(dir, "old")] {
        if d.exists() {
            std::fs::remove_dir_all(&d)
                .with_context(|| format!("cannot remove {}", d.display()))?;
        }
    }
    Ok(())
}

/// The state saved in the checkpoint folder `dir` (`state.json`), if there is one, after
/// checking that `identity` of it equals `wanted` (the fields a run must share to continue).
pub fn resume_state<S: DeserializeOwned, C: Serialize>(
    dir: &Path,
    identity: impl Fn(&S) -> C,
    wanted: &C,
) -> Result<Option<(PathBuf, S)>> {
    let Some(found) = existing_dir(dir) else {
        return Ok(None);
    };
    let file = found.join("state.json");
    let saved: S = read_json(&file)?;
    ensure_same_config(&identity(&saved), wanted, &file).context(
        "the checkpoint belongs to another configuration; rerun with --force (or delete the checkpoint folder) to start afresh",
    )?;
    Ok(Some((found, saved)))
}

pub fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec_pretty(value)?)
}

/// Reads a JSON file of a checkpoint; the error names the file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a valid checkpoint description", path.display()))
}

/// Compares two configs field by field (as JSON) and names the first field that differs.
pub fn ensure_same_config<T: Serialize>(saved: &T, wanted: &T, file: &Path) -> Result<()> {
    let a = serde_json::to_value(saved)?;
    let b = serde_json::to_value(wanted)?;
    if let Some((field, x, y)) = first_difference("", &a, &b) {
        bail!(
            "{}: the checkpoint's architecture differs from the config in field `{field}` (checkpoint: {x}, config: {y})",
            file.display()
        );
    }
    Ok(())
}

fn first_difference(
    prefix: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Option<(String, String, String)> {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                let null = serde_json::Value::Null;
                first_difference(&path, x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null))
            })
        }
        _ if a == b => None,
        _ => Some((prefix.to_string(), a.to_string(), b.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_replaces_and_names_differences() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("checkpoint");
        save_dir(&dir, &[("a.txt", b"one")]).unwrap();
        save_dir(&dir, &[("a.txt", b"two")]).unwrap();
        assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"two");
        assert!(!tmp.path().join("checkpoint.old").exists());
        let err = ensure_same_config(
            &serde_json::json!({"depth": 4, "norm": "batch"}),
            &serde_json::json!({"depth": 3, "norm": "batch"}),
            &dir,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`depth`") && err.contains("checkpoint: 4"),
            "{err}"
        );
    }
}

/// Images trained and the seconds their steps took, over every session of a run; kept in
/// the checkpoint state so a resumed (or finished and restarted) run reports its whole speed.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Throughput {
    pub images: u64,
    pub seconds: f64,
}

impl Throughput {
    pub fn add(&mut self, images: usize, seconds: f64) {
        self.images += images as u64;
        self.seconds += seconds;
    }

    /// Images per second; 0 before any step.
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.images as f64 / self.seconds
        } else {
            0.0
        }
    }
}
