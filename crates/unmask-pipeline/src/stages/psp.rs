//! `kind: train-psp`: the pSp encoder and its StyleGAN2 generator fine-tuned on a masks stage's
//! pairs, starting from a `train-stylegan` stage; `kind: eval-psp`: its raw or composited
//! output scored like `eval-inpaint` scores the GAN.

use crate::kinds::{needs_kind, one_model_source, Needed, Stage, StageContext, StageReport};
use crate::stages::inpainting::{segmenter_needed, segmenter_of};
use anyhow::Result;
use unmask_psp::{EvalPspParams, TrainControl, TrainPspConfig};

pub struct TrainPspStage;

impl Stage for TrainPspStage {
    const KIND: &'static str = "train-psp";
    const SUMMARY: &'static str =
        "train the pSp encoder with its StyleGAN2 generator on masked/unmasked pairs (L2 + LPIPS + ID), resumable";
    const RESUMABLE: bool = true;
    type Params = TrainPspConfig;

    fn check(params: &TrainPspConfig, needs: &[Needed]) -> Result<()> {
        params.validate()?;
        anyhow::ensure!(
            needs_kind(needs, "train-stylegan"),
            "`train-psp` needs a `train-stylegan` stage in `needs` (its generator is where pSp starts)"
        );
        Ok(())
    }

    fn run(params: &TrainPspConfig, ctx: &StageContext) -> Result<StageReport> {
        let data = &ctx.input("masks")?.dir;
        let stylegan = &ctx.input("train-stylegan")?.dir;
        let control = TrainControl {
            fresh: ctx.fresh,
            ..Default::default()
        };
        let outcome = unmask_psp::train(params, data, stylegan, ctx.out_dir, &control)?;
        Ok(StageReport {
            summary: outcome.describe(),
            ..Default::default()
        })
    }
}

pub struct EvalPspStage;

impl Stage for EvalPspStage {
    const KIND: &'static str = "eval-psp";
    const SUMMARY: &'static str =
        "score pSp's raw or composited output like eval-inpaint (with L1 outside the hole: what StyleGAN2 changed)";
    type Params = EvalPspParams;

    fn external_inputs(params: &EvalPspParams) -> Vec<std::path::PathBuf> {
        params.model.iter().cloned().collect()
    }

    fn check(params: &EvalPspParams, needs: &[Needed]) -> Result<()> {
        params.validate()?;
        one_model_source(params.model.as_deref(), needs, "train-psp", "pSp models")?;
        segmenter_needed(params.masks, needs)
    }

    fn run(params: &EvalPspParams, ctx: &StageContext) -> Result<StageReport> {
        let model = match &params.model {
            Some(dir) => ctx.project_root.join(dir),
            None => ctx.input("train-psp")?.dir.clone(),
        };
        let data = &ctx.input("masks")?.dir;
        let summary =
            unmask_psp::evaluation::evaluate(&model, data, params, segmenter_of(ctx), ctx.out_dir)?;
        Ok(StageReport {
            summary: format!("{}: {}", params.output.method(), summary.describe()),
            ..Default::default()
        })
    }
}
