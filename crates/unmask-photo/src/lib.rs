//! The photo path as a library: what `unmask PHOTO -o OUT` and the `eval-unmask` stage run.
//!
//! - [`unmasker`]: [`Unmasker`] finds the faces, segments, checks, inpaints and pastes back.
//! - [`hole_shape`]: the segmenter's hole completed to a face mask's shape.
//! - [`upper_face`]: the lower face's landmarks fitted to the eyes and brows, which a mask
//!   leaves visible.
//! - [`report`]: what was done to a photo, serialisable (`unmask --json`, `unmask serve`).
//! - [`wear`]: synthetic masks drawn on the faces of real photos, with their exact masks.
//! - [`evaluation`]: masks drawn on real photos, unmasked end to end, and scored against the
//!   bare photos next to Telea's and the mean-colour fill on the same holes.

pub mod evaluation;
pub mod hole_shape;
pub mod report;
pub mod unmasker;
pub mod upper_face;
pub mod wear;

pub use evaluation::{evaluate_photos, EvalUnmaskParams, UnmaskSummary};
pub use report::{FaceReport, PhotoReport};
pub use unmasker::{
    FaceChoice, FaceOutcome, InvalidOverrides, MaskSource, Overrides, Progress, UnmaskSettings,
    Unmasked, Unmasker,
};
pub use wear::{wear_masks, Worn};
