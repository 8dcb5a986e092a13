//! Reading a faces manifest back: the rows every downstream stage (mask synthesis first) works
//! from, whatever the source that wrote them. Here rather than in unmask-faces so that mask
//! synthesis builds without the face sources (and their detector and burn).

use crate::{manifest, Landmarks};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// The faces stage's manifest, in its output folder.
pub const MANIFEST: &str = "manifest.parquet";

/// One face of a dataset.
#[derive(Clone, Debug)]
pub struct FaceRecord {
    pub id: String,
    /// The image file (absolute, or resolved against the manifest's folder).
    pub path: PathBuf,
    pub split: String,
    pub landmarks: Landmarks,
}

/// Reads `DIR/manifest.parquet` written by the faces stage.
pub fn read_faces(dir: &Path) -> Result<Vec<FaceRecord>> {
    let file = dir.join(MANIFEST);
    let df = manifest::read_parquet(&file)?;
    let ids = manifest::str_column(&df, "id", &file)?;
    let paths = manifest::str_column(&df, "path", &file)?;
    let splits = manifest::str_column(&df, "split", &file)?;
    let landmarks = manifest::landmark_columns(&df, &file)?;
    Ok(ids
        .into_iter()
        .zip(paths)
        .zip(splits)
        .zip(landmarks)
        .map(|(((id, path), split), landmarks)| FaceRecord {
            id,
            path: dir.join(path),
            split,
            landmarks,
        })
        .collect())
}
