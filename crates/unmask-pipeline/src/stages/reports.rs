//! `kind: ablation-report` (every variant of the stages it needs, in one table and page) and
//! `kind: nightly` (the newest models on a fixed split, compared with the last report).

use crate::kinds::{needs_kind, Needed, Stage, StageContext, StageReport};
use crate::{stamp, CODE_VERSION};
use anyhow::Result;
use std::path::Path;
use unmask_inpaint::evaluation::{evaluate as evaluate_gan, EvalInpaintParams};
use unmask_inpaint::MaskSource;
use unmask_report::{
    AblationInputs, AblationReportParams, InputStage, NightlyModels, NightlyParams, NightlyScorer,
    NightlyScoring,
};
use unmask_seg::evaluation::{evaluate as evaluate_seg, EvalSegParams};

pub struct AblationReportStage;

impl Stage for AblationReportStage {
    const KIND: &'static str = "ablation-report";
    const SUMMARY: &'static str =
        "the ablation table (bootstrap intervals) as ablation.md, ablation.parquet and report.html";
    const GATHERS_VARIANTS: bool = true;
    type Params = AblationReportParams;

    fn check(params: &AblationReportParams, needs: &[Needed]) -> Result<()> {
        params.validate()?;
        same_image_size(needs)
    }

    fn run(params: &AblationReportParams, ctx: &StageContext) -> Result<StageReport> {
        let stages = ctx
            .inputs
            .iter()
            .map(|i| InputStage {
                name: i.name.clone(),
                kind: i.kind.clone(),
                dir: i.dir.clone(),
                params: stamp::load(&i.dir).map_or(serde_json::Value::Null, |s| s.params),
            })
            .collect();
        let inputs = AblationInputs {
            pipeline: ctx.pipeline.to_string(),
            code_version: CODE_VERSION.to_string(),
            stages,
        };
        let summary = unmask_report::ablation::write_report(&inputs, params, ctx.out_dir)?;
        Ok(StageReport {
            summary: summary.describe(),
            ..Default::default()
        })
    }
}

/// The rows of an ablation compare only when every GAN, StyleGAN2 and every baseline is
/// scored at the same side; said before any training rather than after it.
fn same_image_size(needs: &[Needed]) -> Result<()> {
    let sides = needs.iter().filter_map(|n| {
        let side = match n.kind {
            "train-inpaint" | "train-stylegan" => n.params["generator"]["image_size"].as_u64(),
            "eval-baseline" => n.params["image_size"].as_u64(),
            _ => None,
        };
        side.map(|s| (n.name, s))
    });
    let mut first: Option<(&str, u64)> = None;
    for (name, side) in sides {
        match first {
            None => first = Some((name, side)),
            Some((other, want)) if want != side => anyhow::bail!(
                "the report compares `{other}` at {want} px with `{name}` at {side} px: set every baseline's image_size and train-stylegan's generator.image_size to the GAN's generator.image_size"
            ),
            Some(_) => {}
        }
    }
    Ok(())
}

pub struct NightlyStage;

impl Stage for NightlyStage {
    const KIND: &'static str = "nightly";
    const SUMMARY: &'static str =
        "score the newest trained models on a fixed split; a dated report, regressions flagged";
    // Keeps its dated reports in place, and runs every time: the newest models live outside
    // the pipeline.
    const RESUMABLE: bool = true;
    const ALWAYS_RUN: bool = true;
    type Params = NightlyParams;

    fn check(params: &NightlyParams, needs: &[Needed]) -> Result<()> {
        anyhow::ensure!(
            needs_kind(needs, "masks"),
            "the nightly stage needs a `masks` stage in `needs` (its fixed test split)"
        );
        params.validate()
    }

    fn run(params: &NightlyParams, ctx: &StageContext) -> Result<StageReport> {
        let data = &ctx.input("masks")?.dir;
        let label = chrono::Utc::now()
            .format("%Y-%m-%dT%H%M%S%.3fZ")
            .to_string();
        let models = NightlyModels {
            segmenter: match &params.segmenter {
                Some(p) => p.clone(),
                None => unmask_seg::latest_model(ctx.runs_root)?,
            },
            inpainter: match &params.inpainter {
                Some(p) => p.clone(),
                None => unmask_inpaint::latest_model(ctx.runs_root)?,
            },
        };
        let outcome = unmask_report::nightly::run(
            params,
            &models,
            &ModelEvaluations,
            data,
            ctx.out_dir,
            &label,
        )?;
        let regressed = outcome.regressions();
        let alert = (!regressed.is_empty()).then(|| {
            format!(
                "{} metric(s) got worse beyond the previous report's interval: {}",
                regressed.len(),
                regressed
                    .iter()
                    .map(|m| format!(
                        "{}.{} {:.4} (was {:.4})",
                        m.group,
                        m.metric,
                        m.now.mean,
                        m.previous.map_or(f64::NAN, |p| p.mean)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        Ok(StageReport {
            summary: outcome.describe(),
            alert,
        })
    }
}

/// The nightly scores, written by the same evaluations as `eval-seg` and `eval-inpaint`.
struct ModelEvaluations;

impl NightlyScorer for ModelEvaluations {
    fn score_segmenter(&self, model: &Path, on: &NightlyScoring, out_dir: &Path) -> Result<()> {
        let params = EvalSegParams {
            split: on.split.to_string(),
            device: on.device,
            ..Default::default()
        };
        evaluate_seg(model, on.data, &params, out_dir).map(drop)
    }

    fn score_inpainter(
        &self,
        model: &Path,
        masks: MaskSource,
        segmenter: &Path,
        on: &NightlyScoring,
        out_dir: &Path,
    ) -> Result<()> {
        let params = EvalInpaintParams {
            split: on.split.to_string(),
            lpips: on.lpips,
            masks,
            device: on.device,
            ..Default::default()
        };
        evaluate_gan(model, on.data, &params, Some(segmenter), out_dir).map(drop)
    }
}
