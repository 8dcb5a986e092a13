//! Scoring a segmenter against ground-truth masks: per image, then averaged overall and per
//! mask type (the `eval-seg` stage, and validation during training).

use crate::data;
use crate::inference::Segmenter;
use anyhow::Result;
use image::DynamicImage;
use serde::{Deserialize, Serialize};
use std::path::Path;
use unmask_core::examples::ExampleSet;
use unmask_kernels::KernelBackend;
use unmask_masks::MaskedPair;
use unmask_train::{images, scores, DeviceKind, InferJob};

pub use crate::scores::{score_pairs, ValScores};
pub use unmask_train::scores::ScoreRow;

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
/// type) with the values in [`ValScores`]' column order.
pub type EvalSummary = scores::EvalSummary<ValScores>;

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
        examples: unmask_masks::example_pairs(pairs.clone(), EXAMPLES),
        pairs: pairs.clone(),
        params: params.clone(),
    };
    let (rows, examples) = unmask_train::backend::infer_on(params.device, job)?;
    examples.write(out_dir)?;
    scores::summarise(
        out_dir,
        &params.split,
        &unmask_masks::ids_and_types(&pairs),
        &rows,
    )
}

/// Pairs whose masks every evaluation keeps as images, for reports (one of each mask type
/// first).
pub const EXAMPLES: usize = 6;

struct EvalJob {
    model_dir: std::path::PathBuf,
    pairs: Vec<MaskedPair>,
    examples: Vec<MaskedPair>,
    params: EvalSegParams,
}

impl InferJob for EvalJob {
    type Output = (Vec<ValScores>, ExampleSet);
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<Self::Output> {
        let seg = Segmenter::<B>::load(&self.model_dir, &device)?;
        let threshold = self.params.threshold.unwrap_or(seg.info().threshold);
        let size = seg.info().model.image_size as u32;
        let batch_size = self.params.batch_size;
        let rows = scores::score_in_chunks("eval-seg", &self.pairs, batch_size, |chunk| {
            score_pairs(seg.model(), chunk, threshold, size, batch_size, &device)
        })?;
        Ok((rows, example_masks(&seg, &self.examples, threshold)?))
    }
}

/// The columns `masked` (the photo), `truth` (its mask) and `predicted` (the segmenter's, at
/// the photo's size) of `pairs`.
fn example_masks<B: KernelBackend>(
    seg: &Segmenter<B>,
    pairs: &[MaskedPair],
    threshold: f32,
) -> Result<ExampleSet> {
    let mut columns: Vec<(String, Vec<DynamicImage>)> = ["masked", "truth", "predicted"]
        .into_iter()
        .map(|c| (c.to_string(), Vec::new()))
        .collect();
    for p in pairs {
        let img = images::read_rgb(&p.masked)?;
        let truth = images::read_mask(&p.mask)?;
        let predicted = seg.segment(&img, Some(threshold));
        columns[0].1.push(img.into());
        columns[1].1.push(truth.into());
        columns[2].1.push(predicted.into());
    }
    Ok(ExampleSet {
        ids: pairs.iter().map(|p| p.id.clone()).collect(),
        columns,
    })
}
