//! `kind: eval-unmask`: the whole photo path scored on the photos of a faces stage (face-api's
//! demo photos or a folder of the user's), against the bare photos.

use crate::kinds::{Stage, StageContext, StageReport};
use anyhow::{Context, Result};
use std::path::PathBuf;
use unmask_photo::EvalUnmaskParams;

pub struct EvalUnmaskStage;

impl Stage for EvalUnmaskStage {
    const KIND: &'static str = "eval-unmask";
    const SUMMARY: &'static str = "draw masks on real photos, unmask them end to end and score each face against the bare photo, next to Telea and the mean fill on the same holes; counts faces found, unmasked and bare faces changed";
    type Params = EvalUnmaskParams;

    fn external_inputs(params: &EvalUnmaskParams) -> Vec<PathBuf> {
        // Retraining either model makes the score run again.
        vec![params.gan.clone(), params.segmenter.clone()]
    }

    fn check(params: &EvalUnmaskParams, _needs: &[crate::kinds::Needed]) -> Result<()> {
        params.validate()
    }

    fn run(params: &EvalUnmaskParams, ctx: &StageContext) -> Result<StageReport> {
        let faces = &ctx.input("faces")?.dir;
        let manifest = faces.join(unmask_faces::dataset::MANIFEST);
        let df = unmask_core::manifest::read_parquet(&manifest)?;
        let sources = unmask_core::manifest::str_column(&df, "source_photo", &manifest)
            .with_context(|| {
                format!(
                    "stage `{}` scores photos: its faces stage must come from photos (faces.demo_photos or faces.dir), not synthetic faces",
                    ctx.name
                )
            })?;
        let mut photos: Vec<PathBuf> = Vec::new();
        for s in sources {
            let p = PathBuf::from(s);
            if !photos.contains(&p) {
                photos.push(p);
            }
        }
        let summary =
            unmask_photo::evaluate_photos(&photos, params, ctx.project_root, ctx.out_dir)?;
        Ok(StageReport {
            summary: summary.describe(),
            ..Default::default()
        })
    }
}
