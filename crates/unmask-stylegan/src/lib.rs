//! StyleGAN2 (Karras et al. 2020), the generator of the report's second comparison (4.3.2),
//! trained from scratch on the faces stage's faces: no registry ships FFHQ weights.
//!
//! - [`layers`]: equalised-learning-rate layers, the modulated convolution, blur.
//! - [`model`]: the mapping and synthesis networks ([`Generator`]), W+ and the mean latent.
//! - [`discriminator`]: the residual discriminator with the minibatch standard deviation.
//! - [`loss`]: the non-saturating logistic loss and R1 (without double backward).
//! - [`data`]: the faces of the masks stage's splits; the seeded latents and noise.
//! - [`inference`]: the saved generator, random faces and their grids.
//! - [`scores`]: the per-epoch validation row (discriminator logits).
//! - [`training`]: the step, plugged into the shared training loop (`train-stylegan`).
//!
//! Modules only use those listed above them.

pub mod data;
pub mod discriminator;
pub mod inference;
pub mod layers;
pub mod loss;
pub mod model;
pub mod scores;
pub mod training;

pub use discriminator::{Discriminator, DiscriminatorConfig};
pub use inference::{StyleGan, StyleGanInfo};
pub use model::{Generator, GeneratorConfig};
pub use scores::StyleScores;
pub use training::{train, TrainControl, TrainOutcome, TrainStyleGanConfig};
