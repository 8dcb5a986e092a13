//! `kind: train-inpaint` and `kind: eval-inpaint`: the imputed-convolution GAN on the pairs of
//! a masks stage (optionally on the masks of a `train-seg` stage).

use crate::kinds::{needs_kind, one_model_source, Needed, Stage, StageContext, StageReport};
use anyhow::Result;
use std::path::Path;
use unmask_inpaint::{
    EvalBaselineParams, EvalInpaintParams, MaskSource, TrainControl, TrainInpaintConfig,
    TrainInputs,
};

/// `masks: segmenter` needs a `train-seg` stage in `needs`; said before anything trains.
pub(crate) fn segmenter_needed(masks: MaskSource, needs: &[Needed]) -> Result<()> {
    if masks == MaskSource::Segmenter && !needs_kind(needs, "train-seg") {
        anyhow::bail!("`masks: segmenter` needs a `train-seg` stage in `needs`");
    }
    Ok(())
}

/// The folder of the `train-seg` stage in `needs`, if any.
pub(crate) fn segmenter_of<'a>(ctx: &'a StageContext) -> Option<&'a Path> {
    ctx.inputs
        .iter()
        .find(|i| i.kind == "train-seg")
        .map(|i| i.dir.as_path())
}

pub struct TrainInpaintStage;

impl Stage for TrainInpaintStage {
    const KIND: &'static str = "train-inpaint";
    const SUMMARY: &'static str =
        "train the coarse-to-fine inpainting GAN (imputed or gated convolutions), resumable";
    const RESUMABLE: bool = true;
    type Params = TrainInpaintConfig;

    fn check(params: &TrainInpaintConfig, needs: &[Needed]) -> Result<()> {
        params.validate()?;
        segmenter_needed(params.masks, needs)
    }

    fn run(params: &TrainInpaintConfig, ctx: &StageContext) -> Result<StageReport> {
        let data = &ctx.input("masks")?.dir;
        let inputs = TrainInputs {
            data,
            segmenter: segmenter_of(ctx),
        };
        let control = TrainControl {
            fresh: ctx.fresh,
            ..Default::default()
        };
        let outcome = unmask_inpaint::train(params, &inputs, ctx.out_dir, &control)?;
        Ok(StageReport {
            summary: outcome.describe(),
            ..Default::default()
        })
    }
}

pub struct EvalInpaintStage;

impl Stage for EvalInpaintStage {
    const KIND: &'static str = "eval-inpaint";
    const SUMMARY: &'static str =
        "score the GAN on a split (true or segmenter holes): hole L1, L1, PSNR, SSIM, LPIPS";
    type Params = EvalInpaintParams;

    fn external_inputs(params: &EvalInpaintParams) -> Vec<std::path::PathBuf> {
        // The folder as given: retraining that model makes the score run again.
        params.model.iter().cloned().collect()
    }

    fn check(params: &EvalInpaintParams, needs: &[Needed]) -> Result<()> {
        one_model_source(params.model.as_deref(), needs, "train-inpaint", "GANs")?;
        segmenter_needed(params.masks, needs)
    }

    fn run(params: &EvalInpaintParams, ctx: &StageContext) -> Result<StageReport> {
        let model = match &params.model {
            Some(dir) => ctx.project_root.join(dir),
            None => ctx.input("train-inpaint")?.dir.clone(),
        };
        let model = &model;
        let data = &ctx.input("masks")?.dir;
        let summary = unmask_inpaint::evaluation::evaluate(
            model,
            data,
            params,
            segmenter_of(ctx),
            ctx.out_dir,
        )?;
        Ok(StageReport {
            summary: summary.describe(),
            ..Default::default()
        })
    }
}

pub struct EvalBaselineStage;

impl Stage for EvalBaselineStage {
    const KIND: &'static str = "eval-baseline";
    const SUMMARY: &'static str =
        "score a classical fill (mean colour, Telea diffusion) like eval-inpaint scores the GAN";
    type Params = EvalBaselineParams;

    fn check(params: &EvalBaselineParams, needs: &[Needed]) -> Result<()> {
        params.validate()?;
        segmenter_needed(params.masks, needs)
    }

    fn run(params: &EvalBaselineParams, ctx: &StageContext) -> Result<StageReport> {
        let data = &ctx.input("masks")?.dir;
        let summary = unmask_inpaint::evaluation::evaluate_baseline(
            params,
            data,
            segmenter_of(ctx),
            ctx.out_dir,
        )?;
        Ok(StageReport {
            summary: format!("{}: {}", params.method.name(), summary.describe()),
            ..Default::default()
        })
    }
}
