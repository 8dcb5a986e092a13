//! The coarse-to-fine inpainting network. Coarse and refine generators share one structure:
//! a downsampling encoder, dilated blocks at rates 2, 4, 8, 16, and an upsampling decoder.
//!
//! Images outside are `[N, 3, S, S]` in `[0, 1]`; `hole` is `[N, 1, S, S]` with 1 inside the
//! mask. Inside, the networks work in `[-1, 1]` and on the known-pixel mask `1 - hole`.

use crate::guide::GUIDE_CHANNELS;
use crate::layers::{downsample, upsample, Activation, ConvKind, ConvSpec, FeatureConv, NormKind};
use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use unmask_kernels::{avg_pool2d, KernelBackend};

/// The generators' architecture; both networks use it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    pub conv: ConvKind,
    pub activation: Activation,
    pub norm: NormKind,
    /// Normalise in the decoder too (the report found leaving it out much better).
    pub decoder_norm: bool,
    /// Imputation kernel everywhere; `null` uses DeepPrivacy's rule (3 on maps up to 8x8,
    /// 5 from 16x16 up).
    pub impute_kernel: Option<usize>,
    /// Channels of the first level; the lower levels have 2x and 4x.
    pub width: usize,
    pub image_size: usize,
    /// How known the refine network treats the coarse fill of the hole (its imputation mask
    /// there): 0 ignores the coarse output, 1 trusts it fully.
    pub refine_hole_confidence: f32,
    /// How far the hole grows before it is filled, as a share of the image side (rounded to
    /// pixels: 0.03 is 2 px at 64, 8 px at 256), so that the mask's rim, shadow and ear loops
    /// are filled too. Training, evaluation and inference all grow by it (see [`crate::hole`]).
    pub hole_dilation: f32,
    /// At paste-back (evaluation, sample grids, inference; not the training losses), shift
    /// the fill's low frequencies to agree with the ring of known pixels around the hole
    /// (see [`crate::paste`]).
    pub colour_match: bool,
    /// Give every layer of both generators the landmark guide ([`crate::guide`]): the lips,
    /// nose and jaw drawn from the face's 68 landmarks, which the data then has to carry
    /// (the masks manifest in training and evaluation, the detector's points on photos).
    pub landmark_guide: bool,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            conv: ConvKind::Imputed,
            activation: Activation::LeakyRelu,
            norm: NormKind::Layer,
            decoder_norm: false,
            impute_kernel: None,
            width: 32,
            image_size: 256,
            refine_hole_confidence: 0.5,
            hole_dilation: 0.03,
            colour_match: true,
            landmark_guide: false,
        }
    }
}

/// Dilation rates of the middle blocks.
pub const DILATIONS: [usize; 4] = [2, 4, 8, 16];

impl GeneratorConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.image_size >= 16 && self.image_size % 4 == 0,
            "generator.image_size must be a multiple of 4 and at least 16, got {}",
            self.image_size
        );
        anyhow::ensure!(
            self.width >= 2 && self.width % 2 == 0,
            "generator.width must be even and at least 2"
        );
        if let Some(k) = self.impute_kernel {
            anyhow::ensure!(
                k % 2 == 1 && k >= 1,
                "generator.impute_kernel must be odd, got {k}"
            );
        }
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.refine_hole_confidence),
            "generator.refine_hole_confidence must be in [0, 1]"
        );
        crate::hole::check_share("generator.hole_dilation", self.hole_dilation)?;
        Ok(())
    }

    fn impute_kernel_at(&self, side: usize) -> usize {
        self.impute_kernel.unwrap_or(if side <= 8 { 3 } else { 5 })
    }

    /// The layers of one generator, in order, with where the resolution changes.
    fn plan(&self) -> Vec<Step> {
        let w = self.width;
        let s = self.image_size;
        let guide = if self.landmark_guide {
            GUIDE_CHANNELS
        } else {
            0
        };
        let mut steps = Vec::new();
        let conv =
            |steps: &mut Vec<Step>, inputs, outputs, kernel, dilation, side, decoder: bool| {
                let norm = if decoder && !self.decoder_norm {
                    NormKind::None
                } else {
                    self.norm
                };
                steps.push(Step::Conv(ConvSpec {
                    kind: self.conv,
                    inputs,
                    outputs,
                    kernel,
                    dilation,
                    impute_kernel: self.impute_kernel_at(side),
                    norm,
                    activation: Some(self.activation),
                    guide,
                }))
            };
        conv(&mut steps, 4, w, 5, 1, s, false);
        steps.push(Step::Down);
        conv(&mut steps, w, 2 * w, 3, 1, s / 2, false);
        conv(&mut steps, 2 * w, 2 * w, 3, 1, s / 2, false);
        steps.push(Step::Down);
        conv(&mut steps, 2 * w, 4 * w, 3, 1, s / 4, false);
        conv(&mut steps, 4 * w, 4 * w, 3, 1, s / 4, false);
        for d in DILATIONS {
            conv(&mut steps, 4 * w, 4 * w, 3, d, s / 4, false);
        }
        conv(&mut steps, 4 * w, 4 * w, 3, 1, s / 4, true);
        conv(&mut steps, 4 * w, 4 * w, 3, 1, s / 4, true);
        steps.push(Step::Up);
        conv(&mut steps, 4 * w, 2 * w, 3, 1, s / 2, true);
        conv(&mut steps, 2 * w, 2 * w, 3, 1, s / 2, true);
        steps.push(Step::Up);
        conv(&mut steps, 2 * w, w, 3, 1, s, true);
        conv(&mut steps, w, w / 2, 3, 1, s, true);
        steps.push(Step::Conv(ConvSpec {
            kind: self.conv,
            inputs: w / 2,
            outputs: 3,
            kernel: 3,
            dilation: 1,
            impute_kernel: self.impute_kernel_at(s),
            norm: NormKind::None,
            activation: None,
            guide,
        }));
        steps
    }

    pub fn init_generator<B: KernelBackend>(&self, device: &B::Device) -> Generator<B> {
        let plan = self.plan();
        let convs = plan
            .iter()
            .filter_map(|s| match s {
                Step::Conv(spec) => Some(FeatureConv::new(*spec, device)),
                _ => None,
            })
            .collect();
        let layout = plan
            .iter()
            .map(|s| match s {
                Step::Conv(_) => 0,
                Step::Down => 1,
                Step::Up => 2,
            })
            .collect();
        Generator {
            convs,
            layout,
            kind: self.conv,
            guided: self.landmark_guide,
        }
    }

    pub fn init<B: KernelBackend>(&self, device: &B::Device) -> InpaintNet<B> {
        InpaintNet {
            coarse: self.init_generator(device),
            refine: self.init_generator(device),
            refine_hole_confidence: self.refine_hole_confidence as f64,
            hole_dilation: self.hole_dilation as f64,
            colour_match: self.colour_match,
            landmark_guide: self.landmark_guide,
        }
    }
}

enum Step {
    Conv(ConvSpec),
    Down,
    Up,
}

/// One generator (coarse or refine).
#[derive(Module, Debug)]
pub struct Generator<B: Backend> {
    convs: Vec<FeatureConv<B>>,
    /// 0 = next conv, 1 = downsample, 2 = upsample.
    layout: Vec<usize>,
    #[module(skip)]
    kind: ConvKind,
    /// Every conv takes the landmark guide at its resolution besides its features.
    guided: bool,
}

impl<B: KernelBackend> Generator<B> {
    /// `x` `[N, 4, S, S]` (image in `[-1, 1]` with the hole zeroed, and the hole channel) with
    /// the known mask `m` to an image in `[-1, 1]`. A guided generator takes `guides`: the
    /// landmark guide at `S`, `S/2` and `S/4` (`[N, GUIDE_CHANNELS, ., .]`).
    pub fn forward(
        &self,
        x: Tensor<B, 4>,
        m: Tensor<B, 4>,
        guides: Option<&[Tensor<B, 4>; 3]>,
    ) -> Tensor<B, 4> {
        let guides = if self.guided {
            Some(guides.expect("a guided generator is given the landmark guide"))
        } else {
            None
        };
        let (mut x, mut m) = (x, m);
        let mut level = 0;
        let mut convs = self.convs.iter();
        for step in &self.layout {
            (x, m) = match step {
                0 => convs.next().expect("one conv per step").forward(
                    x,
                    m,
                    guides.map(|g| g[level].clone()),
                ),
                1 => {
                    level += 1;
                    downsample(self.kind, x, m)
                }
                _ => {
                    level -= 1;
                    upsample(x, m)
                }
            };
        }
        x.tanh()
    }
}

/// The outputs of one pass, all in `[0, 1]`.
pub struct Inpainted<B: Backend> {
    pub coarse: Tensor<B, 4>,
    pub refine: Tensor<B, 4>,
    /// The refine output in the hole, the input everywhere else.
    pub fin: Tensor<B, 4>,
}

/// Coarse and refine generators.
#[derive(Module, Debug)]
pub struct InpaintNet<B: Backend> {
    pub coarse: Generator<B>,
    pub refine: Generator<B>,
    refine_hole_confidence: f64,
    hole_dilation: f64,
    colour_match: bool,
    landmark_guide: bool,
}

impl<B: KernelBackend> InpaintNet<B> {
    /// Whether [`Self::forward`] needs the landmark guide of each face.
    pub fn needs_guide(&self) -> bool {
        self.landmark_guide
    }

    /// `hole` `[N, 1, S, S]` grown by the generator's `hole_dilation`: the hole to fill.
    pub fn grow_hole(&self, hole: Tensor<B, 4>) -> Tensor<B, 4> {
        crate::hole::grow_by_share(hole, self.hole_dilation as f32)
    }

    /// The composite a user gets: the refine output in `hole` (grown already), colour-matched
    /// when the generator asks for it, and `image` elsewhere. `[N, 3, S, S]` in `[0, 1]`.
    pub fn fill(
        &self,
        image: Tensor<B, 4>,
        hole: Tensor<B, 4>,
        guide: Option<Tensor<B, 4>>,
    ) -> Tensor<B, 4> {
        let out = self.forward(image.clone(), hole.clone(), guide);
        self.paste_back(&out, image, hole)
    }

    /// [`Self::fill`] from a pass already made (`out` of `forward(image, hole)`).
    pub fn paste_back(
        &self,
        out: &Inpainted<B>,
        image: Tensor<B, 4>,
        hole: Tensor<B, 4>,
    ) -> Tensor<B, 4> {
        if !self.colour_match {
            return out.fin.clone();
        }
        let matched = crate::paste::match_colour(out.refine.clone(), image.clone(), hole.clone());
        composite(matched.clamp(0.0, 1.0), image, hole)
    }

    /// The share of the side by which holes grow before they are filled.
    pub fn hole_dilation(&self) -> f32 {
        self.hole_dilation as f32
    }

    /// `image` `[N, 3, S, S]` in `[0, 1]` (hole content ignored), `hole` `[N, 1, S, S]`,
    /// `guide` `[N, GUIDE_CHANNELS, S, S]` (required when [`Self::needs_guide`], ignored
    /// otherwise).
    pub fn forward(
        &self,
        image: Tensor<B, 4>,
        hole: Tensor<B, 4>,
        guide: Option<Tensor<B, 4>>,
    ) -> Inpainted<B> {
        let guides = self.landmark_guide.then(|| {
            let g = guide.expect("this GAN draws along the landmarks: it needs their guide");
            let pool = |t: Tensor<B, 4>| avg_pool2d(t, [2, 2], [2, 2], [0, 0], true);
            let half = pool(g.clone());
            let quarter = pool(half.clone());
            [g, half, quarter]
        });
        let known = hole.clone().neg().add_scalar(1.0);
        let signed = unmask_train::ops::mul_mask(
            image.clone().mul_scalar(2.0).sub_scalar(1.0),
            known.clone(),
        );
        let coarse = self.coarse.forward(
            Tensor::cat(vec![signed.clone(), hole.clone()], 1),
            known.clone(),
            guides.as_ref(),
        );
        let filled = composite(coarse.clone(), signed, hole.clone());
        let trust = known.clone() + hole.clone().mul_scalar(self.refine_hole_confidence);
        let refine = self.refine.forward(
            Tensor::cat(vec![filled, hole.clone()], 1),
            trust,
            guides.as_ref(),
        );
        let to_unit = |t: Tensor<B, 4>| t.add_scalar(1.0).mul_scalar(0.5);
        let refine = to_unit(refine);
        Inpainted {
            coarse: to_unit(coarse),
            fin: composite(refine.clone(), image, hole),
            refine,
        }
    }
}

/// `generated` inside the hole, `original` elsewhere. With a binary hole the known pixels are
/// `original`'s bit for bit.
pub fn composite<B: Backend>(
    generated: Tensor<B, 4>,
    original: Tensor<B, 4>,
    hole: Tensor<B, 4>,
) -> Tensor<B, 4> {
    let known = hole.clone().neg().add_scalar(1.0);
    unmask_train::ops::mul_mask(generated, hole) + unmask_train::ops::mul_mask(original, known)
}
