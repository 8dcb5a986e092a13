//! `kind: train-inpaint` and `kind: eval-inpaint`: the imputed-convolution GAN on the pairs of
//! a masks stage (optionally on the masks of a `train-seg` stage).

use crate::kinds::{Stage, StageContext, StageReport};
use anyhow::Result;
use unmask_inpaint::{EvalInpaintParams, TrainControl, TrainInpaintConfig, TrainInputs};

pub struct TrainInpaintStage;

impl Stage for TrainInpaintStage {
    const KIND: &'static str = "train-inpaint";
    const SUMMARY: &'static str =
        "train the coarse-to-fine inpainting GAN (imputed or gated convolutions), resumable";
    const RESUMABLE: bool = true;
    type Params = TrainInpaintConfig;

    fn run(params: &TrainInpaintConfig, ctx: &StageContext) -> Result<StageReport> {
        let data = &ctx.input("masks")?.dir;
        let segmenter = ctx
            .inputs
            .iter()
            .find(|i| i.kind == "train-seg")
            .map(|i| i.dir.as_path());
        let inputs = TrainInputs { data, segmenter };
        let control = TrainControl {
            fresh: ctx.fresh,
            ..Default::default()
        };
        let outcome = unmask_inpaint::train(params, &inputs, ctx.out_dir, &control)?;
        Ok(StageReport {
            summary: outcome.describe(),
        })
    }
}

pub struct EvalInpaintStage;

impl Stage for EvalInpaintStage {
    const KIND: &'static str = "eval-inpaint";
    const SUMMARY: &'static str =
        "score the GAN on a split: hole L1, L1, PSNR, SSIM, LPIPS, against a mean-colour fill";
    type Params = EvalInpaintParams;

    fn run(params: &EvalInpaintParams, ctx: &StageContext) -> Result<StageReport> {
        let model = &ctx.input("train-inpaint")?.dir;
        let data = &ctx.input("masks")?.dir;
        let summary = unmask_inpaint::evaluation::evaluate(model, data, params, ctx.out_dir)?;
        Ok(StageReport {
            summary: summary.describe(),
        })
    }
}
