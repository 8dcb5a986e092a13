//! Mask segmentation: the report's UNet with Dice loss (eq. 1).
//!
//! - [`model`]: the UNet and its config (depth, width, normalisation, input size).
//! - [`loss`]: Dice loss exactly as eq. 1, optional BCE.
//! - [`augment`]: what training shows of each sample (negatives, colour, framing).
//! - [`data`]: masks-stage pairs to batches, decoded in parallel ahead of the model.
//! - [`inference`]: [`Segmenter`], masks for images of any size; the saved files' names.
//! - [`scores`]: the score row (Dice, IoU, pixel accuracy, precision, recall, bare-face false
//!   alarms) of one image.
//! - [`training`]: Adam on the loss, plugged into the shared training loop; the best model by
//!   validation score.
//! - [`evaluation`]: the `eval-seg` stage, overall and per mask type.
//!
//! Modules only use those listed above them.

pub mod augment;
pub mod data;
pub mod evaluation;
pub mod inference;
pub mod loss;
pub mod model;
pub mod scores;
pub mod training;

pub use augment::AugmentConfig;
pub use evaluation::{EvalSegParams, EvalSummary};
pub use inference::{latest_model, Segmenter, SegmenterInfo};
pub use model::{Norm, UNet, UNetConfig};
pub use scores::ValScores;
pub use training::{train, TrainControl, TrainOutcome, TrainSegConfig};
pub use unmask_train::LrSchedule;
