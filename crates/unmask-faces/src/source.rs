//! Where the faces of a dataset come from. Every source writes the same manifest (id, path,
//! split, 68 landmarks) so the stages after it do not care: the embedded synthetic faces, a
//! folder with a landmarks file, a folder alone (faces and landmarks detected), or face-api's
//! demo photos (detected likewise).

use crate::dataset::{FacesConfig, FacesSummary};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

pub trait FaceSource {
    /// A short name for logs and summaries.
    fn name(&self) -> String;
    /// Writes `manifest.parquet` (and whatever images the source makes) into `out_dir`.
    fn write(&self, cfg: &FacesConfig, out_dir: &Path) -> Result<FacesSummary>;
}

/// The embedded procedural faces.
pub struct SyntheticSource;

/// A folder of photos with a landmarks file.
pub struct FolderSource {
    pub dir: PathBuf,
    pub landmarks: PathBuf,
}

/// A folder of photos alone: faces and landmarks found by unmask-detect, FFHQ-aligned crops.
pub struct DetectedSource {
    pub dir: PathBuf,
}

impl FaceSource for DetectedSource {
    fn name(&self) -> String {
        format!("faces detected in {}", self.dir.display())
    }
    fn write(&self, cfg: &FacesConfig, out_dir: &Path) -> Result<FacesSummary> {
        crate::detected::detect_folder(cfg, &self.dir, out_dir)
    }
}

impl FaceSource for SyntheticSource {
    fn name(&self) -> String {
        "synthetic".into()
    }
    fn write(&self, cfg: &FacesConfig, out_dir: &Path) -> Result<FacesSummary> {
        crate::dataset::generate_synthetic(cfg, out_dir)
    }
}

impl FaceSource for FolderSource {
    fn name(&self) -> String {
        format!("folder {}", self.dir.display())
    }
    fn write(&self, cfg: &FacesConfig, out_dir: &Path) -> Result<FacesSummary> {
        crate::dataset::import_folder(cfg, &self.dir, &self.landmarks, out_dir)
    }
}

/// face-api's demo photos, detected like a folder alone.
pub struct DemoPhotosSource;

impl FaceSource for DemoPhotosSource {
    fn name(&self) -> String {
        "face-api's demo photos".into()
    }
    fn write(&self, cfg: &FacesConfig, out_dir: &Path) -> Result<FacesSummary> {
        crate::detected::detect_demo_photos(cfg, out_dir)
    }
}

/// The source a faces configuration names.
pub fn from_config(cfg: &FacesConfig) -> Result<Box<dyn FaceSource>> {
    if cfg.demo_photos {
        if cfg.dir.is_some() || cfg.landmarks.is_some() {
            bail!("faces.demo_photos is a source of its own: unset faces.dir and faces.landmarks, or set demo_photos to false");
        }
        return Ok(Box::new(DemoPhotosSource));
    }
    match (&cfg.dir, &cfg.landmarks) {
        (None, None) => Ok(Box::new(SyntheticSource)),
        (Some(dir), Some(landmarks)) => Ok(Box::new(FolderSource {
            dir: dir.clone(),
            landmarks: landmarks.clone(),
        })),
        (Some(dir), None) => Ok(Box::new(DetectedSource { dir: dir.clone() })),
        (None, Some(_)) => {
            bail!("faces.landmarks is set but faces.dir is not: name the folder of images")
        }
    }
}
