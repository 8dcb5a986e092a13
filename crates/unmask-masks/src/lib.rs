//! MaskTheFace-style synthetic face masks, rendered from 68 facial landmarks.
//!
//! The placement follows MaskTheFace (Anwar & Raychowdhury, 2020): six anchor points are
//! derived from the landmarks ([`anchor_points`]), a mask template's own six anchor points are
//! mapped onto them by a homography ([`Homography`]) and the template is composited over the
//! face. Unlike MaskTheFace the templates are parametric drawings ([`Template`]), so they can
//! be recoloured and textured per sample, and the binary mask of the rendered pixels is
//! returned alongside the image ([`RenderedMask`]).
//!
//! Coordinates are image pixels, x right and y down, with pixel `(i, j)` centred on
//! `(i + 0.5, j + 0.5)` (the convention of `unmask-core`). Everything is deterministic:
//! randomness only enters through the `Rng` handed to [`sample_style`].

// Negated comparisons are how this crate rejects NaN along with out-of-range values.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

mod anchors;
mod appearance;
pub mod dataset;
mod error;
mod homography;
mod linalg;
mod mean_face;
pub mod pairs;
mod raster;
mod render;
mod templates;

pub use anchors::{
    anchor_points, face_tilt_degrees, AnchorPoints, TemplateVariant, TILT_THRESHOLD_DEGREES,
};
pub use appearance::{ColorBlend, Pattern, PatternStyle, Rgb};
pub use error::MaskError;
pub use homography::Homography;
pub use mean_face::{mean_face, MEAN_FACE};
pub use pairs::{example_pairs, ids_and_types, read_pairs, read_split, sorted_split, MaskedPair};
pub use render::{render_mask, sample_style, MaskConfig, MaskStyle, RenderedMask};
pub use templates::{MaskType, Template, TexelSample};

/// A point in image (or template) pixel coordinates: `[x, y]`.
pub type Point = [f32; 2];

/// Number of landmarks in the iBUG 68-point layout.
pub const N_LANDMARKS: usize = 68;
