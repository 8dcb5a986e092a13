//! `kind: train-seg` and `kind: eval-seg`: the UNet mask segmenter on the pairs of a masks stage.

use crate::kinds::{Needed, Stage, StageContext, StageReport};
use anyhow::Result;
use unmask_seg::{EvalSegParams, TrainControl, TrainSegConfig};

pub struct TrainSegStage;

impl Stage for TrainSegStage {
    const KIND: &'static str = "train-seg";
    const SUMMARY: &'static str = "train the UNet mask segmenter (Dice loss, Adam), resumable";
    const RESUMABLE: bool = true;
    type Params = TrainSegConfig;

    fn check(params: &TrainSegConfig, _needs: &[Needed]) -> Result<()> {
        params.validate()
    }

    fn run(params: &TrainSegConfig, ctx: &StageContext) -> Result<StageReport> {
        let data = &ctx.input("masks")?.dir;
        let control = TrainControl {
            fresh: ctx.fresh,
            ..Default::default()
        };
        let outcome = unmask_seg::train(params, data, ctx.out_dir, &control)?;
        Ok(StageReport {
            summary: outcome.describe(),
            ..Default::default()
        })
    }
}

pub struct EvalSegStage;

impl Stage for EvalSegStage {
    const KIND: &'static str = "eval-seg";
    const SUMMARY: &'static str = "score the segmenter on a split: Dice, IoU, pixel accuracy, precision, recall per mask type";
    type Params = EvalSegParams;

    fn run(params: &EvalSegParams, ctx: &StageContext) -> Result<StageReport> {
        let model = &ctx.input("train-seg")?.dir;
        let data = &ctx.input("masks")?.dir;
        let summary = unmask_seg::evaluation::evaluate(model, data, params, ctx.out_dir)?;
        Ok(StageReport {
            summary: summary.describe(),
            ..Default::default()
        })
    }
}
