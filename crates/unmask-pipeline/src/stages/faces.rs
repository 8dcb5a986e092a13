//! `kind: faces`: the face source of a dataset (see `unmask_faces::source`).

use crate::kinds::{Stage, StageContext, StageReport};
use anyhow::Result;
use std::path::{Path, PathBuf};
use unmask_faces::FacesConfig;

pub struct FacesStage;

impl Stage for FacesStage {
    const KIND: &'static str = "faces";
    const SUMMARY: &'static str = "faces with 68 landmarks: synthetic, a folder with a landmarks file, photos (faces detected and aligned), or face-api's demo photos";
    type Params = FacesConfig;

    fn referenced_files(dir: &Path) -> Result<Vec<PathBuf>> {
        Ok(unmask_faces::read_faces(dir)?
            .into_iter()
            .map(|f| f.path)
            .collect())
    }

    fn check(params: &FacesConfig, _needs: &[crate::kinds::Needed]) -> Result<()> {
        unmask_core::rejects::check_fraction("max_reject_fraction", params.max_reject_fraction)
    }

    fn run(params: &FacesConfig, ctx: &StageContext) -> Result<StageReport> {
        let s = unmask_faces::generate(params, ctx.out_dir)?;
        Ok(StageReport {
            summary: format!(
                "{} faces at {}px ({} train, {} val, {} test)",
                s.count, params.size, s.train, s.val, s.test
            ),
            ..Default::default()
        })
    }
}
