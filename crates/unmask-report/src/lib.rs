//! Evaluation reports: the numbers the stages wrote, turned into something to read.
//!
//! - [`bootstrap`]: means with percentile-bootstrap intervals, seeded (from unmask-core, which
//!   the photo evaluation shares).
//! - [`table`]: the ablation table (markdown, parquet) with the best value per column marked.
//! - [`paired`]: per-image differences against the base and Telea, with paired intervals.
//! - [`chart`]: loss curves as inline SVG.
//! - [`html`]: self-contained HTML pieces (inline images, escaping).
//! - [`ablation`]: `ablation.md`, `ablation.parquet` and `report.html` of an ablation run.
//! - [`nightly`]: the nightly scores of the newest models (scored by its caller), compared
//!   with the last night.

pub mod ablation;
pub mod chart;
pub mod html;
pub mod nightly;
pub mod paired;
pub mod table;

pub use ablation::{AblationInputs, AblationReportParams, InputStage};
pub use nightly::{NightlyModels, NightlyOutcome, NightlyParams, NightlyScorer, NightlyScoring};
pub use unmask_core::bootstrap::{self, Interval};
