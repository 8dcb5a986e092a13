use thiserror::Error;

/// Why a mask could not be placed or rendered.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MaskError {
    #[error("landmark {index} is not finite")]
    NonFiniteLandmark { index: usize },
    #[error("landmark {index} is out of range ({x}, {y})")]
    LandmarkOutOfRange { index: usize, x: f32, y: f32 },
    #[error("degenerate landmarks: {0}")]
    DegenerateLandmarks(String),
    #[error("the homography is singular or ill-conditioned")]
    SingularHomography,
    #[error("the mask does not fit the image: {0}")]
    MaskOutsideImage(String),
    #[error("the face image is empty")]
    EmptyImage,
    #[error("invalid colour {0:?}: expected #rrggbb")]
    InvalidColor(String),
    #[error("invalid mask configuration: {0}")]
    InvalidConfig(String),
}
