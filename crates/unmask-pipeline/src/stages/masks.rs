//! `kind: masks`: MaskTheFace-style masks rendered onto the faces of the stage it needs.

use crate::kinds::{Stage, StageContext, StageReport};
use anyhow::Result;
use std::path::{Path, PathBuf};
use unmask_masks::dataset::{synthesize, MasksParams};

pub struct MasksStage;

impl Stage for MasksStage {
    const KIND: &'static str = "masks";
    const SUMMARY: &'static str = "render surgical, N95, KN95, cloth and gas masks onto faces";
    type Params = MasksParams;

    fn referenced_files(dir: &Path) -> Result<Vec<PathBuf>> {
        Ok(unmask_masks::pairs::read_pairs(dir)?
            .into_iter()
            .flat_map(|p| [p.masked, p.mask, p.target])
            .collect())
    }

    fn check(params: &MasksParams, _needs: &[crate::kinds::Needed]) -> Result<()> {
        unmask_core::rejects::check_fraction("max_reject_fraction", params.max_reject_fraction)
    }

    fn run(params: &MasksParams, ctx: &StageContext) -> Result<StageReport> {
        let faces_dir = &ctx.input("faces")?.dir;
        let faces = unmask_faces::read_faces(faces_dir)?;
        if faces.is_empty() {
            anyhow::bail!("the faces manifest in {} has no rows", faces_dir.display());
        }
        let summary = synthesize(params, &faces, ctx.out_dir)?;
        Ok(StageReport {
            summary: summary.describe(),
            ..Default::default()
        })
    }
}
