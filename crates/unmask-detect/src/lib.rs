//! Finding faces and their 68 landmarks in photos: face-api's tiny face detector and landmark net (a Tiny-YOLOv2 with depthwise
//! separable convolutions) ported to burn, fed exactly as face-api feeds it, so its boxes
//! match the JavaScript package's (checked against `tests/reference/face_api/`).
//!
//! - [`input`]: pad to a square, TF's legacy bilinear resize, mean subtraction.
//! - [`detector`]: the network, box decoding and non-maximum suppression.
//! - [`landmarks`]: the 68-point landmark net on each face's crop.
//! - [`faces`]: both nets loaded from the weights store and run together.
//! - [`align`]: FFHQ-style aligned crops from the landmarks, and pasting results back.
//! - [`photo`]: reading photos upright as RGB, refusing cut-off or huge ones.

pub mod align;
pub mod detector;
pub mod faces;
pub mod input;
pub mod landmarks;
pub mod photo;

pub use align::{feathered, mouth_and_chin, Alignment};
pub use detector::{FaceBox, TinyFaceDetector, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD};
pub use faces::FaceFinder;
pub use landmarks::{LandmarkNet, Landmarks68};
pub use photo::{read_photo, MAX_PIXELS};

/// The values of an output tensor (what names it in the error).
pub(crate) fn values<B: burn::tensor::backend::Backend, const D: usize>(
    t: burn::tensor::Tensor<B, D>,
    what: &str,
) -> anyhow::Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .to_vec()
        .map_err(|e| anyhow::anyhow!("reading the {what} output: {e:?}"))
}
