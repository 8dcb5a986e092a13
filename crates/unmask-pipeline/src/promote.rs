//! Where a stage writes and how that becomes its folder: a resumable (training) stage works
//! in `STAGE/` itself and relies on its own atomic checkpoints; any other stage fills a fresh
//! `STAGE.partial/`, which replaces `STAGE/` only when it succeeded, so a failure never
//! leaves half a dataset under the stage's name.

use crate::stamp;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use unmask_core::atomic::{self, DirSwap};

/// The folder a stage writes into while it runs.
pub(crate) enum WorkDir {
    InPlace(PathBuf),
    Swap(DirSwap),
}

impl WorkDir {
    /// Makes the work folder for the stage folder `dir`: `dir` itself, its stamp removed and
    /// what a killed run left cleared (resumable), or an empty `dir.partial/`.
    pub fn prepare(dir: &Path, resumable: bool) -> Result<Self> {
        if !resumable {
            return Ok(Self::Swap(DirSwap::begin(dir, "partial")?));
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let _ = std::fs::remove_file(dir.join(stamp::STAMP_FILE));
        // A killed run may have left temporary files and half-swapped checkpoints.
        atomic::tidy_dir(dir)?;
        Ok(Self::InPlace(dir.to_path_buf()))
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::InPlace(dir) => dir,
            Self::Swap(swap) => swap.work(),
        }
    }

    /// Makes the finished work folder the stage's folder (with the stamp written inside it,
    /// outputs and stamp arrive at once).
    pub fn promote(&self) -> Result<()> {
        match self {
            Self::InPlace(_) => Ok(()),
            Self::Swap(swap) => swap.commit(),
        }
    }

    /// After a failure: drops what a swapped stage wrote, keeping its previous outputs.
    pub fn discard(&self) {
        if let Self::Swap(swap) = self {
            swap.abandon();
        }
    }
}

/// The stage folder to read the stamp of. A real run first finishes a swap that a kill
/// interrupted (`STAGE.old` left alone); a dry run leaves it alone, and reads what the real
/// run would.
pub(crate) fn readable(dir: &Path, dry_run: bool) -> Result<PathBuf> {
    if dry_run {
        return Ok(atomic::readable_dir(dir).unwrap_or_else(|| dir.to_path_buf()));
    }
    atomic::recover_dir(dir)?;
    Ok(dir.to_path_buf())
}
