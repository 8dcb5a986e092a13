//! Scoring the GAN's final composites against the targets: hole L1, whole L1, PSNR, SSIM and
//! (optionally) LPIPS, next to the mean-colour-fill baseline, overall and per mask type.

use crate::baseline::{mean_colour_fill, BaselineMethod};
use crate::data::{self, BatchTensors};
use crate::inference::Inpainter;
use crate::model::InpaintNet;
use crate::training::MaskSource;
use anyhow::{bail, Result};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_kernels::KernelBackend;
use unmask_masks::MaskedPair;
use unmask_metrics::{hole_l1, l1, psnr, ssim, to_vec, Lpips, LpipsNet};
use unmask_seg::Segmenter;
use unmask_train::{images, scores, DeviceKind, InferJob};

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

/// What fills the holes being scored.
pub enum Filler<'a, B: Backend> {
    /// The GAN, which grows holes by its own `hole_dilation`.
    Gan(&'a InpaintNet<B>),
    /// A classical fill and the hole growth (a share of the side) it is given.
    Baseline(BaselineMethod, f32),
}

impl<B: KernelBackend> Filler<'_, B> {
    /// The share of the side by which this filler grows holes.
    pub fn hole_dilation(&self) -> f32 {
        match self {
            Filler::Gan(net) => net.hole_dilation(),
            Filler::Baseline(_, share) => *share,
        }
    }

    /// `hole` grown as this filler grows it: the region it fills.
    fn grow(&self, hole: Tensor<B, 4>) -> Tensor<B, 4> {
        crate::hole::grow_by_share(hole, self.hole_dilation())
    }

    /// The composite with `hole` (already grown) filled.
    fn fill(&self, masked: Tensor<B, 4>, hole: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            Filler::Gan(net) => net.fill(masked, hole),
            Filler::Baseline(method, _) => method.fill(masked, hole),
        }
    }
}

/// Scores `filler`'s composites on `pairs` at `size` (LPIPS when `lpips` is given). With a
/// `segmenter` the holes to fill are its masks (end to end); either is grown as `filler`
/// grows holes, and the mean-colour fill is given the same holes. Hole L1 always compares
/// inside the true hole.
pub fn score_pairs_with<B: KernelBackend>(
    filler: &Filler<B>,
    pairs: &[MaskedPair],
    size: u32,
    batch_size: usize,
    lpips: Option<&Lpips<B>>,
    segmenter: Option<&Segmenter<B>>,
    device: &B::Device,
) -> Result<Vec<InpaintScores>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_size.max(1)) {
        let BatchTensors {
            masked,
            hole,
            target,
        } = data::eval_tensors::<B>(chunk, size, device)?;
        let to_fill = filler.grow(match segmenter {
            Some(seg) => predicted_holes(seg, chunk, size, device)?,
            None => hole.clone(),
        });
        let fin = filler.fill(masked.clone(), to_fill.clone());
        let base = mean_colour_fill(masked, to_fill);
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

/// The segmenter's masks of `pairs`' masked images (segmented at their own size, as
/// `unmask segment` does), resized to `size`.
fn predicted_holes<B: KernelBackend>(
    seg: &Segmenter<B>,
    pairs: &[MaskedPair],
    size: u32,
    device: &B::Device,
) -> Result<Tensor<B, 4>> {
    let imgs: Vec<_> = pairs
        .iter()
        .map(|p| images::read_rgb(&p.masked))
        .collect::<Result<_>>()?;
    let planes: Vec<f32> = seg
        .segment_batch(&imgs, None)
        .into_iter()
        .flat_map(|m| images::mask_plane(&images::resized_mask(m, size), false))
        .collect();
    Ok(images::batch_tensor(
        planes,
        pairs.len(),
        1,
        size as usize,
        device,
    ))
}

/// The GAN's scores without LPIPS, on the true holes (validation during training).
pub fn score_pairs<B: KernelBackend>(
    net: &InpaintNet<B>,
    pairs: &[MaskedPair],
    size: u32,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<InpaintScores>> {
    score_pairs_with(
        &Filler::Gan(net),
        pairs,
        size,
        batch_size,
        None,
        None,
        device,
    )
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalInpaintParams {
    pub split: String,
    pub batch_size: usize,
    /// LPIPS-alex (fetches the weights on first use).
    pub lpips: bool,
    /// Which holes are filled: the true masks, or (end to end) the masks of the `train-seg`
    /// stage in `needs`. Scores always compare against the true hole.
    pub masks: MaskSource,
    /// A `train-inpaint` folder (or its `best/`) to score instead of a `train-inpaint` stage
    /// in `needs` (a model another pipeline trained); a relative path starts at the project
    /// root.
    pub model: Option<PathBuf>,
    pub device: DeviceKind,
}

impl Default for EvalInpaintParams {
    fn default() -> Self {
        Self {
            split: "test".into(),
            batch_size: 8,
            lpips: true,
            masks: MaskSource::Truth,
            model: None,
            device: DeviceKind::Cpu,
        }
    }
}

/// `eval-baseline`: a classical fill scored like the GAN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalBaselineParams {
    pub method: BaselineMethod,
    /// The side the images are scored at; set it to the GAN's `generator.image_size` so the
    /// rows compare.
    pub image_size: usize,
    pub split: String,
    pub batch_size: usize,
    pub lpips: bool,
    pub masks: MaskSource,
    /// How far holes grow before the fill, as a share of the side; keep it at the GAN's
    /// `generator.hole_dilation` so both fill the same holes.
    pub hole_dilation: f32,
    pub device: DeviceKind,
}

impl Default for EvalBaselineParams {
    fn default() -> Self {
        let gan = EvalInpaintParams::default();
        Self {
            method: BaselineMethod::MeanFill,
            image_size: crate::GeneratorConfig::default().image_size,
            split: gan.split,
            batch_size: gan.batch_size,
            lpips: gan.lpips,
            masks: gan.masks,
            hole_dilation: crate::GeneratorConfig::default().hole_dilation,
            device: gan.device,
        }
    }
}

impl EvalBaselineParams {
    pub fn validate(&self) -> Result<()> {
        anyhow::ensure!(
            self.image_size >= 8,
            "image_size must be at least 8, got {}",
            self.image_size
        );
        crate::hole::check_share("hole_dilation", self.hole_dilation)?;
        Ok(())
    }
}

/// What an evaluation scored, written next to its tables as `eval.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalInfo {
    /// `gan`, or a baseline's name (`mean-fill`, `telea`).
    pub method: String,
    pub model: Option<PathBuf>,
    pub masks: MaskSource,
    pub segmenter: Option<PathBuf>,
    pub split: String,
    pub image_size: usize,
    /// The share of the side by which the holes grew before they were filled.
    #[serde(default)]
    pub hole_dilation: f32,
    pub count: usize,
}

pub const EVAL_INFO: &str = "eval.json";

impl EvalInfo {
    pub fn load(dir: &Path) -> Result<Self> {
        unmask_train::checkpoint::read_json(&dir.join(EVAL_INFO))
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

/// Evaluates the GAN in `model_dir` on a split of the masks stage in `data_dir`; with
/// `masks: segmenter`, on the holes of the segmenter in `segmenter`.
pub fn evaluate(
    model_dir: &Path,
    data_dir: &Path,
    params: &EvalInpaintParams,
    segmenter: Option<&Path>,
    out_dir: &Path,
) -> Result<EvalSummary> {
    run_eval(
        FillerSource::Gan(model_dir.to_path_buf()),
        params,
        data_dir,
        segmenter,
        out_dir,
    )
}

/// Scores a classical fill like [`evaluate`] scores the GAN.
pub fn evaluate_baseline(
    params: &EvalBaselineParams,
    data_dir: &Path,
    segmenter: Option<&Path>,
    out_dir: &Path,
) -> Result<EvalSummary> {
    params.validate()?;
    // Scored exactly as the GAN is, with the same settings.
    let settings = EvalInpaintParams {
        split: params.split.clone(),
        batch_size: params.batch_size,
        lpips: params.lpips,
        masks: params.masks,
        model: None,
        device: params.device,
    };
    run_eval(
        FillerSource::Baseline(params.method, params.image_size, params.hole_dilation),
        &settings,
        data_dir,
        segmenter,
        out_dir,
    )
}

#[derive(Clone)]
enum FillerSource {
    Gan(PathBuf),
    /// A method, the side it is scored at and its hole growth.
    Baseline(BaselineMethod, usize, f32),
}

fn run_eval(
    source: FillerSource,
    settings: &EvalInpaintParams,
    data_dir: &Path,
    segmenter: Option<&Path>,
    out_dir: &Path,
) -> Result<EvalSummary> {
    let segmenter = match (settings.masks, segmenter) {
        (MaskSource::Segmenter, None) => {
            bail!("`masks: segmenter` needs a `train-seg` stage in `needs`")
        }
        (MaskSource::Segmenter, Some(dir)) => Some(dir.to_path_buf()),
        (MaskSource::Truth, _) => None,
    };
    let pairs = unmask_masks::read_split(data_dir, &settings.split)?;
    let lpips_path = if settings.lpips {
        Some(unmask_weights::WeightStore::from_env()?.path(LpipsNet::Alex.asset())?)
    } else {
        None
    };
    let job = EvalJob {
        source: source.clone(),
        segmenter: segmenter.clone(),
        pairs: pairs.clone(),
        batch_size: settings.batch_size,
        lpips_path,
    };
    let Scored {
        rows,
        image_size,
        hole_dilation,
    } = unmask_train::backend::infer_on(settings.device, job)?;
    let table: Vec<Vec<f64>> = rows.iter().map(|r| r.values().to_vec()).collect();
    let groups = scores::tabulate(
        out_dir,
        pairs.iter().map(|p| p.id.clone()).collect(),
        pairs.iter().map(|p| p.mask_type.clone()).collect(),
        &InpaintScores::NAMES,
        &table,
    )?;
    let summary = EvalSummary {
        split: settings.split.clone(),
        count: rows.len(),
        overall: InpaintScores::mean(&rows),
        groups,
    };
    unmask_core::atomic::write_bytes(
        &out_dir.join(scores::METRICS_MD),
        summary.markdown().as_bytes(),
    )?;
    let (method, model) = match source {
        FillerSource::Gan(dir) => ("gan".to_string(), Some(dir)),
        FillerSource::Baseline(m, ..) => (m.name().to_string(), None),
    };
    let info = EvalInfo {
        method,
        model,
        masks: settings.masks,
        segmenter,
        split: settings.split.clone(),
        image_size,
        hole_dilation,
        count: rows.len(),
    };
    unmask_core::atomic::write_bytes(
        &out_dir.join(EVAL_INFO),
        &unmask_train::checkpoint::to_json(&info)?,
    )?;
    Ok(summary)
}

struct EvalJob {
    source: FillerSource,
    segmenter: Option<PathBuf>,
    pairs: Vec<MaskedPair>,
    batch_size: usize,
    lpips_path: Option<PathBuf>,
}

/// What [`EvalJob`] scored, and how.
struct Scored {
    rows: Vec<InpaintScores>,
    image_size: usize,
    hole_dilation: f32,
}

impl InferJob for EvalJob {
    type Output = Scored;
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<Scored> {
        let inpainter = match &self.source {
            FillerSource::Gan(dir) => Some(Inpainter::<B>::load(dir, &device)?),
            FillerSource::Baseline(..) => None,
        };
        let (filler, size) = match (&inpainter, &self.source) {
            (Some(inp), _) => (
                Filler::Gan(inp.net()),
                inp.info().generator.image_size as u32,
            ),
            (None, FillerSource::Baseline(method, size, share)) => {
                (Filler::Baseline(*method, *share), *size as u32)
            }
            (None, FillerSource::Gan(_)) => unreachable!("loaded above"),
        };
        let segmenter = match &self.segmenter {
            Some(dir) => Some(Segmenter::<B>::load(dir, &device)?),
            None => None,
        };
        let lpips = match &self.lpips_path {
            Some(p) if size as usize >= LpipsNet::Alex.min_size() => {
                Some(Lpips::<B>::load(LpipsNet::Alex, p, &device)?)
            }
            _ => None,
        };
        let progress = unmask_core::progress::Progress::new("evaluate", self.pairs.len() as u64);
        let mut rows = Vec::with_capacity(self.pairs.len());
        for chunk in self.pairs.chunks(self.batch_size.max(1) * 4) {
            rows.extend(score_pairs_with(
                &filler,
                chunk,
                size,
                self.batch_size,
                lpips.as_ref(),
                segmenter.as_ref(),
                &device,
            )?);
            progress.inc(chunk.len() as u64);
        }
        progress.finish();
        Ok(Scored {
            rows,
            image_size: size as usize,
            hole_dilation: filler.hole_dilation(),
        })
    }
}

/// Example images of `pairs` at `size` with the true holes: the masked inputs, `filler`'s
/// composites and the targets (for reports).
pub fn example_images<B: KernelBackend>(
    filler: &Filler<B>,
    pairs: &[MaskedPair],
    size: u32,
    device: &B::Device,
) -> Result<Examples> {
    let BatchTensors {
        masked,
        hole,
        target,
    } = data::eval_tensors::<B>(pairs, size, device)?;
    let fin = filler.fill(masked.clone(), filler.grow(hole));
    let each = |t: &Tensor<B, 4>| -> Vec<image::RgbImage> {
        (0..pairs.len())
            .map(|i| images::tensor_to_rgb(t, i))
            .collect()
    };
    Ok(Examples {
        masked: each(&masked),
        filled: each(&fin),
        target: each(&target),
    })
}

pub struct Examples {
    pub masked: Vec<image::RgbImage>,
    pub filled: Vec<image::RgbImage>,
    pub target: Vec<image::RgbImage>,
}
