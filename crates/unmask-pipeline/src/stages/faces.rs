//! `kind: faces`: the face source of a dataset (see `unmask_faces::source`).

use crate::kinds::{Stage, StageContext, StageReport};
use anyhow::Result;
use unmask_faces::FacesConfig;

pub struct FacesStage;

impl Stage for FacesStage {
    const KIND: &'static str = "faces";
    const SUMMARY: &'static str = "faces with 68 landmarks: synthetic, a folder with a landmarks file, photos (faces detected and aligned), or face-api's demo photos";
    type Params = FacesConfig;

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
