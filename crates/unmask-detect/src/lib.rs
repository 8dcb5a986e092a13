//! Finding faces and their 68 landmarks in photos: face-api's tiny face detector and landmark net (a Tiny-YOLOv2 with depthwise
//! separable convolutions) ported to burn, fed exactly as face-api feeds it, so its boxes
//! match the JavaScript package's (checked against `tests/reference/face_api/`).
//!
//! - [`input`]: pad to a square, TF's legacy bilinear resize, mean subtraction.
//! - [`detector`]: the network, box decoding and non-maximum suppression.
//! - [`landmarks`]: the 68-point landmark net on each face's crop.
//! - [`align`]: FFHQ-style aligned crops from the landmarks, and pasting results back.
//! - [`photo`]: reading photos upright as RGB, refusing cut-off or huge ones.

pub mod align;
pub mod detector;
pub mod input;
pub mod landmarks;
pub mod photo;

pub use align::{feathered, Alignment};
pub use detector::{FaceBox, TinyFaceDetector, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD};
pub use landmarks::{LandmarkNet, Landmarks68};
pub use photo::{read_photo, MAX_PIXELS};
