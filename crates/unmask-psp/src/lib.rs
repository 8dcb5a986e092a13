//! The pSp encoder (Richardson et al. 2021) over the StyleGAN2 generator, trained and
//! evaluated as the report's second comparison (4.3.2): a masked face is encoded into W+ and
//! the generator draws the face without the mask.
//!
//! - [`model`]: the residual backbone, the feature pyramid and the map2style heads
//!   ([`Encoder`]), and [`Psp`], the encoder with its generator.
//! - [`data`]: the masks stage's pairs in the generator's range, the fixed noise.
//! - [`loss`]: `λ1 L2 + λ2 LPIPS + λ3 ID` (the report's eq. 2-5).
//! - [`scores`]: the validation row, with L1 outside the hole.
//! - [`inference`]: the saved model, raw and composited outputs.
//! - [`training`]: the step, plugged into the shared training loop (`train-psp`).
//! - [`evaluation`]: the raw or composited output scored by the inpainting evaluation
//!   (`eval-psp`).
//!
//! Modules only use those listed above them.

pub mod data;
pub mod evaluation;
pub mod inference;
pub mod loss;
pub mod model;
pub mod scores;
pub mod training;

pub use evaluation::{EvalPspParams, PspOutput};
pub use inference::{PspModel, Unmasked};
pub use model::{Encoder, EncoderConfig, Psp};
pub use training::{train, TrainControl, TrainOutcome, TrainPspConfig};
