//! The score row of a fill: its images against the targets (hole L1, whole L1, L1 outside the
//! hole, PSNR, SSIM and optionally LPIPS and identity similarity) next to the mean-colour-fill
//! baseline given the same holes, for the GAN, a classical fill or any [`HoleFiller`] (pSp,
//! in a crate above this one). Used by validation during training and by the evaluation
//! stages.

use crate::baseline::{mean_colour_fill, BaselineMethod};
use crate::data::{self, BatchTensors};
use crate::model::InpaintNet;
use anyhow::Result;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use unmask_detect::recognition::{cosine_similarity, FaceRecognitionNet};
use unmask_kernels::KernelBackend;
use unmask_masks::MaskedPair;
use unmask_metrics::{hole_l1, l1, psnr, ssim, to_vec, Lpips};
use unmask_seg::Segmenter;
use unmask_train::images;
use unmask_train::scores::{markdown_rows, Group, ScoreRow};

/// Scores of one image (or their means).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InpaintScores {
    pub hole_l1: f64,
    pub l1: f64,
    /// Mean absolute difference over the pixels outside the true hole: what the fill changed
    /// that the mask did not cover (small for a composite, whose grown hole reaches a little
    /// past the mask; the report's point about StyleGAN2 + pSp's raw output).
    #[serde(default = "not_computed")]
    pub l1_outside: f64,
    pub psnr: f64,
    pub ssim: f64,
    /// LPIPS-alex, NaN when not computed.
    pub lpips: f64,
    /// The cosine between face-api's face descriptors of the composite and the target (1 is
    /// the same identity; the face-mask-removal benchmark's ID-Sim, there with ArcFace), NaN
    /// when not computed.
    #[serde(default = "not_computed")]
    pub id_sim: f64,
    pub baseline_hole_l1: f64,
    pub baseline_psnr: f64,
}

impl ScoreRow for InpaintScores {
    const NAMES: &'static [&'static str] = &[
        "hole_l1",
        "l1",
        "l1_outside",
        "psnr",
        "ssim",
        "lpips",
        "id_sim",
        "baseline_hole_l1",
        "baseline_psnr",
    ];
    const DECIMALS: &'static [usize] = &[4, 4, 4, 2, 4, 4, 4, 4, 2];

    fn values(&self) -> Vec<f64> {
        vec![
            self.hole_l1,
            self.l1,
            self.l1_outside,
            self.psnr,
            self.ssim,
            self.lpips,
            self.id_sim,
            self.baseline_hole_l1,
            self.baseline_psnr,
        ]
    }

    fn from_values(v: &[f64]) -> Self {
        Self {
            hole_l1: v[0],
            l1: v[1],
            l1_outside: v[2],
            psnr: v[3],
            ssim: v[4],
            lpips: v[5],
            id_sim: v[6],
            baseline_hole_l1: v[7],
            baseline_psnr: v[8],
        }
    }

    fn describe(&self) -> String {
        format!(
            "hole L1 {:.4} (mean-colour fill {:.4}), L1 {:.4} ({:.4} outside the hole), PSNR {:.2} dB (fill {:.2}), SSIM {:.4}{}{}",
            self.hole_l1,
            self.baseline_hole_l1,
            self.l1,
            self.l1_outside,
            self.psnr,
            self.baseline_psnr,
            self.ssim,
            if self.lpips.is_nan() {
                String::new()
            } else {
                format!(", LPIPS {:.4}", self.lpips)
            },
            if self.id_sim.is_nan() {
                String::new()
            } else {
                format!(", ID sim {:.4}", self.id_sim)
            }
        )
    }

    fn markdown(split: &str, groups: &[Group]) -> String {
        format!(
            "# Inpainting on the `{split}` split\n\n| mask type | pairs | hole L1 | L1 | L1 outside hole | PSNR | SSIM | LPIPS | ID sim | fill hole L1 | fill PSNR |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n{}\nL1 outside hole is what the result changed where the mask was not. ID sim is the cosine between face-api's face descriptors of the result and the original. The fill columns are the mean-colour-fill baseline (each hole filled with the mean colour of its image's known pixels).\n",
            markdown_rows(groups, Self::DECIMALS)
        )
    }
}

fn not_computed() -> f64 {
    f64::NAN
}

/// The learned judges of a composite, each optional: LPIPS and face-api's recognition net.
pub struct Judges<'a, B: Backend> {
    pub lpips: Option<&'a Lpips<B>>,
    pub identity: Option<&'a FaceRecognitionNet<B>>,
}

// By hand: a derive would ask `B: Copy`.
impl<B: Backend> Clone for Judges<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<B: Backend> Copy for Judges<'_, B> {}

impl<B: Backend> Judges<'_, B> {
    pub fn none() -> Self {
        Self {
            lpips: None,
            identity: None,
        }
    }
}

/// The identity similarity of each composite in `fin` to its target in `target`
/// (`[N, 3, H, W]`, in 0..1).
fn identity_similarity<B: KernelBackend>(
    net: &FaceRecognitionNet<B>,
    fin: &Tensor<B, 4>,
    target: &Tensor<B, 4>,
) -> Result<Vec<f32>> {
    let n = fin.dims()[0];
    let imgs: Vec<_> = [fin, target]
        .iter()
        .flat_map(|t| (0..n).map(|i| images::tensor_to_rgb(t, i)))
        .collect();
    let descriptors = net.descriptors_of_images(&imgs)?;
    let (ours, theirs) = descriptors.split_at(n);
    Ok(ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| cosine_similarity(a, b) as f32)
        .collect())
}

/// What fills the holes being scored: the GAN, a classical fill, or a model of a crate above
/// this one (pSp), all scored by the same code.
pub trait HoleFiller<B: Backend> {
    /// The share of the side by which this filler grows holes before filling them.
    fn hole_dilation(&self) -> f32;

    /// `masked` (`[N, 3, S, S]`, in 0..1) with `hole` (`[N, 1, S, S]`, already grown) filled:
    /// the images scored, `[N, 3, S, S]` in 0..1. `guide` is the faces' landmark guide
    /// ([`crate::guide`]) where the data has landmarks; fillers that do not use it ignore it.
    fn fill(
        &self,
        masked: Tensor<B, 4>,
        hole: Tensor<B, 4>,
        guide: Option<Tensor<B, 4>>,
    ) -> Tensor<B, 4>;

    /// Whether [`Self::fill`] needs the guide.
    fn needs_guide(&self) -> bool {
        false
    }
}

impl<B: KernelBackend> HoleFiller<B> for InpaintNet<B> {
    fn hole_dilation(&self) -> f32 {
        InpaintNet::hole_dilation(self)
    }

    fn fill(
        &self,
        masked: Tensor<B, 4>,
        hole: Tensor<B, 4>,
        guide: Option<Tensor<B, 4>>,
    ) -> Tensor<B, 4> {
        InpaintNet::fill(self, masked, hole, guide)
    }

    fn needs_guide(&self) -> bool {
        InpaintNet::needs_guide(self)
    }
}

/// A classical fill and the hole growth (a share of the side) it is given.
#[derive(Clone, Copy, Debug)]
pub struct ClassicalFill {
    pub method: BaselineMethod,
    pub hole_dilation: f32,
}

impl<B: Backend> HoleFiller<B> for ClassicalFill {
    fn hole_dilation(&self) -> f32 {
        self.hole_dilation
    }

    fn fill(
        &self,
        masked: Tensor<B, 4>,
        hole: Tensor<B, 4>,
        _guide: Option<Tensor<B, 4>>,
    ) -> Tensor<B, 4> {
        self.method.fill(masked, hole)
    }
}

/// `hole` grown as `filler` grows it: the region it fills.
pub(crate) fn grown<B: KernelBackend>(
    filler: &dyn HoleFiller<B>,
    hole: Tensor<B, 4>,
) -> Tensor<B, 4> {
    crate::hole::grow_by_share(hole, filler.hole_dilation())
}

/// Scores `filler`'s composites on `pairs` at `size` (LPIPS and identity when `judges` has
/// them). With a
/// `segmenter` the holes to fill are its masks (end to end); either is grown as `filler`
/// grows holes, and the mean-colour fill is given the same holes. Hole L1 always compares
/// inside the true hole.
pub fn score_pairs_with<B: KernelBackend>(
    filler: &dyn HoleFiller<B>,
    pairs: &[MaskedPair],
    size: u32,
    batch_size: usize,
    judges: Judges<B>,
    segmenter: Option<&Segmenter<B>>,
    device: &B::Device,
) -> Result<Vec<InpaintScores>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_size.max(1)) {
        let BatchTensors {
            masked,
            hole,
            target,
            guide,
        } = data::eval_tensors::<B>(chunk, size, device)?;
        anyhow::ensure!(
            guide.is_some() || !filler.needs_guide(),
            "this GAN draws along the faces' landmarks (generator.landmark_guide) but the masks manifest of {} has no landmark columns",
            chunk[0].masked.display()
        );
        let to_fill = grown(
            filler,
            match segmenter {
                Some(seg) => predicted_holes(seg, chunk, size, device)?,
                None => hole.clone(),
            },
        );
        let fin = filler.fill(masked.clone(), to_fill.clone(), guide);
        let base = mean_colour_fill(masked, to_fill);
        // Columns in `InpaintScores::NAMES` order.
        rows.extend(InpaintScores::from_columns(&[
            to_vec(hole_l1(fin.clone(), target.clone(), hole.clone())),
            to_vec(l1(fin.clone(), target.clone())),
            to_vec(hole_l1(
                fin.clone(),
                target.clone(),
                hole.clone().neg().add_scalar(1.0),
            )),
            to_vec(psnr(fin.clone(), target.clone())),
            to_vec(ssim(fin.clone(), target.clone())),
            match judges.lpips {
                Some(model) => to_vec(model.distance(fin.clone(), target.clone())),
                None => vec![f32::NAN; chunk.len()],
            },
            match judges.identity {
                Some(net) => identity_similarity(net, &fin, &target)?,
                None => vec![f32::NAN; chunk.len()],
            },
            to_vec(hole_l1(base.clone(), target.clone(), hole)),
            to_vec(psnr(base, target)),
        ]));
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
    score_pairs_with(net, pairs, size, batch_size, Judges::none(), None, device)
}
