//! `kind: train-stylegan`: StyleGAN2 from scratch on the unmasked faces of a masks stage.

use crate::kinds::{Needed, Stage, StageContext, StageReport};
use anyhow::Result;
use unmask_stylegan::{TrainControl, TrainStyleGanConfig};

pub struct TrainStyleGanStage;

impl Stage for TrainStyleGanStage {
    const KIND: &'static str = "train-stylegan";
    const SUMMARY: &'static str =
        "train StyleGAN2 from scratch on the masks stage's unmasked training faces (logistic loss, lazy R1, EMA generator), resumable";
    const RESUMABLE: bool = true;
    type Params = TrainStyleGanConfig;

    fn check(params: &TrainStyleGanConfig, _needs: &[Needed]) -> Result<()> {
        params.validate()
    }

    fn run(params: &TrainStyleGanConfig, ctx: &StageContext) -> Result<StageReport> {
        let data = &ctx.input("masks")?.dir;
        let control = TrainControl {
            fresh: ctx.fresh,
            ..Default::default()
        };
        let outcome = unmask_stylegan::train(params, data, ctx.out_dir, &control)?;
        Ok(StageReport {
            summary: outcome.describe(),
            ..Default::default()
        })
    }
}
