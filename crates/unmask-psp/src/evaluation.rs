//! `eval-psp`: a trained pSp scored by the inpainting evaluation, on the same test split and
//! with the same metrics, example faces and `eval.json` as `eval-inpaint`, so the ablation
//! report reads it like any other row. Either the raw output (what StyleGAN2 draws, which
//! also changes the pixels the mask did not cover) or that output pasted into the known
//! pixels of the grown hole, as the report discusses.

use crate::inference::PspModel;
use anyhow::Result;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_inpaint::evaluation::{evaluate_filler, EvalSummary, HoleFiller, LoadFiller};
use unmask_inpaint::{EvalInpaintParams, GeneratorConfig, MaskSource};
use unmask_kernels::KernelBackend;
use unmask_train::DeviceKind;

pub use unmask_core::evaluation::{PSP_COMPOSITE, PSP_RAW};

/// Which of pSp's images is scored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PspOutput {
    /// The generator's image as it is.
    Raw,
    /// The generator's image inside the grown hole, the input's known pixels outside.
    #[default]
    Composite,
}

impl PspOutput {
    pub fn method(self) -> &'static str {
        match self {
            PspOutput::Raw => PSP_RAW,
            PspOutput::Composite => PSP_COMPOSITE,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalPspParams {
    pub output: PspOutput,
    pub split: String,
    pub batch_size: usize,
    pub lpips: bool,
    pub identity: bool,
    /// Which holes the composite fills: the true masks, or the segmenter's (a `train-seg`
    /// stage in `needs`). The raw output does not use them; scores compare against the true
    /// hole either way.
    pub masks: MaskSource,
    /// How far holes grow before the composite, as a share of the side; keep it at the GAN's
    /// `generator.hole_dilation` so both fill the same holes.
    pub hole_dilation: f32,
    /// A `train-psp` folder (or its `best/`) to score instead of a `train-psp` stage in
    /// `needs`; a relative path starts at the project root.
    pub model: Option<PathBuf>,
    pub device: DeviceKind,
}

impl Default for EvalPspParams {
    fn default() -> Self {
        let gan = EvalInpaintParams::default();
        Self {
            output: PspOutput::default(),
            split: gan.split,
            batch_size: gan.batch_size,
            lpips: gan.lpips,
            identity: gan.identity,
            masks: gan.masks,
            hole_dilation: GeneratorConfig::default().hole_dilation,
            model: None,
            device: gan.device,
        }
    }
}

impl EvalPspParams {
    pub fn validate(&self) -> Result<()> {
        unmask_inpaint::hole::check_share("hole_dilation", self.hole_dilation)
    }
}

/// A loaded pSp as the evaluation's filler.
struct PspFiller<B: KernelBackend> {
    model: PspModel<B>,
    output: PspOutput,
    hole_dilation: f32,
}

impl<B: KernelBackend> HoleFiller<B> for PspFiller<B> {
    fn hole_dilation(&self) -> f32 {
        self.hole_dilation
    }

    fn fill(
        &self,
        masked: Tensor<B, 4>,
        hole: Tensor<B, 4>,
        _guide: Option<Tensor<B, 4>>,
    ) -> Tensor<B, 4> {
        let out = self.model.unmask(masked, hole);
        match self.output {
            PspOutput::Raw => out.raw,
            PspOutput::Composite => out.composite,
        }
    }
}

/// The model folder and how its output is scored.
struct PspSource<'a> {
    dir: &'a Path,
    params: &'a EvalPspParams,
}

impl LoadFiller for PspSource<'_> {
    fn method(&self) -> String {
        self.params.output.method().into()
    }

    fn model(&self) -> Option<PathBuf> {
        Some(self.dir.to_path_buf())
    }

    fn load<B: KernelBackend>(&self, device: &B::Device) -> Result<(Box<dyn HoleFiller<B>>, u32)> {
        let model = PspModel::<B>::load(self.dir, device)?;
        let size = model.image_size() as u32;
        Ok((
            Box::new(PspFiller {
                model,
                output: self.params.output,
                hole_dilation: self.params.hole_dilation,
            }),
            size,
        ))
    }
}

/// Scores the pSp in `model_dir` on a split of the masks stage in `data_dir`, written to
/// `out_dir` as `eval-inpaint` writes its scores; with `masks: segmenter`, the composite
/// fills the holes of the segmenter in `segmenter`.
pub fn evaluate(
    model_dir: &Path,
    data_dir: &Path,
    params: &EvalPspParams,
    segmenter: Option<&Path>,
    out_dir: &Path,
) -> Result<EvalSummary> {
    params.validate()?;
    let settings = EvalInpaintParams {
        split: params.split.clone(),
        batch_size: params.batch_size,
        lpips: params.lpips,
        identity: params.identity,
        masks: params.masks,
        model: None,
        device: params.device,
    };
    let source = PspSource {
        dir: model_dir,
        params,
    };
    evaluate_filler(&source, &settings, data_dir, segmenter, out_dir)
}
