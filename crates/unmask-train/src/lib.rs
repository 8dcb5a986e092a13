//! Training plumbing shared by the segmenter and the inpainting GAN.
//!
//! - [`backend`]: `device: cpu | cuda` in a config picks the burn backend (flex or cuda).
//! - [`autodiff`]: one training at a time per process, around a race in burn 0.21's autodiff.
//! - [`seed`]: seeded weight initialisation that concurrent trainings cannot disturb.
//! - [`order`]: the per-epoch sample order, a function of `(seed, epoch)` alone, so a resumed
//!   run sees the same batches as an uninterrupted one.
//! - [`images`]: PNG files to `[N, C, H, W]` tensors and back, and a prefetching batch loader.
//! - [`checkpoint`]: folders of burn records swapped in atomically.
//! - [`log`]: per-step and per-epoch metric logs in parquet, truncated on resume.
//! - [`schedule`]: the learning rate over a run (constant or cosine).
//! - [`ema`]: an exponential moving average of a model's weights (for generators).
//! - [`trainer`]: the one training loop every model plugs its step and validation into.
//! - [`scores`]: a model's score row, evaluation tables and summaries.
//! - [`models`]: trained models' folders, descriptions and weights.

pub mod autodiff;
pub mod backend;
pub mod checkpoint;
pub mod ema;
pub mod images;
pub mod log;
pub mod models;
pub mod ops;
pub mod order;
pub mod schedule;
pub mod scores;
pub mod seed;
pub mod trainer;

pub use backend::{DeviceKind, InferJob, TrainJob};
pub use models::ModelInfo;
pub use schedule::LrSchedule;
pub use scores::{EvalSummary, ScoreRow};
pub use trainer::{RunConfig, TrainControl, Trainee};
