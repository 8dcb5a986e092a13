//! The nightly check: the newest trained segmenter and GAN scored on a fixed test split, a
//! dated report written, and every metric compared with the previous report. A metric
//! regressed when its new mean lies beyond the previous interval on the worse side.
//!
//! The report runs no model itself: its caller (the `nightly` stage) finds the models and
//! scores them through a [`NightlyScorer`]; this module reads what the scoring wrote.

use crate::bootstrap::{mean_interval, Interval};
use anyhow::{Context, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_core::atomic::DirSwap;
use unmask_core::evaluation::MaskSource;
use unmask_train::DeviceKind;

pub const REPORTS_DIR: &str = "reports";
pub const NIGHTLY_PARQUET: &str = "nightly.parquet";
pub const NIGHTLY_MD: &str = "nightly.md";
pub const LATEST_MD: &str = "latest.md";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NightlyParams {
    /// A segmenter folder; unset: the newest trained one under the runs folder.
    pub segmenter: Option<PathBuf>,
    /// A GAN folder; unset: the newest trained one under the runs folder.
    pub inpainter: Option<PathBuf>,
    pub split: String,
    pub lpips: bool,
    pub resamples: usize,
    pub confidence: f64,
    pub seed: u64,
    pub device: DeviceKind,
}

impl Default for NightlyParams {
    fn default() -> Self {
        Self {
            segmenter: None,
            inpainter: None,
            split: "test".into(),
            lpips: true,
            resamples: 1000,
            confidence: 0.95,
            seed: 0,
            device: DeviceKind::Cpu,
        }
    }
}

impl NightlyParams {
    pub fn validate(&self) -> Result<()> {
        crate::bootstrap::check_settings(self.resamples, self.confidence)
    }
}

/// One metric of one evaluation, with the previous night's value when there was one.
#[derive(Clone, Debug, PartialEq)]
pub struct NightlyMetric {
    /// `segmenter`, `inpaint-truth` or `inpaint-e2e`.
    pub group: String,
    pub metric: String,
    pub higher_is_better: bool,
    pub now: Interval,
    pub previous: Option<Interval>,
    pub regressed: bool,
}

#[derive(Clone, Debug)]
pub struct NightlyOutcome {
    pub report_dir: PathBuf,
    pub compared_with: Option<PathBuf>,
    pub metrics: Vec<NightlyMetric>,
}

impl NightlyOutcome {
    pub fn regressions(&self) -> Vec<&NightlyMetric> {
        self.metrics.iter().filter(|m| m.regressed).collect()
    }

    pub fn describe(&self) -> String {
        let regressed = self.regressions();
        let against = match &self.compared_with {
            Some(p) => format!(
                "compared with {}",
                p.file_name().unwrap_or_default().to_string_lossy()
            ),
            None => "first report, nothing to compare with".into(),
        };
        format!(
            "{} metrics, {against}: {}; report in {}",
            self.metrics.len(),
            if regressed.is_empty() {
                "no regression".to_string()
            } else {
                format!(
                    "{} regressed ({})",
                    regressed.len(),
                    regressed
                        .iter()
                        .map(|m| format!("{}.{}", m.group, m.metric))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            self.report_dir.display()
        )
    }
}

/// Metrics of each evaluation and whether higher is better.
const SEG_METRICS: [(&str, bool); 4] = [
    ("dice", true),
    ("iou", true),
    ("pixel_accuracy", true),
    ("bare_marked", false),
];
const GAN_METRICS: [(&str, bool); 6] = [
    ("hole_l1", false),
    ("l1", false),
    ("psnr", true),
    ("ssim", true),
    ("lpips", false),
    ("id_sim", true),
];

/// The models a nightly check scores, already found (the newest trained ones, or the
/// folders its parameters name).
#[derive(Clone, Debug)]
pub struct NightlyModels {
    /// A segmenter folder.
    pub segmenter: PathBuf,
    /// A GAN folder.
    pub inpainter: PathBuf,
}

/// What every scoring of one night shares: the masks stage's folder and the split scored,
/// LPIPS or not (the GAN only), and the device.
#[derive(Clone, Copy, Debug)]
pub struct NightlyScoring<'a> {
    pub data: &'a Path,
    pub split: &'a str,
    pub lpips: bool,
    pub device: DeviceKind,
}

/// Scores the models: each call writes an evaluation's files into `out_dir`, among them
/// `per_image.parquet` with a column per metric (`dice`, `iou`, `pixel_accuracy` and
/// `bare_marked` for the segmenter; `hole_l1`, `l1`, `psnr`, `ssim`, `lpips` and `id_sim` for the GAN).
pub trait NightlyScorer {
    fn score_segmenter(&self, model: &Path, on: &NightlyScoring, out_dir: &Path) -> Result<()>;

    /// `segmenter` makes the holes when `masks` is [`MaskSource::Segmenter`].
    fn score_inpainter(
        &self,
        model: &Path,
        masks: MaskSource,
        segmenter: &Path,
        on: &NightlyScoring,
        out_dir: &Path,
    ) -> Result<()>;
}

/// Scores `models` with `scorer` on `data` (a masks stage) into `out_dir/reports/<label>/`,
/// where `label` is a sortable date-time, and compares the scores with the newest earlier
/// report there.
pub fn run(
    params: &NightlyParams,
    models: &NightlyModels,
    scorer: &dyn NightlyScorer,
    data: &Path,
    out_dir: &Path,
    label: &str,
) -> Result<NightlyOutcome> {
    params.validate()?;
    let NightlyModels {
        segmenter,
        inpainter,
    } = models;
    let reports = out_dir.join(REPORTS_DIR);
    let previous = previous_report(&reports, label)?;
    let outcome_dir = reports.join(label);
    let swap = DirSwap::begin(&outcome_dir, "partial")?;
    let work = swap.work();
    let on = NightlyScoring {
        data,
        split: &params.split,
        lpips: params.lpips,
        device: params.device,
    };
    let seg_dir = work.join("segmenter");
    std::fs::create_dir_all(&seg_dir)?;
    scorer
        .score_segmenter(segmenter, &on, &seg_dir)
        .with_context(|| format!("scoring the segmenter {}", segmenter.display()))?;
    let mut groups: Vec<(&str, PathBuf, &[(&str, bool)])> =
        vec![("segmenter", seg_dir, &SEG_METRICS)];
    for (group, masks) in [
        ("inpaint-truth", MaskSource::Truth),
        ("inpaint-e2e", MaskSource::Segmenter),
    ] {
        let dir = work.join(group);
        std::fs::create_dir_all(&dir)?;
        scorer
            .score_inpainter(inpainter, masks, segmenter, &on, &dir)
            .with_context(|| format!("scoring the GAN {}", inpainter.display()))?;
        groups.push((group, dir, &GAN_METRICS));
    }
    let before = match &previous {
        Some(dir) => read_metrics(&dir.join(NIGHTLY_PARQUET))?,
        None => Vec::new(),
    };
    let mut metrics = Vec::new();
    for (group, dir, names) in &groups {
        let path = dir.join(unmask_train::scores::PER_IMAGE);
        let df = unmask_core::manifest::read_parquet(&path)?;
        for &(metric, higher_is_better) in names.iter() {
            let values = unmask_core::manifest::f64_column(&df, metric, &path)?;
            let now = mean_interval(
                &values,
                params.resamples,
                params.confidence,
                params.seed,
                &format!("{group}:{metric}"),
            );
            let previous = before
                .iter()
                .find(|m| m.group == *group && m.metric == metric)
                .map(|m| m.now);
            let regressed = previous.is_some_and(|p| {
                now.is_finite()
                    && p.is_finite()
                    && if higher_is_better {
                        now.mean < p.lo
                    } else {
                        now.mean > p.hi
                    }
            });
            metrics.push(NightlyMetric {
                group: group.to_string(),
                metric: metric.to_string(),
                higher_is_better,
                now,
                previous,
                regressed,
            });
        }
    }
    write_metrics(&metrics, &work.join(NIGHTLY_PARQUET))?;
    let md = markdown(
        label,
        segmenter,
        inpainter,
        previous.as_deref(),
        params.confidence,
        &metrics,
    );
    unmask_core::atomic::write_bytes(&work.join(NIGHTLY_MD), md.as_bytes())?;
    swap.commit()?;
    unmask_core::atomic::write_bytes(&out_dir.join(LATEST_MD), md.as_bytes())?;
    Ok(NightlyOutcome {
        report_dir: outcome_dir,
        compared_with: previous,
        metrics,
    })
}

/// The newest finished report in `reports` whose label sorts before `label`.
fn previous_report(reports: &Path, label: &str) -> Result<Option<PathBuf>> {
    let mut found: Vec<String> = match std::fs::read_dir(reports) {
        Ok(entries) => entries
            .flatten()
            .filter(|e| e.path().join(NIGHTLY_PARQUET).is_file())
            // A run that crashed leaves its `.partial` (or a half-swapped `.old`) folder, never
            // a report.
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                !name.ends_with(".partial") && !name.ends_with(".old")
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.as_str() < label)
            .collect(),
        Err(_) => Vec::new(),
    };
    found.sort();
    Ok(found.pop().map(|n| reports.join(n)))
}

pub fn write_metrics(metrics: &[NightlyMetric], path: &Path) -> Result<()> {
    let col_f = |name: &str, f: &dyn Fn(&NightlyMetric) -> Option<f64>| {
        Column::new(name.into(), metrics.iter().map(f).collect::<Vec<_>>())
    };
    let cols = vec![
        Column::new(
            "group".into(),
            metrics.iter().map(|m| m.group.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "metric".into(),
            metrics.iter().map(|m| m.metric.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "higher_is_better".into(),
            metrics
                .iter()
                .map(|m| m.higher_is_better)
                .collect::<Vec<_>>(),
        ),
        col_f("mean", &|m| Some(m.now.mean)),
        col_f("lo", &|m| Some(m.now.lo)),
        col_f("hi", &|m| Some(m.now.hi)),
        col_f("previous_mean", &|m| m.previous.map(|p| p.mean)),
        Column::new(
            "regressed".into(),
            metrics.iter().map(|m| m.regressed).collect::<Vec<_>>(),
        ),
    ];
    unmask_core::manifest::write_parquet(&mut DataFrame::new(metrics.len(), cols)?, path)
}

/// Reads the metrics of a report written by [`run`] (previous values are not kept).
pub fn read_metrics(path: &Path) -> Result<Vec<NightlyMetric>> {
    use unmask_core::manifest::{bool_column, f64_column, str_column};
    let df = unmask_core::manifest::read_parquet(path)?;
    let s = |n: &str| str_column(&df, n, path);
    let f = |n: &str| f64_column(&df, n, path);
    let b = |n: &str| bool_column(&df, n, path);
    let (group, metric, higher) = (s("group")?, s("metric")?, b("higher_is_better")?);
    let (mean, lo, hi, regressed) = (f("mean")?, f("lo")?, f("hi")?, b("regressed")?);
    Ok((0..df.height())
        .map(|i| NightlyMetric {
            group: group[i].clone(),
            metric: metric[i].clone(),
            higher_is_better: higher[i],
            now: Interval {
                mean: mean[i],
                lo: lo[i],
                hi: hi[i],
            },
            previous: None,
            regressed: regressed[i],
        })
        .collect())
}

fn markdown(
    label: &str,
    segmenter: &Path,
    inpainter: &Path,
    previous: Option<&Path>,
    confidence: f64,
    metrics: &[NightlyMetric],
) -> String {
    let mut md = format!(
        "# Nightly report {label}\n\nSegmenter `{}`, GAN `{}`. {}\n\n| group | metric | now [{:.0}% interval] | previous | |\n|---|---|---:|---:|---|\n",
        segmenter.display(),
        inpainter.display(),
        match previous {
            Some(p) => format!("Compared with `{}`.", p.display()),
            None => "No earlier report to compare with.".into(),
        },
        confidence * 100.0
    );
    for m in metrics {
        md.push_str(&format!(
            "| {} | {} | {:.4} [{:.4}, {:.4}] | {} | {} |\n",
            m.group,
            m.metric,
            m.now.mean,
            m.now.lo,
            m.now.hi,
            m.previous.map_or("-".into(), |p| format!("{:.4}", p.mean)),
            if m.regressed { "**REGRESSED**" } else { "" }
        ));
    }
    md
}
