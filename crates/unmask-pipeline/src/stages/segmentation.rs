//! `kind: train-seg` and `kind: eval-seg`: the UNet mask segmenter on the pairs of a masks stage.

use crate::kinds::{one_model_source, Needed, Stage, StageContext, StageReport};
use anyhow::Result;
use unmask_seg::inference::INFO_FILE as SEGMENTER_FILE;
use unmask_seg::training::BEST_DIR;
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
    const SUMMARY: &'static str = "score the segmenter on a split: Dice, IoU, pixel accuracy, precision, recall, false alarms on the bare faces, per mask type";
    type Params = EvalSegParams;

    fn external_inputs(params: &EvalSegParams) -> Vec<std::path::PathBuf> {
        // The folder as given (a train-seg folder or its best/): any change reruns the score.
        params.model.iter().cloned().collect()
    }

    fn check(params: &EvalSegParams, needs: &[Needed]) -> Result<()> {
        one_model_source(params.model.as_deref(), needs, "train-seg", "segmenters")?;
        anyhow::ensure!(
            ["train", "val", "test", "all"].contains(&params.split.as_str()),
            "split must be train, val, test or all, got `{}`",
            params.split
        );
        Ok(())
    }

    fn run(params: &EvalSegParams, ctx: &StageContext) -> Result<StageReport> {
        let model = match &params.model {
            Some(dir) => {
                let dir = ctx.project_root.join(dir);
                anyhow::ensure!(
                    dir.join(BEST_DIR).is_dir() || dir.join(SEGMENTER_FILE).is_file(),
                    "no trained segmenter in {} (eval-seg.model): train one first, e.g. `cargo xtask run quickstart`, or point eval-seg.model at a train-seg folder",
                    dir.display()
                );
                dir
            }
            None => ctx.input("train-seg")?.dir.clone(),
        };
        let model = &model;
        let data = &ctx.input("masks")?.dir;
        let summary = unmask_seg::evaluation::evaluate(model, data, params, ctx.out_dir)?;
        Ok(StageReport {
            summary: summary.describe(),
            ..Default::default()
        })
    }
}
