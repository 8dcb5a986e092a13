//! [`Unmasker`]: the whole photo path. Every face found is aligned and cropped, its mask
//! segmented and checked (a confident mask over the mouth and chin), inpainted, and pasted back
//! with a feathered blend at the photo's own resolution. Pixels outside the feathered hole
//! are the input's bit for bit; a photo without a face or a mask comes back unchanged.

use anyhow::Result;
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use unmask_detect::{
    feathered, mouth_and_chin, Alignment, Detector, FaceBox, FaceFinder, Landmarks68,
};
use unmask_inpaint::Inpainter;
use unmask_kernels::KernelBackend;
use unmask_seg::{inference::binarize, Segmenter};
use unmask_weights::WeightStore;

/// The side of the aligned face crop the models see.
pub const CROP_SIZE: u32 = 256;

/// How [`Unmasker`] decides which faces to fill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnmaskSettings {
    /// The smallest face score. Masked faces score lower than bare ones (on face-api's demo
    /// photos with synthetic masks SSD finds 15 of 22 above 0.5, 20 above 0.3), and a bare face
    /// found by mistake is left alone by the mask check.
    pub min_face_score: f64,
    /// A face is left alone unless the confidently segmented mask covers at least this share
    /// of its mouth and chin (a face mask covers all of it; stray marks on a bare face do not).
    pub min_coverage: f64,
    /// The mask probability above which a pixel counts towards `min_coverage` (the hole that
    /// is filled keeps the segmenter's own threshold).
    pub sure_probability: f32,
}

impl Default for UnmaskSettings {
    fn default() -> Self {
        Self {
            min_face_score: 0.3,
            min_coverage: 0.75,
            sure_probability: 0.85,
        }
    }
}

impl UnmaskSettings {
    /// Errors name the fields as `unmask.FIELD` (their place in `eval-unmask`'s parameters).
    pub fn validate(&self) -> Result<()> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.min_coverage),
            "unmask.min_coverage must be in [0, 1], got {}",
            self.min_coverage
        );
        // Probabilities are compared as bytes against round(p * 255); 0.99 keeps a margin
        // below the top byte, so a near-certain pixel always counts.
        anyhow::ensure!(
            (0.0..=0.99).contains(&self.sure_probability),
            "unmask.sure_probability must be in [0, 0.99], got {}",
            self.sure_probability
        );
        // 0 would keep every one of SSD's 5,118 anchors, 1 none.
        anyhow::ensure!(
            self.min_face_score > 0.0 && self.min_face_score < 1.0,
            "unmask.min_face_score must be between 0 and 1 (exclusive), got {}",
            self.min_face_score
        );
        Ok(())
    }
}

/// What happened to one face.
#[derive(Clone, Debug)]
pub struct FaceOutcome {
    pub face: FaceBox,
    pub landmarks: Landmarks68,
    /// Share of the aligned crop the segmenter calls mask.
    pub mask_area: f64,
    /// Share of the mouth and chin the confident part of that mask covers.
    pub mouth_chin_coverage: f64,
    pub unmasked: bool,
    /// Why a face with some mask found was left alone.
    pub skipped: Option<String>,
    /// Photo pixels the paste changed.
    pub changed_pixels: usize,
}

/// Milliseconds per step of [`Unmasker::unmask`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timings {
    pub detect: f64,
    pub landmarks: f64,
    pub segment: f64,
    pub inpaint: f64,
    pub paste: f64,
}

/// The result of [`Unmasker::unmask`].
pub struct Unmasked {
    pub image: RgbImage,
    pub faces: Vec<FaceOutcome>,
    /// The holes that were filled (grown, of the faces unmasked) at the photo's size, 255
    /// inside.
    pub filled: GrayImage,
    pub timings: Timings,
}

impl Unmasked {
    pub fn faces_unmasked(&self) -> usize {
        self.faces.iter().filter(|f| f.unmasked).count()
    }
}

/// Detector, landmarks, segmenter and GAN, loaded once for many photos.
pub struct Unmasker<B: KernelBackend> {
    pub faces: FaceFinder<B>,
    pub segmenter: Segmenter<B>,
    pub inpainter: Inpainter<B>,
    pub settings: UnmaskSettings,
}

impl<B: KernelBackend> Unmasker<B> {
    /// Loads the face-api nets from `store` and the two trained models (a `train-seg` and a
    /// `train-inpaint` folder, or their `best/`).
    pub fn load(
        store: &WeightStore,
        detector: Detector,
        segmenter: &Path,
        gan: &Path,
        settings: UnmaskSettings,
        device: &B::Device,
    ) -> Result<Self> {
        settings.validate()?;
        Ok(Self {
            faces: FaceFinder::load(store, detector, device)?,
            segmenter: Segmenter::load(segmenter, device)?,
            inpainter: Inpainter::load(gan, device)?,
            settings,
        })
    }

    /// Unmasks every masked face of `photo`.
    pub fn unmask(&self, photo: &RgbImage) -> Result<Unmasked> {
        let mut timings = Timings::default();
        let t = Instant::now();
        let boxes = self.faces.detect(photo, self.settings.min_face_score)?;
        timings.detect = ms(t);
        let t = Instant::now();
        let points = self.faces.landmarks.landmarks(photo, &boxes)?;
        timings.landmarks = ms(t);
        let mut out = Pasted {
            image: photo.clone(),
            filled: RgbImage::new(photo.width(), photo.height()),
        };
        let mut faces = Vec::new();
        for (face, lm) in boxes.into_iter().zip(points) {
            faces.push(self.unmask_face(photo, &mut out, face, lm, &mut timings)?);
        }
        Ok(Unmasked {
            image: out.image,
            faces,
            // The paste blends at the crop's edges; the holes are reported binary.
            filled: binarize(&image::DynamicImage::ImageRgb8(out.filled).to_luma8(), 127),
            timings,
        })
    }

    fn unmask_face(
        &self,
        photo: &RgbImage,
        out: &mut Pasted,
        face: FaceBox,
        landmarks: Landmarks68,
        timings: &mut Timings,
    ) -> Result<FaceOutcome> {
        let align = Alignment::ffhq(&landmarks, CROP_SIZE);
        // Cropped from the photo as it was: a face pasted before must not leak into this one.
        let crop = align.crop(photo);
        let t = Instant::now();
        let prob = self
            .segmenter
            .probabilities_at_size(std::slice::from_ref(&crop))
            .remove(0);
        let mask = binarize(&prob, self.segmenter.cut(None));
        // Whether the face wears a mask is judged on the confident part alone: skin the
        // segmenter is unsure about must not turn a bare face into a masked one.
        let sure = binarize(
            &prob,
            self.segmenter.cut(Some(self.settings.sure_probability)),
        );
        timings.segment += ms(t);
        let mask_area = mask.pixels().filter(|p| p.0[0] > 127).count() as f64
            / (mask.width() * mask.height()) as f64;
        let coverage = coverage_of(&sure, &mouth_and_chin(&align, &landmarks));
        let mut outcome = FaceOutcome {
            face,
            landmarks,
            mask_area,
            mouth_chin_coverage: coverage,
            unmasked: false,
            skipped: None,
            changed_pixels: 0,
        };
        if mask_area == 0.0 || coverage < self.settings.min_coverage {
            if mask_area > 0.0 {
                outcome.skipped = Some(format!(
                    "the confidently segmented region covers {:.0}% of the mouth and chin (min_coverage {:.0}%): not a face mask",
                    100.0 * coverage,
                    100.0 * self.settings.min_coverage
                ));
            }
            return Ok(outcome);
        }
        let t = Instant::now();
        let (fill, report) = self.inpainter.inpaint(&crop, &mask)?;
        timings.inpaint += ms(t);
        let t = Instant::now();
        let weight = feathered(&report.filled_hole, 4, 2.0);
        outcome.changed_pixels = align.paste(&mut out.image, &fill, &weight);
        let white = RgbImage::from_pixel(CROP_SIZE, CROP_SIZE, image::Rgb([255; 3]));
        align.paste(&mut out.filled, &white, &report.filled_hole);
        timings.paste += ms(t);
        outcome.unmasked = true;
        Ok(outcome)
    }
}

/// The photo being unmasked and the holes filled so far (white), both at the photo's size.
struct Pasted {
    image: RgbImage,
    filled: RgbImage,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// The share of `region` that `mask` covers (0 for an empty region).
pub fn coverage_of(mask: &GrayImage, region: &GrayImage) -> f64 {
    let (mut inside, mut covered) = (0usize, 0usize);
    for (m, r) in mask.pixels().zip(region.pixels()) {
        if r.0[0] > 127 {
            inside += 1;
            covered += (m.0[0] > 127) as usize;
        }
    }
    if inside == 0 {
        0.0
    } else {
        covered as f64 / inside as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn coverage_counts_the_region_only() {
        // Region: the left half; mask: the top-left quarter plus the whole right half.
        let region = GrayImage::from_fn(8, 8, |x, _| Luma([if x < 4 { 255 } else { 0 }]));
        let mask = GrayImage::from_fn(8, 8, |x, y| {
            Luma([if (x < 4 && y < 4) || x >= 4 { 255 } else { 0 }])
        });
        assert_eq!(coverage_of(&mask, &region), 0.5);
        assert_eq!(coverage_of(&region, &region), 1.0);
        assert_eq!(coverage_of(&mask, &GrayImage::new(8, 8)), 0.0);
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        assert!(UnmaskSettings::default().validate().is_ok());
        for bad in [
            UnmaskSettings {
                min_coverage: 1.5,
                ..Default::default()
            },
            UnmaskSettings {
                sure_probability: 0.995,
                ..Default::default()
            },
            UnmaskSettings {
                min_face_score: 0.0,
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err());
        }
    }
}
