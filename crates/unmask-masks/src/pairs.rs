//! Reading a masks manifest back: the (masked image, mask, target) triples the segmenter and
//! the inpainting GAN train and evaluate on.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use unmask_core::{manifest, Landmarks};

/// One masked face of a dataset; paths are resolved against the manifest's folder.
#[derive(Clone, Debug)]
pub struct MaskedPair {
    pub id: String,
    pub split: String,
    pub mask_type: String,
    pub masked: PathBuf,
    pub mask: PathBuf,
    pub target: PathBuf,
    /// The face's 68 landmarks in the masked image's pixels (manifests without the landmark
    /// columns give `None`).
    pub landmarks: Option<Landmarks>,
}

/// Reads `DIR/manifest.parquet` written by the masks stage.
pub fn read_pairs(dir: &Path) -> Result<Vec<MaskedPair>> {
    let file = dir.join(crate::dataset::MANIFEST);
    let df = manifest::read_parquet(&file)?;
    let column = |name: &str| manifest::str_column(&df, name, &file);
    let (ids, splits, types) = (column("id")?, column("split")?, column("mask_type")?);
    let (masked, masks, targets) = (column("masked")?, column("mask")?, column("target")?);
    let landmarks = if df.schema().contains("lm00_x") {
        manifest::landmark_columns(&df, &file)?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None; ids.len()]
    };
    Ok((0..ids.len())
        .map(|i| MaskedPair {
            id: ids[i].clone(),
            split: splits[i].clone(),
            mask_type: types[i].clone(),
            masked: dir.join(&masked[i]),
            mask: dir.join(&masks[i]),
            target: dir.join(&targets[i]),
            landmarks: landmarks[i],
        })
        .collect())
}

/// The pairs of one split (`train`, `val` or `test`); an empty split is an error naming the
/// manifest, so training never starts on nothing.
pub fn read_split(dir: &Path, split: &str) -> Result<Vec<MaskedPair>> {
    let all = read_pairs(dir)?;
    let total = all.len();
    let chosen: Vec<MaskedPair> = all.into_iter().filter(|p| p.split == split).collect();
    if chosen.is_empty() {
        bail!(
            "the `{split}` split of {} is empty ({total} rows in other splits): generate more faces or raise the split fraction",
            dir.join(crate::dataset::MANIFEST).display()
        );
    }
    Ok(chosen)
}

/// Up to `count` of `pairs` shown as examples: one of each mask type first, then the rest,
/// each in id order.
pub fn example_pairs(mut pairs: Vec<MaskedPair>, count: usize) -> Vec<MaskedPair> {
    pairs.sort_by(|a, b| a.id.cmp(&b.id));
    let mut chosen: Vec<MaskedPair> = Vec::new();
    for p in &pairs {
        if chosen.len() < count && !chosen.iter().any(|c| c.mask_type == p.mask_type) {
            chosen.push(p.clone());
        }
    }
    for p in &pairs {
        if chosen.len() < count && !chosen.iter().any(|c| c.id == p.id) {
            chosen.push(p.clone());
        }
    }
    chosen
}

/// `(id, mask type)` of each pair, the keys of evaluation tables.
pub fn ids_and_types(pairs: &[MaskedPair]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|p| (p.id.clone(), p.mask_type.clone()))
        .collect()
}

/// The pairs of `split` in id order, only the first `limit` (at least one) when it is set:
/// what a training run takes, the same whatever order the manifest lists them in.
pub fn sorted_split(dir: &Path, split: &str, limit: Option<usize>) -> Result<Vec<MaskedPair>> {
    let mut pairs = read_split(dir, split)?;
    pairs.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(limit) = limit {
        pairs.truncate(limit.max(1));
    }
    Ok(pairs)
}
