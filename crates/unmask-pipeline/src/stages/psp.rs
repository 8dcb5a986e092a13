//! `kind: train-psp`: the pSp encoder and its StyleGAN2 generator fine-tuned on a masks stage's
//! pairs, starting from a `train-stylegan` stage.

use crate::kinds::{needs_kind, Needed, Stage, StageContext, StageReport};
use anyhow::Result;
use unmask_psp::{TrainControl, TrainPspConfig};

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
