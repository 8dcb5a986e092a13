//! Helpers for tests, benchmarks and examples, kept out of the crates they test so that mask
//! synthesis does not depend on the face sources: only `[dev-dependencies]` name this crate.

use anyhow::Result;
use std::path::{Path, PathBuf};
use unmask_faces::dataset::FacesConfig;
use unmask_masks::dataset::MasksParams;

/// Synthetic faces in `dir/faces` and their masked versions in `dir/masks` (the masks folder
/// is returned): the two data stages in one call.
pub fn synthetic_pairs(dir: &Path, faces: &FacesConfig, masks: &MasksParams) -> Result<PathBuf> {
    unmask_faces::dataset::generate(faces, &dir.join("faces"))?;
    let records = unmask_faces::read_faces(&dir.join("faces"))?;
    unmask_masks::dataset::synthesize(masks, &records, &dir.join("masks"))?;
    Ok(dir.join("masks"))
}

/// [`synthetic_pairs`] for tests: `count` faces of `size` px, `val_fraction` of them for
/// validation, no test split and no previews.
pub fn small_pairs(dir: &Path, count: usize, size: u32, val_fraction: f64) -> PathBuf {
    let faces = FacesConfig {
        count,
        size,
        val_fraction,
        test_fraction: 0.0,
        preview_count: 0,
        ..Default::default()
    };
    let masks = MasksParams {
        preview_per_type: 0,
        ..Default::default()
    };
    synthetic_pairs(dir, &faces, &masks).unwrap()
}
