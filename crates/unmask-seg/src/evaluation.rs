//! Scoring a segmenter against ground-truth masks: per image, then averaged overall and per
//! mask type (the `eval-seg` stage, and validation during training).

use crate::augment::View;
use crate::data;
use crate::inference::Segmenter;
use crate::model::UNet;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;
use unmask_kernels::KernelBackend;
use unmask_masks::MaskedPair;
use unmask_metrics::{dice, iou, pixel_accuracy, precision, recall, to_vec};
use unmask_train::{scores, DeviceKind, InferJob};

/// Mask overlap scores of one image, or their means.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValScores {
    pub dice: f64,
    pub iou: f64,
    pub pixel_accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    /// Share of the pixels of the bare face image (the same crop without its mask) called
    /// mask: false alarms, lower is better.
    pub bare_marked: f64,
}

impl ValScores {
    pub const NAMES: [&'static str; 6] = [
        "dice",
        "iou",
        "pixel_accuracy",
        "precision",
        "recall",
        "bare_marked",
    ];

    pub fn values(&self) -> [f64; 6] {
        [
            self.dice,
            self.iou,
            self.pixel_accuracy,
            self.precision,
            self.recall,
            self.bare_marked,
        ]
    }

    pub fn as_row(&self) -> Vec<(&'static str, f64)> {
        Self::NAMES.into_iter().zip(self.values()).collect()
    }

    pub fn from_values(v: &[f64]) -> Self {
        Self {
            dice: v[0],
            iou: v[1],
            pixel_accuracy: v[2],
            precision: v[3],
            recall: v[4],
            bare_marked: v[5],
        }
    }

    pub fn mean(rows: &[ValScores]) -> Self {
        let table: Vec<Vec<f64>> = rows.iter().map(|r| r.values().to_vec()).collect();
        Self::from_values(&scores::mean_row(&table, Self::NAMES.len()))
    }

    /// The last row of a validation log.
    pub fn from_log(log: &unmask_train::log::MetricLog) -> Option<Self> {
        let v: Vec<f64> = Self::NAMES
            .iter()
            .map(|n| log.last(n))
            .collect::<Option<_>>()?;
        Some(Self::from_values(&v))
    }
}

/// Scores `model` on `pairs`, in batches of `batch_size`, one row per pair: the masked face
/// against its mask, and the bare face for false alarms.
pub fn score_pairs<B: KernelBackend>(
    model: &UNet<B>,
    pairs: &[MaskedPair],
    threshold: f32,
    size: u32,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<ValScores>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_size.max(1)) {
        let batch = data::make_batch(chunk, &vec![View::default(); chunk.len()], size)?;
        let (images, truth) = batch.tensors::<B>(device);
        let predicted = model.probabilities(images).greater_elem(threshold).float();
        let bare = View {
            negative: true,
            ..Default::default()
        };
        let (bare_images, _) =
            data::make_batch(chunk, &vec![bare; chunk.len()], size)?.tensors::<B>(device);
        let marked = model
            .probabilities(bare_images)
            .greater_elem(threshold)
            .float();
        let n = chunk.len() as i32;
        // Columns in `ValScores::NAMES` order.
        let columns = [
            to_vec(dice(predicted.clone(), truth.clone())),
            to_vec(iou(predicted.clone(), truth.clone())),
            to_vec(pixel_accuracy(predicted.clone(), truth.clone())),
            to_vec(precision(predicted.clone(), truth.clone())),
            to_vec(recall(predicted, truth)),
            to_vec(marked.reshape([n, -1]).mean_dim(1).reshape([n])),
        ];
        rows.extend(
            scores::rows_of(&columns)
                .iter()
                .map(|r| ValScores::from_values(r)),
        );
    }
    Ok(rows)
}

/// Parameters of the `eval-seg` stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSegParams {
    /// `train`, `val`, `test`, or `all` (every pair, e.g. a small set of real photos).
    pub split: String,
    /// A `train-seg` output folder to score instead of the `train-seg` stage in `needs`
    /// (a model another pipeline trained); a relative path starts at the project root.
    pub model: Option<std::path::PathBuf>,
    pub batch_size: usize,
    /// Overrides the threshold the segmenter was trained with.
    pub threshold: Option<f32>,
    pub device: DeviceKind,
}

impl Default for EvalSegParams {
    fn default() -> Self {
        Self {
            split: "test".into(),
            model: None,
            batch_size: 16,
            threshold: None,
            device: DeviceKind::Cpu,
        }
    }
}

/// The result of `eval-seg`: the overall means and one row per group ("all", then each mask
/// type) with the values in [`ValScores::NAMES`] order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalSummary {
    pub split: String,
    pub count: usize,
    pub overall: ValScores,
    pub groups: Vec<(String, usize, Vec<f64>)>,
}

impl EvalSummary {
    pub fn describe(&self) -> String {
        format!(
            "{} {} pairs: Dice {:.4}, IoU {:.4}, pixel accuracy {:.4}, precision {:.4}, recall {:.4}, bare-face pixels marked {:.2}%",
            self.count,
            self.split,
            self.overall.dice,
            self.overall.iou,
            self.overall.pixel_accuracy,
            self.overall.precision,
            self.overall.recall,
            100.0 * self.overall.bare_marked
        )
    }

    pub fn markdown(&self) -> String {
        format!(
            "# Segmentation on the `{}` split\n\n`bare marked`: the share of the pixels of the same face images without their masks that is called mask (false alarms).\n\n| mask type | pairs | Dice | IoU | pixel accuracy | precision | recall | bare marked |\n|---|---:|---:|---:|---:|---:|---:|---:|\n{}",
            self.split,
            scores::markdown_rows(&self.groups, &[4; 6])
        )
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
    let pairs = if params.split == "all" {
        unmask_masks::read_pairs(data_dir)?
    } else {
        unmask_masks::read_split(data_dir, &params.split)?
    };
    let job = EvalJob {
        model_dir: model_dir.to_path_buf(),
        pairs: pairs.clone(),
        params: params.clone(),
    };
    let rows = unmask_train::backend::infer_on(params.device, job)?;
    let table: Vec<Vec<f64>> = rows.iter().map(|r| r.values().to_vec()).collect();
    let groups = scores::tabulate(
        out_dir,
        pairs.iter().map(|p| p.id.clone()).collect(),
        pairs.iter().map(|p| p.mask_type.clone()).collect(),
        &ValScores::NAMES,
        &table,
    )?;
    let summary = EvalSummary {
        split: params.split.clone(),
        count: rows.len(),
        overall: ValScores::mean(&rows),
        groups,
    };
    unmask_core::atomic::write_bytes(
        &out_dir.join(scores::METRICS_MD),
        summary.markdown().as_bytes(),
    )?;
    Ok(summary)
}

struct EvalJob {
    model_dir: std::path::PathBuf,
    pairs: Vec<MaskedPair>,
    params: EvalSegParams,
}

impl InferJob for EvalJob {
    type Output = Vec<ValScores>;
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<Vec<ValScores>> {
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
