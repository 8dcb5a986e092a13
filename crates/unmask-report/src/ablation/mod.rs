//! The ablation report: every GAN variant and baseline of a run, scored on the same test
//! split with true and segmenter masks, as `ablation.md`, `ablation.parquet` and a
//! self-contained `report.html` (table, paired differences against the base and Telea, loss
//! curves, the same faces through every variant, segmentation examples, the run's
//! configuration). The paired differences are also `paired.parquet`.
//!
//! - `collect`: the evaluation stages read, one row per evaluation, paired rows, parameter
//!   differences.
//! - `markdown`: `ablation.md`.
//! - `html`: `report.html`.
//! - `examples`: the example faces the evaluation stages kept.

mod collect;
mod examples;
mod html;
mod markdown;

use crate::table::{self, Row};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use collect::differences;

pub const ABLATION_MD: &str = "ablation.md";
pub const ABLATION_PARQUET: &str = "ablation.parquet";
pub const REPORT_HTML: &str = "report.html";
pub const PAIRED_PARQUET: &str = "paired.parquet";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AblationReportParams {
    /// Bootstrap resamples per interval.
    pub resamples: usize,
    pub confidence: f64,
    /// Seed of the bootstrap streams.
    pub seed: u64,
    /// Test faces shown through every variant (and segmented), at most the
    /// evaluations' `EXAMPLES` (6); 0 leaves the examples out.
    pub examples: usize,
}

impl Default for AblationReportParams {
    fn default() -> Self {
        Self {
            resamples: 1000,
            confidence: 0.95,
            seed: 0,
            examples: 6,
        }
    }
}

impl AblationReportParams {
    pub fn validate(&self) -> Result<()> {
        crate::bootstrap::check_settings(self.resamples, self.confidence)
    }
}

/// A stage the report reads: its name (`STAGE` or `STAGE/VARIANT`), kind, folder and resolved
/// parameters.
#[derive(Clone, Debug)]
pub struct InputStage {
    pub name: String,
    pub kind: String,
    pub dir: PathBuf,
    pub params: serde_json::Value,
}

impl InputStage {
    /// The variant part of the name (the whole name when it has none).
    pub fn variant(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

pub struct AblationInputs {
    pub pipeline: String,
    pub code_version: String,
    pub stages: Vec<InputStage>,
}

impl AblationInputs {
    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a InputStage> + 'a {
        self.stages.iter().filter(move |s| s.kind == kind)
    }
}

#[derive(Clone, Debug)]
pub struct AblationSummary {
    pub rows: Vec<Row>,
    pub variants: usize,
    pub baselines: usize,
}

impl AblationSummary {
    pub fn describe(&self) -> String {
        let best = self
            .rows
            .iter()
            .filter(|r| r.masks == "truth" && r.metrics[0].is_finite())
            .min_by(|a, b| a.metrics[0].mean.total_cmp(&b.metrics[0].mean));
        format!(
            "{} variants and {} baselines{}; see {ABLATION_MD} and {REPORT_HTML}",
            self.variants,
            self.baselines,
            best.map_or(String::new(), |b| format!(
                ", best hole L1 (true masks) {} {:.4}",
                b.name, b.metrics[0].mean
            ))
        )
    }
}

/// The mask sources the report has a section for, with its title.
const MASK_SECTIONS: [(&str, &str); 2] = [
    ("truth", "With the true masks"),
    ("segmenter", "End to end (holes from the segmenter)"),
];

/// What both pages of the report show.
#[derive(Clone, Copy)]
struct Parts<'a> {
    inputs: &'a AblationInputs,
    params: &'a AblationReportParams,
    rows: &'a [Row],
    paired: &'a [crate::paired::PairedRow],
    trainings: &'a [&'a InputStage],
    /// The `eval-seg` stage's `metrics.md`, if there is one.
    seg_eval: Option<&'a str>,
}

/// Writes the report files into `out_dir`.
pub fn write_report(
    inputs: &AblationInputs,
    params: &AblationReportParams,
    out_dir: &Path,
) -> Result<AblationSummary> {
    params.validate()?;
    let trainings: Vec<&InputStage> = inputs.of_kind("train-inpaint").collect();
    let evals = collect::evaluations(inputs)?;
    let psp_training = inputs.of_kind("train-psp").next();
    let (rows, image_scores) = collect::rows(&evals, &trainings, psp_training, params)?;
    let paired = collect::paired_rows(&rows, &image_scores, params);
    std::fs::create_dir_all(out_dir)?;
    table::write_parquet(&rows, &out_dir.join(ABLATION_PARQUET))?;
    crate::paired::write_parquet(&paired, &out_dir.join(PAIRED_PARQUET))?;
    let seg_eval = collect::segmenter_scores(inputs)?;
    let parts = Parts {
        inputs,
        params,
        rows: &rows,
        paired: &paired,
        trainings: &trainings,
        seg_eval: seg_eval.as_deref(),
    };
    let markdown = markdown::report(&parts);
    unmask_core::atomic::write_bytes(&out_dir.join(ABLATION_MD), markdown.as_bytes())?;
    let html = html::report(&parts, &evals)?;
    unmask_core::atomic::write_bytes(&out_dir.join(REPORT_HTML), html.as_bytes())?;
    Ok(AblationSummary {
        variants: trainings.len(),
        baselines: rows
            .iter()
            .filter(|r| r.baseline && r.masks == "truth")
            .count(),
        rows,
    })
}

/// Above each table of paired differences.
const PAIRED_NOTE: &str = "Each row minus the reference, image by image on the same test pairs, with a paired bootstrap interval; bold where the interval excludes zero (a difference that is real at this budget).";

/// "gated has N x the parameters of imputed" from the rows whose changes name the conv type.
fn parameter_note(rows: &[Row]) -> Option<String> {
    let truth: Vec<&Row> = rows.iter().filter(|r| r.masks == "truth").collect();
    let base = truth.iter().find(|r| r.changes == "base")?;
    let gated = truth.iter().find(|r| r.changes.contains("conv=gated"))?;
    let (b, g) = (
        base.generator_params? as f64,
        gated.generator_params? as f64,
    );
    Some(format!(
        "Parameters: `{}` (imputed convolutions) has {} generator parameters, `{}` (gated) {} - {:.2}x as many. The report's claim: gating doubles a layer's parameters, imputation adds about 2%.",
        base.name, b, gated.name, g, g / b
    ))
}
