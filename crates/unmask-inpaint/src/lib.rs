//! The inpainting GAN: coarse and refine generators of identical structure built from imputed
//! convolutions (DeepPrivacy; gated or plain ones for the ablation), dilated blocks, an
//! SN-PatchGAN discriminator, and adversarial + perceptual + L1 losses.
//!
//! - [`layers`]: imputed / gated / plain feature convolutions, mask update, resampling, norms.
//! - [`model`]: the generators and the coarse-to-fine network ([`InpaintNet`]).
//! - [`discriminator`]: SN-PatchGAN with spectral normalisation by power iteration.
//! - [`loss`]: hinge, hole-weighted L1, VGG16 perceptual.
//! - [`hole`]: growing the hole over the mask's rim before it is filled.
//! - [`guide`]: the landmark guide (lips, jaw and nose drawn from the 68 points) a guided
//!   generator reads beside the image.
//! - [`grain`]: the photo path's grain matched to the ring around the hole.
//! - [`paste`]: the fill's colour matched to the ring around the hole at paste-back.
//! - [`data`]: masks-stage pairs to batches (and which holes: true or the segmenter's).
//! - [`inference`]: [`Inpainter`], a face of any size filled; the saved files' names.
//! - [`scores`]: the score row of one image for the GAN or a classical fill.
//! - [`training`]: the GAN's step, plugged into the shared training loop; sample grids.
//! - [`evaluation`]: the `eval-inpaint` and `eval-baseline` stages, example images.
//!
//! Modules only use those listed above them.
//! - [`baseline`]: the classical fills (mean colour, [`telea`]'s fast-marching diffusion).

pub mod baseline;
pub mod data;
pub mod discriminator;
pub mod evaluation;
pub mod grain;
pub mod guide;
pub mod hole;
pub mod inference;
pub mod layers;
pub mod loss;
pub mod model;
pub mod paste;
pub mod scores;
pub mod telea;
pub mod training;

pub use baseline::BaselineMethod;
pub use data::MaskSource;
pub use evaluation::{EvalBaselineParams, EvalInfo, EvalInpaintParams};
pub use inference::{latest_model, Inpainter, InpainterInfo};
pub use model::{GeneratorConfig, InpaintNet};
pub use scores::InpaintScores;
pub use training::{train, TrainControl, TrainInpaintConfig, TrainInputs, TrainOutcome};
