//! Scoring a segmenter against ground-truth masks: per image, then averaged overall and per
//! mask type (the `eval-seg` stage, and validation during training).

use crate::data;
use crate::inference::Segmenter;
use crate::model::UNet;
use anyhow::Result;
use burn::tensor::backend::Backend;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use unmask_masks::MaskedPair;
use unmask_metrics::{dice, iou, pixel_accuracy, precision, recall, to_vec};
use unmask_train::{DeviceKind, InferJob};

/// Mask overlap scores of one image, or their means.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValScores {
    pub dice: f64,
    pub iou: f64,
    pub pixel_accuracy: f64,
    pub precision: f64,
    pub recall: f64,
}

impl ValScores {
    pub const NAMES: [&'static str; 5] = ["dice", "iou", "pixel_accuracy", "precision", "recall"];

    pub fn values(&self) -> [f64; 5] {
        [
            self.dice,
            self.iou,
            self.pixel_accuracy,
            self.precision,
            self.recall,
        ]
    }

    pub fn as_row(&self) -> Vec<(&'static str, f64)> {
        Self::NAMES.into_iter().zip(self.values()).collect()
    }

    pub fn mean(rows: &[ValScores]) -> Self {
        let n = rows.len().max(1) as f64;
        let sum = |f: fn(&ValScores) -> f64| rows.iter().map(f).sum::<f64>() / n;
        Self {
            dice: sum(|r| r.dice),
            iou: sum(|r| r.iou),
            pixel_accuracy: sum(|r| r.pixel_accuracy),
            precision: sum(|r| r.precision),
            recall: sum(|r| r.recall),
        }
    }

    /// The last row of a validation log.
    pub fn from_log(log: &unmask_train::log::MetricLog) -> Option<Self> {
        let last = |name| log.last(name);
        Some(Self {
            dice: last("dice")?,
            iou: last("iou")?,
            pixel_accuracy: last("pixel_accuracy")?,
            precision: last("precision")?,
            recall: last("recall")?,
        })
    }
}

/// Scores `model` on `pairs`, in batches of `batch_size`, one row per pair.
pub fn score_pairs<B: Backend>(
    model: &UNet<B>,
    pairs: &[MaskedPair],
    threshold: f32,
    size: u32,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<ValScores>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_size.max(1)) {
        let batch = data::make_batch(chunk, &vec![false; chunk.len()], size)?;
        let (images, truth) = batch.tensors::<B>(device);
        let predicted = model.probabilities(images).greater_elem(threshold).float();
        let per = |t: burn::tensor::Tensor<B, 1>| to_vec(t);
        let d = per(dice(predicted.clone(), truth.clone()));
        let i = per(iou(predicted.clone(), truth.clone()));
        let a = per(pixel_accuracy(predicted.clone(), truth.clone()));
        let p = per(precision(predicted.clone(), truth.clone()));
        let r = per(recall(predicted, truth));
        for k in 0..chunk.len() {
            rows.push(ValScores {
                dice: d[k] as f64,
                iou: i[k] as f64,
                pixel_accuracy: a[k] as f64,
                precision: p[k] as f64,
                recall: r[k] as f64,
            });
        }
    }
    Ok(rows)
}

/// Parameters of the `eval-seg` stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSegParams {
    pub split: String,
    pub batch_size: usize,
    /// Overrides the threshold the segmenter was trained with.
    pub threshold: Option<f32>,
    pub device: DeviceKind,
}

impl Default for EvalSegParams {
    fn default() -> Self {
        Self {
            split: "test".into(),
            batch_size: 16,
            threshold: None,
            device: DeviceKind::Cpu,
        }
    }
}

pub const PER_IMAGE: &str = "per_image.parquet";
pub const METRICS: &str = "metrics.parquet";
pub const METRICS_MD: &str = "metrics.md";

/// The result of `eval-seg`: the overall means and one row per mask type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalSummary {
    pub split: String,
    pub count: usize,
    pub overall: ValScores,
    pub per_type: Vec<(String, usize, ValScores)>,
}

impl EvalSummary {
    pub fn describe(&self) -> String {
        format!(
            "{} {} pairs: Dice {:.4}, IoU {:.4}, pixel accuracy {:.4}, precision {:.4}, recall {:.4}",
            self.count,
            self.split,
            self.overall.dice,
            self.overall.iou,
            self.overall.pixel_accuracy,
            self.overall.precision,
            self.overall.recall
        )
    }

    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# Segmentation on the `{}` split\n\n| mask type | pairs | Dice | IoU | pixel accuracy | precision | recall |\n|---|---:|---:|---:|---:|---:|---:|\n",
            self.split
        );
        let row = |name: &str, n: usize, s: &ValScores| {
            let v = s.values();
            format!(
                "| {name} | {n} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |\n",
                v[0], v[1], v[2], v[3], v[4]
            )
        };
        md += &row("**all**", self.count, &self.overall);
        for (name, n, s) in &self.per_type {
            md += &row(name, *n, s);
        }
        md
    }
}

/// Evaluates the segmenter in `model_dir` on `params.split` of the masks stage in `data_dir`,
/// writing per-image and summary tables to `out_dir`.
pub fn evaluate(
    model_dir: &Path,
    data_dir: &Path,
    params: &EvalSegParams,
    out_dir: &Path,
) -> Result<EvalSummary> {
    data::ensure_manifest(data_dir)?;
    let pairs = unmask_masks::read_split(data_dir, &params.split)?;
    let job = EvalJob {
        model_dir: model_dir.to_path_buf(),
        pairs: pairs.clone(),
        params: params.clone(),
    };
    let rows = unmask_train::backend::infer_on(params.device, job)?;
    let summary = summarise(&params.split, &pairs, &rows);
    write_tables(&pairs, &rows, &summary, out_dir)?;
    Ok(summary)
}

struct EvalJob {
    model_dir: std::path::PathBuf,
    pairs: Vec<MaskedPair>,
    params: EvalSegParams,
}

impl InferJob for EvalJob {
    type Output = Vec<ValScores>;
    fn run<B: Backend>(self, device: B::Device) -> Result<Vec<ValScores>> {
        let seg = Segmenter::<B>::load(&self.model_dir, &device)?;
        let threshold = self.params.threshold.unwrap_or(seg.info().threshold);
        let size = seg.info().model.image_size as u32;
        let progress = unmask_core::progress::Progress::new("eval-seg", self.pairs.len() as u64);
        let mut rows = Vec::with_capacity(self.pairs.len());
        for chunk in self.pairs.chunks(self.params.batch_size.max(1) * 4) {
            rows.extend(score_pairs(
                seg.model(),
                chunk,
                threshold,
                size,
                self.params.batch_size,
                &device,
            )?);
            progress.inc(chunk.len() as u64);
        }
        progress.finish();
        Ok(rows)
    }
}

fn summarise(split: &str, pairs: &[MaskedPair], rows: &[ValScores]) -> EvalSummary {
    let mut types: Vec<String> = pairs.iter().map(|p| p.mask_type.clone()).collect();
    types.sort();
    types.dedup();
    let per_type = types
        .into_iter()
        .map(|t| {
            let chosen: Vec<ValScores> = pairs
                .iter()
                .zip(rows)
                .filter(|(p, _)| p.mask_type == t)
                .map(|(_, r)| r.clone())
                .collect();
            (t, chosen.len(), ValScores::mean(&chosen))
        })
        .collect();
    EvalSummary {
        split: split.to_string(),
        count: rows.len(),
        overall: ValScores::mean(rows),
        per_type,
    }
}

fn write_tables(
    pairs: &[MaskedPair],
    rows: &[ValScores],
    summary: &EvalSummary,
    out_dir: &Path,
) -> Result<()> {
    let metric = |k: usize| rows.iter().map(|r| r.values()[k]).collect::<Vec<f64>>();
    let mut cols = vec![
        Column::new(
            "id".into(),
            pairs.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "mask_type".into(),
            pairs
                .iter()
                .map(|p| p.mask_type.clone())
                .collect::<Vec<_>>(),
        ),
    ];
    for (k, name) in ValScores::NAMES.iter().enumerate() {
        cols.push(Column::new((*name).into(), metric(k)));
    }
    unmask_core::manifest::write_parquet(
        &mut DataFrame::new(rows.len(), cols)?,
        &out_dir.join(PER_IMAGE),
    )?;

    let groups: Vec<(String, usize, ValScores)> =
        std::iter::once(("all".to_string(), summary.count, summary.overall.clone()))
            .chain(summary.per_type.iter().cloned())
            .collect();
    let mut cols = vec![
        Column::new(
            "mask_type".into(),
            groups.iter().map(|g| g.0.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "pairs".into(),
            groups.iter().map(|g| g.1 as u64).collect::<Vec<_>>(),
        ),
    ];
    for (k, name) in ValScores::NAMES.iter().enumerate() {
        cols.push(Column::new(
            (*name).into(),
            groups.iter().map(|g| g.2.values()[k]).collect::<Vec<_>>(),
        ));
    }
    unmask_core::manifest::write_parquet(
        &mut DataFrame::new(groups.len(), cols)?,
        &out_dir.join(METRICS),
    )?;
    unmask_core::atomic::write_bytes(&out_dir.join(METRICS_MD), summary.markdown().as_bytes())
}
