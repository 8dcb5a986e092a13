//! What a stamp may bless: a stage's outputs are checked before its stamp is written (every
//! file its manifests name exists and is not empty), and the stages it read must not have
//! changed while it ran.

use crate::kinds::{self, Input};
use crate::stamp::{self, OutputFile};
use anyhow::{bail, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// How the folders of the needed stages looked when a stage started: their stamps and their
/// file listings.
pub struct InputsSnapshot {
    taken: Vec<(Input, String, Vec<OutputFile>)>,
}

impl InputsSnapshot {
    pub fn take(inputs: &[Input]) -> Result<Self> {
        let taken = inputs
            .iter()
            .map(|i| Ok((i.clone(), stamp_hash(&i.dir), listing(&i.dir)?)))
            .collect::<Result<_>>()?;
        Ok(Self { taken })
    }

    /// An error naming the needed stage (and one of its files) that changed since
    /// [`Self::take`], as when another process rewrote or removed it.
    pub fn ensure_unchanged(&self, stage: &str) -> Result<()> {
        for (input, stamp_before, before) in &self.taken {
            let now = listing(&input.dir)?;
            let changed = if stamp_hash(&input.dir) != *stamp_before {
                Some(stamp::STAMP_FILE.to_string())
            } else {
                first_difference(before, &now)
            };
            if let Some(file) = changed {
                bail!(
                    "stage `{}` changed while `{stage}` was reading it ({} in {} was removed, added or rewritten); `{stage}` was not stamped: run the pipeline again",
                    input.name,
                    file,
                    input.dir.display()
                );
            }
        }
        Ok(())
    }
}

fn stamp_hash(dir: &Path) -> String {
    match std::fs::read(dir.join(stamp::STAMP_FILE)) {
        Ok(bytes) => hex::encode(Sha256::digest(&bytes)),
        Err(_) => "missing".into(),
    }
}

fn listing(dir: &Path) -> Result<Vec<OutputFile>> {
    if dir.is_dir() {
        stamp::list_outputs(dir)
    } else {
        Ok(Vec::new())
    }
}

fn first_difference(before: &[OutputFile], now: &[OutputFile]) -> Option<String> {
    before
        .iter()
        .find(|f| !now.contains(f))
        .or_else(|| now.iter().find(|f| !before.contains(f)))
        .map(|f| f.path.clone())
}

/// Checks that every file the outputs of a `kind` stage in `work` name exists (and, inside
/// `work`, is not empty), and returns those outside `work` (to be re-checked on later runs), named relative
/// to `work` (`../faces/images/x.png`) or absolute (a user's photos).
pub fn referenced_outside(kind: &str, work: &Path) -> Result<Vec<OutputFile>> {
    let mut outside = Vec::new();
    for path in kinds::referenced_files(kind, work)? {
        let name = relative_name(&path, work);
        let inside = matches!(
            Path::new(&name).components().next(),
            Some(std::path::Component::Normal(_))
        );
        let Some(found) = stamp::stat(&path, name.clone()) else {
            bail!(
                "the outputs name {}, which does not exist: the stage's outputs are incomplete and were not stamped",
                path.display()
            );
        };
        // An empty file of the stage's own is a write that did not finish; an empty input
        // (a user's photo) is the later stages' per-sample rejection to make.
        if inside && found.size == 0 {
            bail!(
                "the outputs name {}, which is empty: the stage's outputs are incomplete and were not stamped",
                path.display()
            );
        }
        if !inside {
            outside.push(found);
        }
    }
    outside.sort_by(|a, b| a.path.cmp(&b.path));
    outside.dedup_by(|a, b| a.path == b.path);
    Ok(outside)
}

/// `path` relative to `dir` as manifests write it (`dir/../faces/x.png` is `../faces/x.png`),
/// or the path itself.
fn relative_name(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir)
        .map(PathBuf::from)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(dir: &Path) -> Input {
        Input {
            name: "faces".into(),
            kind: "faces".into(),
            dir: dir.to_path_buf(),
        }
    }

    #[test]
    fn a_needed_stage_that_changes_while_reading_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let faces = tmp.path().join("faces");
        std::fs::create_dir_all(faces.join("images")).unwrap();
        std::fs::write(faces.join("images/a.png"), b"a").unwrap();
        std::fs::write(faces.join(stamp::STAMP_FILE), b"{}").unwrap();
        let snap = InputsSnapshot::take(&[input(&faces)]).unwrap();
        snap.ensure_unchanged("masks").unwrap();
        std::fs::remove_file(faces.join("images/a.png")).unwrap();
        let err = snap.ensure_unchanged("masks").unwrap_err().to_string();
        assert!(
            err.contains("stage `faces` changed while `masks`") && err.contains("images/a.png"),
            "{err}"
        );
        std::fs::write(faces.join("images/a.png"), b"a").unwrap();
        let snap = InputsSnapshot::take(&[input(&faces)]).unwrap();
        std::fs::write(faces.join(stamp::STAMP_FILE), b"{\"x\":1}").unwrap();
        let err = snap.ensure_unchanged("masks").unwrap_err().to_string();
        assert!(err.contains(stamp::STAMP_FILE), "{err}");
    }

    #[test]
    fn names_relative_to_the_stage_folder() {
        let dir = Path::new("/o/p/masks");
        assert_eq!(
            relative_name(&dir.join("../faces/images/a.png"), dir),
            "../faces/images/a.png"
        );
        assert_eq!(
            relative_name(&dir.join("masked/a.png"), dir),
            "masked/a.png"
        );
        assert_eq!(
            relative_name(Path::new("/photos/a.jpg"), dir),
            "/photos/a.jpg"
        );
    }
}
