//! Mask segmentation: the report's UNet with Dice loss (eq. 1).
//!
//! - [`model`]: the UNet and its config (depth, width, normalisation, input size).
//! - [`loss`]: Dice loss exactly as eq. 1, optional BCE.
//! - [`augment`]: what training shows of each sample (negatives, colour, framing).
//! - [`data`]: masks-stage pairs to batches, decoded in parallel ahead of the model.
//! - [`training`]: Adam, logs, checkpoints, resume, the best model by validation score.
//! - [`evaluation`]: Dice, IoU, pixel accuracy, precision and recall, overall and per mask type.
//! - [`inference`]: [`Segmenter`], masks for images of any size.

pub mod augment;
pub mod data;
pub mod evaluation;
pub mod inference;
pub mod loss;
pub mod model;
pub mod training;

pub use augment::AugmentConfig;
pub use evaluation::{EvalSegParams, EvalSummary, ValScores};
pub use inference::{latest_model, Segmenter, SegmenterInfo};
pub use model::{Norm, UNet, UNetConfig};
pub use training::{train, LrSchedule, TrainControl, TrainOutcome, TrainSegConfig};
