//! The ablation report: every GAN variant and baseline of a run, scored on the same test
//! split with true and segmenter masks, as `ablation.md`, `ablation.parquet` and a
//! self-contained `report.html` (table, paired differences against the base and Telea, loss
//! curves, the same faces through every variant, segmentation examples, the run's
//! configuration). The paired differences are also `paired.parquet`.

use crate::bootstrap::mean_interval;
use crate::chart::{line_chart_svg, smoothed, Series};
use crate::html::{escape, inline_png, page, table};
use crate::paired::{ImageScores, PairedRow};
use crate::table::{self, Row, METRICS};
use anyhow::{bail, Context, Result};
use image::DynamicImage;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_inpaint::evaluation::{example_images, EvalInfo, Filler};
use unmask_inpaint::training::{STEP_LOG, SUMMARY_FILE};
use unmask_inpaint::{BaselineMethod, Inpainter};
use unmask_kernels::KernelBackend;
use unmask_masks::MaskedPair;
use unmask_train::log::MetricLog;
use unmask_train::InferJob;

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
    /// Test faces shown through every variant (and segmented); 0 leaves the examples out.
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

/// One evaluation the report reads.
struct Evaluation<'a> {
    stage: &'a InputStage,
    info: EvalInfo,
    baseline: bool,
}

/// Writes the report files into `out_dir`.
pub fn write_report(
    inputs: &AblationInputs,
    params: &AblationReportParams,
    out_dir: &Path,
) -> Result<AblationSummary> {
    params.validate()?;
    let trainings: Vec<&InputStage> = inputs.of_kind("train-inpaint").collect();
    let mut evals = Vec::new();
    for (kind, baseline) in [("eval-inpaint", false), ("eval-baseline", true)] {
        for stage in inputs.of_kind(kind) {
            let info = EvalInfo::load(&stage.dir)
                .with_context(|| format!("reading the evaluation of stage `{}`", stage.name))?;
            evals.push(Evaluation {
                stage,
                info,
                baseline,
            });
        }
    }
    if evals.is_empty() {
        bail!("the ablation report needs `eval-inpaint` or `eval-baseline` stages in `needs`");
    }
    let first = &evals[0];
    for e in &evals[1..] {
        let (a, b) = (&first.info, &e.info);
        if (a.split.as_str(), a.image_size, a.count) != (b.split.as_str(), b.image_size, b.count) {
            bail!(
                "stages `{}` and `{}` scored different things ({} {} pairs at {} px vs {} {} pairs at {} px); set the baselines' image_size to the GAN's generator.image_size",
                first.stage.name, e.stage.name, a.count, a.split, a.image_size, b.count, b.split, b.image_size
            );
        }
        if a.hole_dilation != b.hole_dilation {
            bail!(
                "stages `{}` and `{}` filled different holes (grown by {} and {} of the side); set the baselines' hole_dilation to the GAN's generator.hole_dilation",
                first.stage.name, e.stage.name, a.hole_dilation, b.hole_dilation
            );
        }
    }
    let base_params = base_training(&trainings).map(|t| &t.params);
    let mut rows = Vec::new();
    let mut image_scores = Vec::new();
    for e in &evals {
        // A variant's evaluation shares its name; a pipeline without variants (quickstart)
        // has one training, which its evaluations score.
        let training = if e.baseline {
            None
        } else {
            trainings
                .iter()
                .find(|t| t.variant() == e.stage.variant())
                .or(if trainings.len() == 1 {
                    trainings.first()
                } else {
                    None
                })
        };
        let name = match training {
            _ if e.baseline => e.info.method.clone(),
            Some(t) => t.variant().to_string(),
            None => e.stage.variant().to_string(),
        };
        // Read loosely: the summary's NaN scores are written as null.
        let outcome: Option<serde_json::Value> = match training {
            Some(t) if !e.baseline => Some(unmask_train::checkpoint::read_json(
                &t.dir.join(SUMMARY_FILE),
            )?),
            _ => None,
        };
        let changes = match (training, base_params) {
            _ if e.baseline => "classical fill".to_string(),
            (Some(t), Some(base)) => differences(base, &t.params),
            _ => "a model from another pipeline".to_string(),
        };
        let masks = serde_json::to_value(e.info.masks)?
            .as_str()
            .unwrap_or("truth")
            .to_string();
        let per_image = read_scores(&e.stage.dir)?;
        let metrics = METRICS
            .iter()
            .zip(&per_image.columns)
            .map(|(m, values)| {
                mean_interval(
                    values,
                    params.resamples,
                    params.confidence,
                    params.seed,
                    &format!("{name}:{masks}:{}", m.key),
                )
            })
            .collect();
        rows.push(Row {
            name,
            baseline: e.baseline,
            masks,
            changes,
            generator_params: outcome
                .as_ref()
                .and_then(|o| o["generator_parameters"].as_u64())
                .map(|p| p as usize),
            train_images_per_s: outcome.as_ref().and_then(|o| o["images_per_s"].as_f64()),
            pairs: e.info.count,
            metrics,
        });
        image_scores.push(per_image);
    }
    let paired = paired_rows(&rows, &image_scores, params);
    std::fs::create_dir_all(out_dir)?;
    table::write_parquet(&rows, &out_dir.join(ABLATION_PARQUET))?;
    crate::paired::write_parquet(&paired, &out_dir.join(PAIRED_PARQUET))?;
    let seg_eval = inputs
        .of_kind("eval-seg")
        .next()
        .map(|s| std::fs::read_to_string(s.dir.join(unmask_train::scores::METRICS_MD)))
        .transpose()
        .context("reading the segmenter's evaluation")?;
    let markdown = markdown_report(
        inputs,
        params,
        &rows,
        &paired,
        &trainings,
        seg_eval.as_deref(),
    );
    unmask_core::atomic::write_bytes(&out_dir.join(ABLATION_MD), markdown.as_bytes())?;
    let html = html_report(
        inputs,
        params,
        &rows,
        &paired,
        &trainings,
        &evals,
        seg_eval.as_deref(),
    )?;
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

/// The image ids and metric columns of an evaluation's `per_image.parquet`.
fn read_scores(dir: &Path) -> Result<ImageScores> {
    let path = dir.join(unmask_train::scores::PER_IMAGE);
    let df = unmask_core::manifest::read_parquet(&path)?;
    Ok(ImageScores {
        ids: unmask_core::manifest::str_column(&df, "id", &path)?,
        columns: METRICS
            .iter()
            .map(|m| unmask_core::manifest::f64_column(&df, m.key, &path))
            .collect::<Result<_>>()?,
    })
}

/// Every row against the base variant and against Telea with the same masks (where those
/// exist), image by image.
fn paired_rows(
    rows: &[Row],
    scores: &[ImageScores],
    params: &AblationReportParams,
) -> Vec<PairedRow> {
    let mut out = Vec::new();
    for masks in ["truth", "segmenter"] {
        let find =
            |pred: &dyn Fn(&Row) -> bool| rows.iter().position(|r| r.masks == masks && pred(r));
        let references = [
            find(&|r| !r.baseline && r.changes == "base"),
            find(&|r| r.baseline && r.name == BaselineMethod::Telea.name()),
        ];
        for reference in references.into_iter().flatten() {
            for (i, row) in rows.iter().enumerate() {
                // Telea against the base would mirror the base against Telea.
                let mirrored =
                    reference == references[0].unwrap_or(usize::MAX) && Some(i) == references[1];
                if row.masks != masks || i == reference || mirrored {
                    continue;
                }
                let against = &rows[reference].name;
                let (pairs, differences) = crate::paired::compare(
                    &scores[i],
                    &scores[reference],
                    params.resamples,
                    params.confidence,
                    params.seed,
                    &format!("{}:{against}:{masks}", row.name),
                );
                out.push(PairedRow {
                    name: row.name.clone(),
                    against: against.clone(),
                    masks: masks.to_string(),
                    pairs,
                    differences,
                });
            }
        }
    }
    out
}

const PAIRED_NOTE: &str = "Each row minus the reference, image by image on the same test pairs, with a paired bootstrap interval; bold where the interval excludes zero (a difference that is real at this budget).";

/// The base of an ablation: the training that differs from the others in the fewest keys
/// (each variant changes the base by a key or two, so the base is the centre of the star);
/// ties go to the first listed.
fn base_training<'a>(trainings: &[&'a InputStage]) -> Option<&'a InputStage> {
    let count = |a: &InputStage, b: &InputStage| {
        let d = differences(&a.params, &b.params);
        if d == "base" {
            0
        } else {
            d.split(", ").count()
        }
    };
    trainings
        .iter()
        .min_by_key(|t| trainings.iter().map(|o| count(t, o)).sum::<usize>())
        .copied()
}

/// The dotted keys whose values differ between two parameter sets, as `key=value` (or `base`).
pub fn differences(base: &serde_json::Value, other: &serde_json::Value) -> String {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten("", base, &mut a);
    flatten("", other, &mut b);
    let changed: Vec<String> = b
        .iter()
        .filter(|(k, v)| a.iter().find(|(ka, _)| ka == k).map(|(_, va)| va) != Some(v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if changed.is_empty() {
        "base".into()
    } else {
        changed.join(", ")
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((
            prefix.to_string(),
            other.to_string().trim_matches('"').to_string(),
        )),
    }
}

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

fn markdown_report(
    inputs: &AblationInputs,
    params: &AblationReportParams,
    rows: &[Row],
    paired: &[PairedRow],
    trainings: &[&InputStage],
    seg_eval: Option<&str>,
) -> String {
    let mut md = format!(
        "# Ablation: `{}`\n\nCode version `{}`. {} GAN variants trained on the same data with the same seed and budget; every row scored on the same {} test pairs. Cells: mean [95% bootstrap interval, {} resamples]; the best mean of each column in bold (lower is better for L1 and LPIPS, higher for PSNR and SSIM).\n\n",
        inputs.pipeline,
        inputs.code_version,
        trainings.len(),
        rows.first().map_or(0, |r| r.pairs),
        params.resamples
    );
    if (params.confidence - 0.95).abs() > 1e-9 {
        md = md.replace("95%", &format!("{:.0}%", params.confidence * 100.0));
    }
    for (masks, title) in [
        ("truth", "With the true masks"),
        ("segmenter", "End to end (holes from the segmenter)"),
    ] {
        if rows.iter().any(|r| r.masks == masks) {
            md.push_str(&format!("## {title}\n\n{}\n", table::markdown(rows, masks)));
            if paired.iter().any(|p| p.masks == masks) {
                md.push_str(&format!(
                    "### Paired differences\n\n{PAIRED_NOTE}\n\n{}\n",
                    crate::paired::markdown(paired, masks)
                ));
            }
        }
    }
    if let Some(note) = parameter_note(rows) {
        md.push_str(&format!("{note}\n\n"));
    }
    if let Some(seg) = seg_eval {
        md.push_str(&format!(
            "## The segmenter\n\n{}\n",
            seg.trim_start_matches(|c| c != '\n').trim()
        ));
    }
    md
}

fn html_report(
    inputs: &AblationInputs,
    params: &AblationReportParams,
    rows: &[Row],
    paired: &[PairedRow],
    trainings: &[&InputStage],
    evals: &[Evaluation],
    seg_eval: Option<&str>,
) -> Result<String> {
    let mut body = format!(
        "<h1>Ablation: {}</h1>\n<p>Code version <code>{}</code>. {} GAN variants trained on the same data, seed and budget; every row scored on the same {} test pairs. Cells: mean [{:.0}% bootstrap interval, {} resamples]; the best mean of each column is highlighted.</p>\n",
        escape(&inputs.pipeline),
        escape(&inputs.code_version),
        trainings.len(),
        rows.first().map_or(0, |r| r.pairs),
        params.confidence * 100.0,
        params.resamples
    );
    for (masks, title) in [
        ("truth", "With the true masks"),
        ("segmenter", "End to end (holes from the segmenter)"),
    ] {
        if rows.iter().any(|r| r.masks == masks) {
            body.push_str(&format!("<h2>{title}</h2>\n{}", html_table(rows, masks)));
            if paired.iter().any(|p| p.masks == masks) {
                body.push_str(&format!(
                    "<h3>Paired differences</h3>\n<p>{}</p>\n{}",
                    escape(PAIRED_NOTE),
                    crate::paired::html(paired, masks)
                ));
            }
        }
    }
    if let Some(note) = parameter_note(rows) {
        body.push_str(&format!("<p>{}</p>\n", escape(&note)));
    }
    body.push_str("<h2>Training</h2>\n");
    for (column, title, label) in [
        (
            "l1_refine",
            "Refine-network L1 (hole-weighted), running mean of 10 steps",
            "L1",
        ),
        (
            "discriminator",
            "Discriminator hinge loss, running mean of 10 steps",
            "loss",
        ),
    ] {
        let mut series = Vec::new();
        for t in trainings {
            let log = MetricLog::load(&t.dir.join(STEP_LOG), u64::MAX)?;
            if let Some(values) = log.column(column) {
                let points: Vec<(f64, f64)> = log
                    .steps()
                    .iter()
                    .zip(values)
                    .map(|(&s, &v)| (s as f64, v))
                    .collect();
                series.push(Series {
                    name: t.variant().to_string(),
                    points: smoothed(&points, 10),
                });
            }
        }
        body.push_str(&line_chart_svg(title, "step", label, &series)?);
        body.push('\n');
    }
    let data = inputs
        .of_kind("masks")
        .next()
        .filter(|_| params.examples > 0);
    if let Some(data) = data {
        let split = &evals[0].info.split;
        let size = evals[0].info.image_size as u32;
        let pairs = example_pairs(&data.dir, split, params.examples)?;
        let job = ExamplesJob {
            pairs: pairs.clone(),
            size,
            fillers: evals
                .iter()
                .filter(|e| e.info.masks == unmask_inpaint::MaskSource::Truth)
                .map(|e| match &e.info.model {
                    Some(model) if !e.baseline => (
                        e.stage.variant().to_string(),
                        FillWith::Model(model.clone()),
                    ),
                    _ => (
                        e.info.method.clone(),
                        FillWith::Baseline(e.info.method.clone(), e.info.hole_dilation),
                    ),
                })
                .collect(),
            segmenter: inputs.of_kind("train-seg").next().map(|s| s.dir.clone()),
        };
        let examples = unmask_train::backend::infer_on(unmask_train::DeviceKind::Cpu, job)?;
        body.push_str(&examples_html(&examples, size)?);
    }
    if let Some(seg) = seg_eval {
        body.push_str(&format!(
            "<h2>Segmenter scores</h2>\n<pre>{}</pre>\n",
            escape(seg)
        ));
    }
    body.push_str("<h2>Configuration</h2>\n");
    for s in &inputs.stages {
        body.push_str(&format!(
            "<details><summary>{} ({})</summary><pre>{}</pre></details>\n",
            escape(&s.name),
            escape(&s.kind),
            escape(&serde_json::to_string_pretty(&s.params)?)
        ));
    }
    Ok(page(&format!("Ablation: {}", inputs.pipeline), &body))
}

fn html_table(rows: &[Row], masks: &str) -> String {
    let chosen: Vec<&Row> = rows.iter().filter(|r| r.masks == masks).collect();
    let best = table::best_rows(&chosen);
    let mut out = String::from("<table><tr><th>variant</th><th>changes</th><th>generator params</th><th>train img/s</th><th>pairs</th>");
    for m in METRICS {
        out.push_str(&format!("<th>{}</th>", escape(m.label)));
    }
    out.push_str("</tr>\n");
    for (i, r) in chosen.iter().enumerate() {
        out.push_str(&format!(
            "<tr{}><td>{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td>",
            if r.baseline {
                " class=\"baseline\""
            } else {
                ""
            },
            escape(&r.name),
            escape(&r.changes),
            r.generator_params.map_or("-".into(), |p| p.to_string()),
            r.train_images_per_s
                .map_or("-".into(), |s| format!("{s:.1}")),
            r.pairs
        ));
        for (k, m) in METRICS.iter().enumerate() {
            let class = if best[k] == Some(i) {
                " class=\"best\""
            } else {
                ""
            };
            out.push_str(&format!("<td{class}>{}</td>", m.format(&r.metrics[k])));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// Up to `count` pairs of `split`, one of each mask type first, in id order.
fn example_pairs(data: &Path, split: &str, count: usize) -> Result<Vec<MaskedPair>> {
    let mut pairs = unmask_masks::read_split(data, split)?;
    pairs.sort_by(|a, b| a.id.cmp(&b.id));
    let mut chosen: Vec<MaskedPair> = Vec::new();
    for p in &pairs {
        if chosen.len() < count && !chosen.iter().any(|c| c.mask_type == p.mask_type) {
            chosen.push(p.clone());
        }
    }
    for p in &pairs {
        if chosen.len() < count && !chosen.iter().any(|c| c.id == p.id) {
            chosen.push(p.clone());
        }
    }
    Ok(chosen)
}

enum FillWith {
    Model(PathBuf),
    /// A baseline's name and the hole growth its evaluation used.
    Baseline(String, f32),
}

struct ExamplesJob {
    pairs: Vec<MaskedPair>,
    size: u32,
    fillers: Vec<(String, FillWith)>,
    segmenter: Option<PathBuf>,
}

struct ExampleImages {
    columns: Vec<(String, Vec<image::RgbImage>)>,
    /// Masked input, true mask, predicted mask, per pair.
    segmentation: Vec<(image::RgbImage, image::GrayImage, image::GrayImage)>,
}

impl InferJob for ExamplesJob {
    type Output = ExampleImages;

    fn run<B: KernelBackend>(self, device: B::Device) -> Result<ExampleImages> {
        let mut columns: Vec<(String, Vec<image::RgbImage>)> = Vec::new();
        let mut ends = None;
        for (name, fill) in &self.fillers {
            let examples = match fill {
                FillWith::Model(dir) => {
                    let inpainter = Inpainter::<B>::load(dir, &device)?;
                    example_images(
                        &Filler::Gan(inpainter.net()),
                        &self.pairs,
                        self.size,
                        &device,
                    )?
                }
                FillWith::Baseline(method, share) => {
                    let method: BaselineMethod =
                        serde_json::from_value(serde_json::Value::String(method.clone()))?;
                    example_images(
                        &Filler::<B>::Baseline(method, *share),
                        &self.pairs,
                        self.size,
                        &device,
                    )?
                }
            };
            columns.push((name.clone(), examples.filled));
            ends.get_or_insert((examples.masked, examples.target));
        }
        if let Some((masked, target)) = ends {
            columns.insert(0, ("masked input".into(), masked));
            columns.push(("target".into(), target));
        }
        let mut segmentation = Vec::new();
        if let Some(dir) = &self.segmenter {
            let seg = unmask_seg::Segmenter::<B>::load(dir, &device)?;
            for p in &self.pairs {
                let img = unmask_train::images::read_rgb(&p.masked)?;
                let truth = unmask_train::images::read_mask(&p.mask)?;
                let predicted = seg.segment(&img, None);
                segmentation.push((img, truth, predicted));
            }
        }
        Ok(ExampleImages {
            columns,
            segmentation,
        })
    }
}

fn examples_html(ex: &ExampleImages, size: u32) -> Result<String> {
    let shown = (size * 2).clamp(96, 160);
    let mut out = String::from("<h2>The same test faces through every variant (true masks)</h2>\n");
    let header: Vec<String> = ex.columns.iter().map(|(n, _)| escape(n)).collect();
    let count = ex.columns.first().map_or(0, |c| c.1.len());
    let mut rows = Vec::new();
    for i in 0..count {
        let mut cells = Vec::new();
        for (name, imgs) in &ex.columns {
            cells.push(inline_png(
                &DynamicImage::ImageRgb8(imgs[i].clone()),
                shown,
                name,
            )?);
        }
        rows.push(cells);
    }
    out.push_str(&table(&header, &rows, "grid"));
    if !ex.segmentation.is_empty() {
        out.push_str("<h2>Segmentation examples</h2>\n");
        let header = vec![
            "masked photo".to_string(),
            "true mask".to_string(),
            "segmenter's mask".to_string(),
        ];
        let mut rows = Vec::new();
        for (img, truth, predicted) in &ex.segmentation {
            rows.push(vec![
                inline_png(&DynamicImage::ImageRgb8(img.clone()), 128, "masked")?,
                inline_png(&DynamicImage::ImageLuma8(truth.clone()), 128, "true mask")?,
                inline_png(
                    &DynamicImage::ImageLuma8(predicted.clone()),
                    128,
                    "segmenter",
                )?,
            ]);
        }
        out.push_str(&table(&header, &rows, "grid"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_list_changed_dotted_keys() {
        let base = serde_json::json!({"generator": {"conv": "imputed", "width": 8}, "lr": 0.001});
        let gated = serde_json::json!({"generator": {"conv": "gated", "width": 8}, "lr": 0.001});
        assert_eq!(differences(&base, &base), "base");
        assert_eq!(differences(&base, &gated), "generator.conv=gated");
    }
}
