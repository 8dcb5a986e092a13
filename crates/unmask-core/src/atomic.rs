//! Atomic writes: every file is written to a temporary sibling and renamed into place, so a
//! crash or a kill never leaves a half-written file under its final name; folders are filled
//! beside their final place and swapped in with renames ([`DirSwap`], [`replace_dir`]).

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Creates `path`'s parent folder if needed and returns it.
fn parent_dir(path: &Path) -> Result<&Path> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create folder {}", parent.display()))?;
    Ok(parent)
}

/// Writes whatever `fill` writes to `path`, atomically.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    let parent = parent_dir(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(".part")
        .tempfile_in(parent)
        .with_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    share_readable(tmp.as_file())?;
    fill(tmp.as_file_mut()).with_context(|| format!("while writing {}", path.display()))?;
    tmp.as_file_mut().flush()?;
    crate::faults::before_write(path)
        .with_context(|| format!("while writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot move the finished file to {}", path.display()))?;
    Ok(())
}

/// `NAME.SUFFIX` next to the folder `dir` (`runs/p/masks` -> `runs/p/masks.partial`).
pub fn sibling(dir: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    dir.with_file_name(name)
}

/// Puts the finished folder `new` in the place of `dir`: `dir` is moved aside to `dir.old`,
/// `new` renamed to `dir`, and the old one removed. A kill between the two renames leaves
/// `dir.old`, which [`readable_dir`] reads and [`recover_dir`] puts back.
pub fn replace_dir(new: &Path, dir: &Path) -> Result<()> {
    let old = sibling(dir, "old");
    crate::faults::before_write(dir)
        .with_context(|| format!("cannot replace {}", dir.display()))?;
    if dir.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old)
                .with_context(|| format!("cannot clear {}", old.display()))?;
        }
        std::fs::rename(dir, &old)
            .with_context(|| format!("cannot move {} aside", dir.display()))?;
    }
    // The moment between the renames is a fault point of its own; an error here (or in the
    // rename) puts the old folder back.
    let moved = crate::faults::before_write(dir)
        .map_err(anyhow::Error::from)
        .and_then(|()| Ok(std::fs::rename(new, dir)?))
        .with_context(|| format!("cannot move {} into place", dir.display()));
    if let Err(e) = moved {
        if old.exists() && !dir.exists() {
            let _ = std::fs::rename(&old, dir);
        }
        return Err(e);
    }
    // The swap is done; a leftover `dir.old` is removed by the next `recover_dir`.
    if old.exists() {
        if let Err(e) = std::fs::remove_dir_all(&old) {
            tracing::warn!("cannot remove {}: {e}", old.display());
        }
    }
    Ok(())
}

/// A folder filled beside its final place and swapped in whole: [`DirSwap::begin`] makes
/// a fresh, empty work folder `NAME.SUFFIX` next to `NAME`, and [`DirSwap::commit`] puts it
/// in the place of `NAME` with [`replace_dir`]. Until then `NAME` keeps its old content.
/// Nothing happens on drop: a work folder left by a failure is cleared by the next `begin`
/// (or removed with [`DirSwap::abandon`]; [`tidy_dir`] removes `*.tmp` ones).
#[derive(Debug)]
pub struct DirSwap {
    work: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl DirSwap {
    /// Clears whatever an earlier attempt left in `NAME.SUFFIX` and creates it empty.
    pub fn begin(dir: &Path, suffix: &str) -> Result<Self> {
        let work = sibling(dir, suffix);
        if work.exists() {
            std::fs::remove_dir_all(&work)
                .with_context(|| format!("cannot clear {}", work.display()))?;
        }
        std::fs::create_dir_all(&work)
            .with_context(|| format!("cannot create {}", work.display()))?;
        Ok(Self {
            work,
            dir: dir.to_path_buf(),
        })
    }

    /// The folder to write into.
    pub fn work(&self) -> &Path {
        &self.work
    }

    /// Puts the finished work folder in the place of the final one ([`replace_dir`]).
    pub fn commit(&self) -> Result<()> {
        replace_dir(&self.work, &self.dir)
    }

    /// Removes the work folder, keeping the final one as it was.
    pub fn abandon(&self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// The folder to read for `dir`: itself, or `dir.old` when a kill came between the two
/// renames of [`replace_dir`].
pub fn readable_dir(dir: &Path) -> Option<std::path::PathBuf> {
    if dir.is_dir() {
        return Some(dir.to_path_buf());
    }
    let old = sibling(dir, "old");
    old.is_dir().then_some(old)
}

/// Finishes what a killed [`replace_dir`] left: `dir.old` without `dir` is moved back; a
/// `dir.old` beside a complete `dir` is removed.
pub fn recover_dir(dir: &Path) -> Result<()> {
    let old = sibling(dir, "old");
    if !old.exists() {
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))
    } else {
        std::fs::rename(&old, dir)
            .with_context(|| format!("cannot move {} back to {}", old.display(), dir.display()))
    }
}

/// Clears what killed writes left anywhere under `dir`: temporary files (`.tmp-*`), folders
/// being filled (`*.tmp`), and half-swapped folders (`*.old`, put back or removed by
/// [`recover_dir`]). For folders whose writers work in place (training).
pub fn tidy_dir(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir && name.starts_with(".tmp-") {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        } else if is_dir && name.ends_with(".tmp") {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        } else if is_dir && name.ends_with(".old") {
            let stem = name.strip_suffix(".old").unwrap_or(&name);
            recover_dir(&path.with_file_name(stem))?;
        } else if is_dir {
            tidy_dir(&path)?;
        }
    }
    Ok(())
}

/// Temporary files are created private (0600); outputs are datasets and reports meant to be
/// shared, so they get the usual 0644.
pub fn share_readable(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    let _ = file;
    Ok(())
}

/// Writes `bytes` to `path`, atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |f| Ok(f.write_all(bytes)?))
}

/// Encodes an 8-bit image as PNG with fast compression (dataset generation is bound by PNG
/// encoding otherwise) and writes it atomically.
pub fn save_png<P, C>(image: &image::ImageBuffer<P, C>, path: &Path) -> Result<()>
where
    P: image::PixelWithColorType,
    [P::Subpixel]: image::EncodableLayout,
    C: std::ops::Deref<Target = [P::Subpixel]>,
{
    use image::{EncodableLayout, ImageEncoder};
    let mut bytes = Vec::with_capacity(image.as_raw().len() / 2);
    image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(
        image.as_raw().as_bytes(),
        image.width(),
        image.height(),
        P::COLOR_TYPE.into(),
    )
    .with_context(|| format!("cannot encode {}", path.display()))?;
    write_bytes(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/out.txt");
        let err = write_with(&target, |f| {
            f.write_all(b"partial")?;
            anyhow::bail!("boom")
        });
        assert!(err.is_err());
        assert!(!target.exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert!(leftovers.is_empty(), "temporary file left behind");
    }

    #[test]
    fn replaced_folder_swaps_whole_and_a_half_swap_is_recovered() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("stage");
        let new = root.path().join("stage.partial");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a"), b"old").unwrap();
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("b"), b"new").unwrap();
        replace_dir(&new, &dir).unwrap();
        assert!(!new.exists() && !sibling(&dir, "old").exists());
        assert!(!dir.join("a").exists());
        assert_eq!(std::fs::read(dir.join("b")).unwrap(), b"new");
        // A kill between the renames: only `stage.old` is there.
        std::fs::rename(&dir, sibling(&dir, "old")).unwrap();
        assert_eq!(readable_dir(&dir), Some(sibling(&dir, "old")));
        recover_dir(&dir).unwrap();
        assert_eq!(std::fs::read(dir.join("b")).unwrap(), b"new");
        assert_eq!(readable_dir(&dir), Some(dir.clone()));
    }

    #[test]
    fn a_folder_swap_starts_empty_and_replaces_only_on_commit() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("stage");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a"), b"old").unwrap();
        // What a failed attempt left in the work folder is gone when the next one begins.
        let stale = root.path().join("stage.partial");
        std::fs::create_dir_all(&stale).unwrap();
        std::fs::write(stale.join("half"), b"half").unwrap();
        let swap = DirSwap::begin(&dir, "partial").unwrap();
        assert_eq!(swap.work(), stale);
        assert_eq!(std::fs::read_dir(swap.work()).unwrap().count(), 0);
        std::fs::write(swap.work().join("b"), b"new").unwrap();
        // Until the commit the final folder is untouched.
        assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"old");
        swap.commit().unwrap();
        assert!(!stale.exists() && !sibling(&dir, "old").exists());
        assert!(!dir.join("a").exists());
        assert_eq!(std::fs::read(dir.join("b")).unwrap(), b"new");
        // An abandoned swap removes its work folder and keeps the final one.
        let swap = DirSwap::begin(&dir, "tmp").unwrap();
        std::fs::write(swap.work().join("c"), b"lost").unwrap();
        swap.abandon();
        assert!(!root.path().join("stage.tmp").exists());
        assert_eq!(std::fs::read(dir.join("b")).unwrap(), b"new");
        // A folder that did not exist yet is created by the commit.
        let fresh = root.path().join("fresh");
        let swap = DirSwap::begin(&fresh, "tmp").unwrap();
        std::fs::write(swap.work().join("d"), b"d").unwrap();
        swap.commit().unwrap();
        assert_eq!(std::fs::read(fresh.join("d")).unwrap(), b"d");
    }

    #[test]
    fn tidying_clears_what_killed_writes_left() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path();
        std::fs::create_dir_all(d.join("checkpoint.tmp")).unwrap();
        std::fs::create_dir_all(d.join("best.old")).unwrap();
        std::fs::write(d.join("best.old/w"), b"w").unwrap();
        std::fs::create_dir_all(d.join("samples")).unwrap();
        std::fs::write(d.join("samples/.tmp-x.part"), b"half").unwrap();
        std::fs::write(d.join("samples/step-1.png"), b"png").unwrap();
        tidy_dir(d).unwrap();
        let mut left: Vec<String> = Vec::new();
        for e in walk(d) {
            left.push(e.strip_prefix(d).unwrap().display().to_string());
        }
        left.sort();
        assert_eq!(left, vec!["best/w", "samples/step-1.png"]);
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
        out
    }

    #[test]
    fn write_replaces_existing_content() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.txt");
        write_bytes(&target, b"one").unwrap();
        write_bytes(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
    }
}
