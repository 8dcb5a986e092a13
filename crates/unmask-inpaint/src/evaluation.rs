//! Scoring the GAN's final composites against the targets: hole L1, whole L1, PSNR, SSIM and
//! (optionally) LPIPS, next to the mean-colour-fill baseline, overall and per mask type.

use crate::baseline::mean_colour_fill;
use crate::data::{self, BatchTensors};
use crate::inference::Inpainter;
use crate::model::InpaintNet;
use anyhow::Result;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_masks::MaskedPair;
use unmask_metrics::{hole_l1, l1, psnr, ssim, to_vec, Lpips, LpipsNet};
use unmask_train::{scores, DeviceKind, InferJob};

/// Scores of one image (or their means).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InpaintScores {
    pub hole_l1: f64,
    pub l1: f64,
    pub psnr: f64,
    pub ssim: f64,
    /// LPIPS-alex, NaN when not computed.
    pub lpips: f64,
    pub baseline_hole_l1: f64,
    pub baseline_psnr: f64,
}

impl InpaintScores {
    pub const NAMES: [&'static str; 7] = [
        "hole_l1",
        "l1",
        "psnr",
        "ssim",
        "lpips",
        "baseline_hole_l1",
        "baseline_psnr",
    ];

    pub fn values(&self) -> [f64; 7] {
        [
            self.hole_l1,
            self.l1,
            self.psnr,
            self.ssim,
            self.lpips,
            self.baseline_hole_l1,
            self.baseline_psnr,
        ]
    }

    pub fn as_row(&self) -> Vec<(&'static str, f64)> {
        Self::NAMES.into_iter().zip(self.values()).collect()
    }

    /// The last row of a validation log.
    pub fn from_log(log: &unmask_train::log::MetricLog) -> Option<Self> {
        let v: Vec<f64> = Self::NAMES
            .iter()
            .map(|n| log.last(n))
            .collect::<Option<_>>()?;
        Some(Self::from_values(&v))
    }

    /// Scores from values in [`Self::NAMES`] order.
    pub fn from_values(v: &[f64]) -> Self {
        Self {
            hole_l1: v[0],
            l1: v[1],
            psnr: v[2],
            ssim: v[3],
            lpips: v[4],
            baseline_hole_l1: v[5],
            baseline_psnr: v[6],
        }
    }

    pub fn mean(rows: &[InpaintScores]) -> Self {
        let table: Vec<Vec<f64>> = rows.iter().map(|r| r.values().to_vec()).collect();
        Self::from_values(&scores::mean_row(&table, Self::NAMES.len()))
    }
}

/// Scores `net`'s final composites on `pairs` (LPIPS when `lpips` is given).
pub fn score_pairs_with<B: Backend>(
    net: &InpaintNet<B>,
    pairs: &[MaskedPair],
    size: u32,
    batch_size: usize,
    lpips: Option<&Lpips<B>>,
    device: &B::Device,
) -> Result<Vec<InpaintScores>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_size.max(1)) {
        let batch = data::make_batch(chunk, &vec![false; chunk.len()], size)?;
        let BatchTensors {
            masked,
            hole,
            target,
        } = batch.tensors::<B>(device);
        let fin = net.forward(masked.clone(), hole.clone()).fin;
        let base = mean_colour_fill(masked, hole.clone());
        // Columns in `InpaintScores::NAMES` order.
        let columns = [
            to_vec(hole_l1(fin.clone(), target.clone(), hole.clone())),
            to_vec(l1(fin.clone(), target.clone())),
            to_vec(psnr(fin.clone(), target.clone())),
            to_vec(ssim(fin.clone(), target.clone())),
            match lpips {
                Some(model) => to_vec(model.distance(fin, target.clone())),
                None => vec![f32::NAN; chunk.len()],
            },
            to_vec(hole_l1(base.clone(), target.clone(), hole)),
            to_vec(psnr(base, target)),
        ];
        rows.extend(
            scores::rows_of(&columns)
                .iter()
                .map(|r| InpaintScores::from_values(r)),
        );
    }
    Ok(rows)
}

/// [`score_pairs_with`] without LPIPS (validation during training).
pub fn score_pairs<B: Backend>(
    net: &InpaintNet<B>,
    pairs: &[MaskedPair],
    size: u32,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<InpaintScores>> {
    score_pairs_with(net, pairs, size, batch_size, None, device)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalInpaintParams {
    pub split: String,
    pub batch_size: usize,
    /// LPIPS-alex (fetches the weights on first use).
    pub lpips: bool,
    pub device: DeviceKind,
}

impl Default for EvalInpaintParams {
    fn default() -> Self {
        Self {
            split: "test".into(),
            batch_size: 8,
            lpips: true,
            device: DeviceKind::Cpu,
        }
    }
}

/// The result of `eval-inpaint`: overall means and one row per group ("all", then each mask
/// type) in [`InpaintScores::NAMES`] order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalSummary {
    pub split: String,
    pub count: usize,
    pub overall: InpaintScores,
    pub groups: Vec<(String, usize, Vec<f64>)>,
}

impl EvalSummary {
    pub fn describe(&self) -> String {
        format!(
            "{} {} pairs: hole L1 {:.4} (mean-colour fill {:.4}), L1 {:.4}, PSNR {:.2} dB (fill {:.2}), SSIM {:.4}{}",
            self.count,
            self.split,
            self.overall.hole_l1,
            self.overall.baseline_hole_l1,
            self.overall.l1,
            self.overall.psnr,
            self.overall.baseline_psnr,
            self.overall.ssim,
            if self.overall.lpips.is_nan() { String::new() } else { format!(", LPIPS {:.4}", self.overall.lpips) }
        )
    }

    pub fn markdown(&self) -> String {
        format!(
            "# Inpainting on the `{}` split\n\n| mask type | pairs | hole L1 | L1 | PSNR | SSIM | LPIPS | fill hole L1 | fill PSNR |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n{}\nThe fill columns are the mean-colour-fill baseline (each hole filled with the mean colour of its image's known pixels).\n",
            self.split,
            scores::markdown_rows(&self.groups, &[4, 4, 2, 4, 4, 4, 2])
        )
    }
}

/// Evaluates the GAN in `model_dir` on a split of the masks stage in `data_dir`.
pub fn evaluate(
    model_dir: &Path,
    data_dir: &Path,
    params: &EvalInpaintParams,
    out_dir: &Path,
) -> Result<EvalSummary> {
    let pairs = unmask_masks::read_split(data_dir, &params.split)?;
    let lpips_path = if params.lpips {
        Some(unmask_weights::WeightStore::from_env()?.path(LpipsNet::Alex.asset())?)
    } else {
        None
    };
    let job = EvalJob {
        model_dir: model_dir.to_path_buf(),
        pairs: pairs.clone(),
        params: params.clone(),
        lpips_path,
    };
    let rows = unmask_train::backend::infer_on(params.device, job)?;
    let ids: Vec<String> = pairs.iter().map(|p| p.id.clone()).collect();
    let types: Vec<String> = pairs.iter().map(|p| p.mask_type.clone()).collect();
    let table: Vec<Vec<f64>> = rows.iter().map(|r| r.values().to_vec()).collect();
    let groups = scores::group_means(&types, &table, InpaintScores::NAMES.len());
    scores::write_tables(
        out_dir,
        &ids,
        &types,
        &InpaintScores::NAMES,
        &table,
        &groups,
    )?;
    let summary = EvalSummary {
        split: params.split.clone(),
        count: rows.len(),
        overall: InpaintScores::mean(&rows),
        groups,
    };
    unmask_core::atomic::write_bytes(
        &out_dir.join(scores::METRICS_MD),
        summary.markdown().as_bytes(),
    )?;
    Ok(summary)
}

struct EvalJob {
    model_dir: PathBuf,
    pairs: Vec<MaskedPair>,
    params: EvalInpaintParams,
    lpips_path: Option<PathBuf>,
}

impl InferJob for EvalJob {
    type Output = Vec<InpaintScores>;
    fn run<B: Backend>(self, device: B::Device) -> Result<Vec<InpaintScores>> {
        let inpainter = Inpainter::<B>::load(&self.model_dir, &device)?;
        let size = inpainter.info().generator.image_size as u32;
        let lpips = match &self.lpips_path {
            Some(p) if size as usize >= LpipsNet::Alex.min_size() => {
                Some(Lpips::<B>::load(LpipsNet::Alex, p, &device)?)
            }
            _ => None,
        };
        let progress =
            unmask_core::progress::Progress::new("eval-inpaint", self.pairs.len() as u64);
        let mut rows = Vec::with_capacity(self.pairs.len());
        for chunk in self.pairs.chunks(self.params.batch_size.max(1) * 4) {
            rows.extend(score_pairs_with(
                inpainter.net(),
                chunk,
                size,
                self.params.batch_size,
                lpips.as_ref(),
                &device,
            )?);
            progress.inc(chunk.len() as u64);
        }
        progress.finish();
        Ok(rows)
    }
}
