//! Finding faces in photos: face-api's tiny face detector (a Tiny-YOLOv2 with depthwise
//! separable convolutions) ported to burn, fed exactly as face-api feeds it, so its boxes
//! match the JavaScript package's (checked against `tests/reference/face_api/`).
//!
//! - [`input`]: pad to a square, TF's legacy bilinear resize, mean subtraction.
//! - [`detector`]: the network, box decoding and non-maximum suppression.

pub mod detector;
pub mod input;

pub use detector::{FaceBox, TinyFaceDetector, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD};
