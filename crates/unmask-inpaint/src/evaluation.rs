//! Scoring a fill's images against the targets: hole L1, whole L1, L1 outside the hole, PSNR,
//! SSIM and (optionally) LPIPS and identity similarity, next to the mean-colour-fill baseline,
//! overall and per mask type. The GAN and the classical fills here; other models through
//! [`LoadFiller`].

use crate::baseline::BaselineMethod;
use crate::data::{self, BatchTensors, MaskSource};
use crate::inference::Inpainter;
use anyhow::{bail, Result};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_core::examples::ExampleSet;
use unmask_kernels::KernelBackend;
use unmask_masks::MaskedPair;
use unmask_metrics::{Lpips, LpipsNet};
use unmask_seg::Segmenter;
use unmask_train::{images, scores, DeviceKind, InferJob};

pub use crate::scores::{
    score_pairs, score_pairs_with, ClassicalFill, HoleFiller, InpaintScores, Judges,
};
use unmask_detect::FaceRecognitionNet;
pub use unmask_train::scores::ScoreRow;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalInpaintParams {
    pub split: String,
    pub batch_size: usize,
    /// LPIPS-alex (fetches the weights on first use).
    pub lpips: bool,
    /// Identity similarity: face-api's face descriptors of result and target (fetches the
    /// weights on first use).
    pub identity: bool,
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
            identity: true,
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
    pub identity: bool,
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
            identity: gan.identity,
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

pub use unmask_core::evaluation::{EvalInfo, EVAL_INFO};

/// The result of `eval-inpaint`: overall means and one row per group ("all", then each mask
/// type) in [`InpaintScores`]' column order.
pub type EvalSummary = scores::EvalSummary<InpaintScores>;

/// Evaluates the GAN in `model_dir` on a split of the masks stage in `data_dir`; with
/// `masks: segmenter`, on the holes of the segmenter in `segmenter`.
pub fn evaluate(
    model_dir: &Path,
    data_dir: &Path,
    params: &EvalInpaintParams,
    segmenter: Option<&Path>,
    out_dir: &Path,
) -> Result<EvalSummary> {
    evaluate_filler(
        &FillerSource::Gan(model_dir.to_path_buf()),
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
        identity: params.identity,
        masks: params.masks,
        model: None,
        device: params.device,
    };
    evaluate_filler(
        &FillerSource::Baseline(params.method, params.image_size, params.hole_dilation),
        &settings,
        data_dir,
        segmenter,
        out_dir,
    )
}

/// A filler the evaluation loads on its own backend: the GAN, a classical fill, or a model of
/// a crate above this one (pSp's evaluation implements it), so every row of a comparison is
/// scored by the same code.
pub trait LoadFiller {
    /// Recorded as the evaluation's method: `gan`, a baseline's name, ...
    fn method(&self) -> String;
    /// The model folder scored, if any.
    fn model(&self) -> Option<PathBuf>;
    /// The filler on `device`, and the side its images are scored at.
    fn load<B: KernelBackend>(&self, device: &B::Device) -> Result<(Box<dyn HoleFiller<B>>, u32)>;
}

enum FillerSource {
    Gan(PathBuf),
    /// A method, the side it is scored at and its hole growth.
    Baseline(BaselineMethod, usize, f32),
}

impl LoadFiller for FillerSource {
    fn method(&self) -> String {
        match self {
            FillerSource::Gan(_) => "gan".into(),
            FillerSource::Baseline(m, ..) => m.name().into(),
        }
    }

    fn model(&self) -> Option<PathBuf> {
        match self {
            FillerSource::Gan(dir) => Some(dir.clone()),
            FillerSource::Baseline(..) => None,
        }
    }

    fn load<B: KernelBackend>(&self, device: &B::Device) -> Result<(Box<dyn HoleFiller<B>>, u32)> {
        Ok(match self {
            FillerSource::Gan(dir) => {
                let inpainter = Inpainter::<B>::load(dir, device)?;
                let size = inpainter.info().generator.image_size as u32;
                (Box::new(inpainter.net().clone()), size)
            }
            FillerSource::Baseline(method, size, share) => (
                Box::new(ClassicalFill {
                    method: *method,
                    hole_dilation: *share,
                }),
                *size as u32,
            ),
        })
    }
}

/// Scores `source`'s fills on a split of the masks stage in `data_dir` as `eval-inpaint`
/// scores the GAN (with `masks: segmenter`, on the holes of the segmenter in `segmenter`):
/// `per_image.parquet`, the summaries, example images and [`EVAL_INFO`] in `out_dir`.
pub fn evaluate_filler<L: LoadFiller>(
    source: &L,
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
    let weight = |wanted: bool, asset: unmask_weights::Asset| -> Result<Option<PathBuf>> {
        Ok(match wanted {
            true => Some(unmask_weights::WeightStore::from_env()?.path(asset)?),
            false => None,
        })
    };
    let lpips_path = weight(settings.lpips, LpipsNet::Alex.asset())?;
    let identity_path = weight(settings.identity, unmask_weights::Asset::FaceRecognition)?;
    let job = EvalJob {
        source,
        segmenter: segmenter.clone(),
        examples: unmask_masks::example_pairs(pairs.clone(), EXAMPLES),
        pairs: pairs.clone(),
        batch_size: settings.batch_size,
        lpips_path,
        identity_path,
    };
    let Scored {
        rows,
        image_size,
        hole_dilation,
        examples,
    } = unmask_train::backend::infer_on(settings.device, job)?;
    examples.write(out_dir)?;
    let summary = scores::summarise(
        out_dir,
        &settings.split,
        &unmask_masks::ids_and_types(&pairs),
        &rows,
    )?;
    let info = EvalInfo {
        method: source.method(),
        model: source.model(),
        masks: settings.masks,
        segmenter,
        split: settings.split.clone(),
        image_size,
        hole_dilation,
        count: rows.len(),
    };
    info.save(out_dir)?;
    Ok(summary)
}

struct EvalJob<'a, L> {
    source: &'a L,
    segmenter: Option<PathBuf>,
    pairs: Vec<MaskedPair>,
    /// Pairs whose composites (on their true holes) are kept as example images.
    examples: Vec<MaskedPair>,
    batch_size: usize,
    lpips_path: Option<PathBuf>,
    identity_path: Option<PathBuf>,
}

/// What [`EvalJob`] scored, and how.
struct Scored {
    rows: Vec<InpaintScores>,
    image_size: usize,
    hole_dilation: f32,
    examples: ExampleSet,
}

impl<L: LoadFiller> InferJob for EvalJob<'_, L> {
    type Output = Scored;
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<Scored> {
        let (filler, size) = self.source.load::<B>(&device)?;
        let filler = filler.as_ref();
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
        let identity = match &self.identity_path {
            Some(p) => Some(FaceRecognitionNet::<B>::load(p, &device)?),
            None => None,
        };
        let judges = Judges {
            lpips: lpips.as_ref(),
            identity: identity.as_ref(),
        };
        let batch_size = self.batch_size;
        let rows = scores::score_in_chunks("evaluate", &self.pairs, batch_size, |chunk| {
            score_pairs_with(
                filler,
                chunk,
                size,
                batch_size,
                judges,
                segmenter.as_ref(),
                &device,
            )
        })?;
        let examples = example_images(filler, &self.examples, size, &device)?;
        Ok(Scored {
            rows,
            image_size: size as usize,
            hole_dilation: filler.hole_dilation(),
            examples,
        })
    }
}

/// Test pairs whose images every evaluation keeps, for reports (one of each mask type first).
pub const EXAMPLES: usize = 6;

/// Example images of `pairs` at `size` with the true holes, as the columns `masked`, `filled`
/// (`filler`'s composites) and `target`.
pub fn example_images<B: KernelBackend>(
    filler: &dyn HoleFiller<B>,
    pairs: &[MaskedPair],
    size: u32,
    device: &B::Device,
) -> Result<ExampleSet> {
    if pairs.is_empty() {
        return Ok(ExampleSet::default());
    }
    let BatchTensors {
        masked,
        hole,
        target,
        guide,
    } = data::eval_tensors::<B>(pairs, size, device)?;
    let fin = filler.fill(masked.clone(), crate::scores::grown(filler, hole), guide);
    let each = |t: &Tensor<B, 4>| -> Vec<image::DynamicImage> {
        (0..pairs.len())
            .map(|i| images::tensor_to_rgb(t, i).into())
            .collect()
    };
    Ok(ExampleSet {
        ids: pairs.iter().map(|p| p.id.clone()).collect(),
        columns: vec![
            ("masked".into(), each(&masked)),
            ("filled".into(), each(&fin)),
            ("target".into(), each(&target)),
        ],
    })
}
