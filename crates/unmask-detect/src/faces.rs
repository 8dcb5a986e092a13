//! face-api's nets as one: the faces of a photo, each with its 68 landmarks, found by either
//! of face-api's detectors.

use crate::detector::{FaceBox, TinyFaceDetector, DEFAULT_INPUT_SIZE};
use crate::landmarks::{LandmarkNet, Landmarks68};
use crate::ssd::SsdMobilenetV1;
use anyhow::Result;
use burn::tensor::backend::Backend;
use image::RgbImage;
use unmask_weights::{Asset, WeightStore};

/// Which of face-api's detectors finds the faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Detector {
    /// SSD MobileNet v1 at 512x512 (face-api's default): finds more faces, masked ones
    /// included, about five times slower than the tiny one.
    #[default]
    Ssd,
    /// The tiny detector at `input_size` (a multiple of 32; face-api's default 416).
    Tiny { input_size: usize },
}

impl Detector {
    /// The tiny detector at face-api's default input size.
    pub const TINY: Detector = Detector::Tiny {
        input_size: DEFAULT_INPUT_SIZE,
    };

    /// Checks the settings before any model is loaded.
    pub fn validate(self) -> Result<()> {
        if let Detector::Tiny { input_size } = self {
            anyhow::ensure!(
                input_size >= 32 && input_size.is_multiple_of(32),
                "the tiny detector's input size must be a multiple of 32, got {input_size}"
            );
        }
        Ok(())
    }
}

enum Net<B: Backend> {
    Ssd(SsdMobilenetV1<B>),
    Tiny(TinyFaceDetector<B>, usize),
}

pub struct FaceFinder<B: Backend> {
    detector: Net<B>,
    pub landmarks: LandmarkNet<B>,
}

impl<B: Backend> FaceFinder<B> {
    /// The chosen detector and the 68-point landmark net, fetched into the weights store
    /// when missing.
    pub fn load(store: &WeightStore, detector: Detector, device: &B::Device) -> Result<Self> {
        detector.validate()?;
        let detector = match detector {
            Detector::Ssd => Net::Ssd(SsdMobilenetV1::load(
                &store.path(Asset::SsdMobilenetV1)?,
                device,
            )?),
            Detector::Tiny { input_size } => Net::Tiny(
                TinyFaceDetector::load(&store.path(Asset::TinyFaceDetector)?, device)?,
                input_size,
            ),
        };
        Ok(Self {
            detector,
            landmarks: LandmarkNet::load(&store.path(Asset::FaceLandmark68)?, device)?,
        })
    }

    /// The faces scoring above `min_score`, best first, in photo pixels.
    pub fn detect(&self, img: &RgbImage, min_score: f64) -> Result<Vec<FaceBox>> {
        match &self.detector {
            Net::Ssd(net) => net.detect(img, min_score),
            Net::Tiny(net, input_size) => net.detect(img, *input_size, min_score),
        }
    }

    /// The faces scoring above `min_score`, best first, and their landmarks in photo
    /// coordinates.
    pub fn find(&self, img: &RgbImage, min_score: f64) -> Result<(Vec<FaceBox>, Vec<Landmarks68>)> {
        let boxes = self.detect(img, min_score)?;
        let points = self.landmarks.landmarks(img, &boxes)?;
        Ok((boxes, points))
    }
}
