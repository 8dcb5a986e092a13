//! `kind: ablation-report` (every variant of the stages it needs, in one table and page) and
//! `kind: nightly` (the newest models on a fixed split, compared with the last report).

use crate::kinds::{Stage, StageContext, StageReport};
use crate::{stamp, CODE_VERSION};
use anyhow::Result;
use unmask_report::{AblationInputs, AblationReportParams, InputStage, NightlyParams};

pub struct AblationReportStage;

impl Stage for AblationReportStage {
    const KIND: &'static str = "ablation-report";
    const SUMMARY: &'static str =
        "the ablation table (bootstrap intervals) as ablation.md, ablation.parquet and report.html";
    const GATHERS_VARIANTS: bool = true;
    type Params = AblationReportParams;

    fn check(params: &AblationReportParams, _inputs: &[&str]) -> Result<()> {
        params.validate()
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

    fn check(params: &NightlyParams, inputs: &[&str]) -> Result<()> {
        anyhow::ensure!(
            inputs.contains(&"masks"),
            "the nightly stage needs a `masks` stage in `needs` (its fixed test split)"
        );
        params.validate()
    }

    fn run(params: &NightlyParams, ctx: &StageContext) -> Result<StageReport> {
        let data = &ctx.input("masks")?.dir;
        let label = chrono::Utc::now()
            .format("%Y-%m-%dT%H%M%S%.3fZ")
            .to_string();
        let outcome =
            unmask_report::nightly::run(params, data, ctx.runs_root, ctx.out_dir, &label)?;
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
