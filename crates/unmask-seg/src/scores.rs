//! The segmenter's score row: mask overlap of one image against its true mask, and false
//! alarms on the same face without its mask. Used by validation during training and by the
//! `eval-seg` stage.

use crate::augment::View;
use crate::data;
use crate::model::UNet;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use unmask_kernels::KernelBackend;
use unmask_masks::MaskedPair;
use unmask_metrics::{dice, iou, pixel_accuracy, precision, recall, to_vec};
use unmask_train::scores::{markdown_rows, Group, ScoreRow};

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

impl ScoreRow for ValScores {
    const NAMES: &'static [&'static str] = &[
        "dice",
        "iou",
        "pixel_accuracy",
        "precision",
        "recall",
        "bare_marked",
    ];
    const DECIMALS: &'static [usize] = &[4; 6];

    fn values(&self) -> Vec<f64> {
        vec![
            self.dice,
            self.iou,
            self.pixel_accuracy,
            self.precision,
            self.recall,
            self.bare_marked,
        ]
    }

    fn from_values(v: &[f64]) -> Self {
        Self {
            dice: v[0],
            iou: v[1],
            pixel_accuracy: v[2],
            precision: v[3],
            recall: v[4],
            bare_marked: v[5],
        }
    }

    fn describe(&self) -> String {
        format!(
            "Dice {:.4}, IoU {:.4}, pixel accuracy {:.4}, precision {:.4}, recall {:.4}, bare-face pixels marked {:.2}%",
            self.dice,
            self.iou,
            self.pixel_accuracy,
            self.precision,
            self.recall,
            100.0 * self.bare_marked
        )
    }

    fn markdown(split: &str, groups: &[Group]) -> String {
        format!(
            "# Segmentation on the `{split}` split\n\n`bare marked`: the share of the pixels of the same face images without their masks that is called mask (false alarms).\n\n| mask type | pairs | Dice | IoU | pixel accuracy | precision | recall | bare marked |\n|---|---:|---:|---:|---:|---:|---:|---:|\n{}",
            markdown_rows(groups, Self::DECIMALS)
        )
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
        rows.extend(ValScores::from_columns(&[
            to_vec(dice(predicted.clone(), truth.clone())),
            to_vec(iou(predicted.clone(), truth.clone())),
            to_vec(pixel_accuracy(predicted.clone(), truth.clone())),
            to_vec(precision(predicted.clone(), truth.clone())),
            to_vec(recall(predicted, truth)),
            to_vec(marked.reshape([n, -1]).mean_dim(1).reshape([n])),
        ]));
    }
    Ok(rows)
}
