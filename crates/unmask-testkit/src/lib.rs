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
