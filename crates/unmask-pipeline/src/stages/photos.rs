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

    fn check(params: &EvalUnmaskParams, needs: &[crate::kinds::Needed]) -> Result<()> {
        params.validate()?;
        // Said before anything runs: synthetic faces have no photos to draw masks on.
        let faces = needs.iter().find(|n| n.kind == "faces").ok_or_else(|| {
            anyhow::anyhow!("eval-unmask needs a `faces` stage of photos in `needs`")
        })?;
        let from_photos = faces.params.get("demo_photos").and_then(|v| v.as_bool()) == Some(true)
            || faces.params.get("dir").is_some_and(|v| !v.is_null());
        anyhow::ensure!(
            from_photos,
            "eval-unmask scores photos: its faces stage `{}` must come from photos (faces.demo_photos: true or faces.dir), not synthetic faces",
            faces.name
        );
        Ok(())
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
