//! face-api's two nets as one: the faces of a photo, each with its 68 landmarks.

use crate::detector::{FaceBox, TinyFaceDetector};
use crate::landmarks::{LandmarkNet, Landmarks68};
use anyhow::Result;
use burn::tensor::backend::Backend;
use image::RgbImage;
use unmask_weights::{Asset, WeightStore};

pub struct FaceFinder<B: Backend> {
    pub detector: TinyFaceDetector<B>,
    pub landmarks: LandmarkNet<B>,
}

impl<B: Backend> FaceFinder<B> {
    /// Both nets, fetched into the weights store when missing.
    pub fn load(store: &WeightStore, device: &B::Device) -> Result<Self> {
        Ok(Self {
            detector: TinyFaceDetector::load(&store.path(Asset::TinyFaceDetector)?, device)?,
            landmarks: LandmarkNet::load(&store.path(Asset::FaceLandmark68)?, device)?,
        })
    }

    /// The faces scoring at least `min_score` at detector input `input_size`, best first,
    /// and their landmarks in photo coordinates.
    pub fn find(
        &self,
        img: &RgbImage,
        input_size: usize,
        min_score: f64,
    ) -> Result<(Vec<FaceBox>, Vec<Landmarks68>)> {
        let boxes = self.detector.detect(img, input_size, min_score)?;
        let points = self.landmarks.landmarks(img, &boxes)?;
        Ok((boxes, points))
    }
}
