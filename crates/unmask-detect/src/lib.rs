//! Finding faces and their 68 landmarks in photos: face-api's tiny face detector and landmark net (a Tiny-YOLOv2 with depthwise
//! separable convolutions) ported to burn, fed exactly as face-api feeds it, so its boxes
//! match the JavaScript package's (checked against `tests/reference/face_api/`).
//!
//! - [`input`]: pad to a square, TF's legacy bilinear resize, mean subtraction.
//! - [`detector`]: the tiny detector, box decoding and non-maximum suppression.
//! - [`ssd`]: face-api's SSD MobileNet v1 detector (slower, finds more masked faces).
//! - [`landmarks`]: the 68-point landmark net on each face's crop.
//! - [`upright`]: its second look at a tilted face, turned upright by the first look's eyes.
//! - [`recognition`]: the face recognition net (128-d descriptors, identity similarity).
//! - [`faces`]: a detector and the landmark net loaded from the weights store, run together.
//! - [`align`]: FFHQ-style aligned crops from the landmarks, and pasting results back.

pub mod align;
pub mod detector;
pub mod faces;
pub mod input;
pub mod landmarks;
pub mod recognition;
pub mod ssd;
pub mod upright;

pub use align::{feathered, lower_face, mouth_and_chin, Alignment};
pub use detector::{FaceBox, TinyFaceDetector, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD};
pub use faces::{Detector, DetectorKind, FaceFinder, FACE_CROP_BOX};
pub use landmarks::{LandmarkNet, Landmarks68};
pub use recognition::{Descriptor, FaceRecognitionNet, DESCRIPTOR_LEN, RECOGNITION_INPUT};
// Photos are read where every crate can (unmask-core), with the same checks.
pub use ssd::{SsdMobilenetV1, SSD_DEFAULT_MIN_CONFIDENCE, SSD_INPUT_SIZE};
pub use unmask_core::photo::{read_photo, MAX_PIXELS};

/// A TF.js kernel (`[h, w, in, out]`, or `[h, w, C, 1]` for a depthwise one) in burn's
/// `[out, in, h, w]` layout, stored that way: a permuted view would be copied again by every
/// convolution that uses it.
pub(crate) fn burn_kernel<B: burn::tensor::backend::Backend>(
    tf: burn::tensor::Tensor<B, 4>,
    depthwise: bool,
) -> burn::tensor::Tensor<B, 4> {
    let device = tf.device();
    let order = if depthwise {
        [2, 3, 0, 1]
    } else {
        [3, 2, 0, 1]
    };
    burn::tensor::Tensor::from_data(tf.permute(order).into_data(), &device)
}

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
