//! face-api's nets as one: the faces of a photo, each with its 68 landmarks, found by either
//! of face-api's detectors.

use crate::detector::{FaceBox, TinyFaceDetector, DEFAULT_INPUT_SIZE, DEFAULT_SCORE_THRESHOLD};
use crate::landmarks::{lies_in, LandmarkNet, Landmarks68};
use crate::ssd::{SsdMobilenetV1, SSD_DEFAULT_MIN_CONFIDENCE};
use anyhow::Result;
use burn::tensor::backend::Backend;
use image::RgbImage;
use serde::{Deserialize, Serialize};
use unmask_kernels::KernelBackend;
use unmask_weights::{Asset, WeightStore};

/// Which of face-api's detectors finds the faces: `ssd` or `tiny` in configs and options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorKind {
    /// SSD MobileNet v1 at 512x512 (face-api's default): finds more faces, masked ones
    /// included, about five times slower than the tiny one.
    #[default]
    Ssd,
    /// The tiny detector: faster, misses more masked faces.
    Tiny,
}

impl DetectorKind {
    /// face-api's default score threshold for this detector.
    pub fn face_api_min_score(self) -> f64 {
        match self {
            DetectorKind::Ssd => SSD_DEFAULT_MIN_CONFIDENCE,
            DetectorKind::Tiny => DEFAULT_SCORE_THRESHOLD,
        }
    }
}

impl std::str::FromStr for DetectorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ssd" => Ok(DetectorKind::Ssd),
            "tiny" => Ok(DetectorKind::Tiny),
            other => Err(format!("unknown detector `{other}`: ssd or tiny")),
        }
    }
}

impl std::fmt::Display for DetectorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DetectorKind::Ssd => "ssd",
            DetectorKind::Tiny => "tiny",
        })
    }
}

/// A detector with its settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detector {
    /// SSD MobileNet v1; it always sees 512x512.
    Ssd,
    /// The tiny detector at `input_size` (a multiple of 32; face-api's default 416).
    Tiny { input_size: usize },
}

impl Detector {
    /// `kind` with face-api's default settings.
    pub fn of_kind(kind: DetectorKind) -> Self {
        match kind {
            DetectorKind::Ssd => Detector::Ssd,
            DetectorKind::Tiny => Detector::Tiny {
                input_size: DEFAULT_INPUT_SIZE,
            },
        }
    }

    /// Checks the settings before any model is loaded.
    pub fn validate(self) -> anyhow::Result<()> {
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

impl<B: KernelBackend> FaceFinder<B> {
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

    /// The faces scoring above `min_score`, best first, in photo pixels. Boxes with less than
    /// a pixel inside the photo (SSD can place one in the padding below a landscape photo)
    /// are dropped: the landmark net would have nothing to look at.
    pub fn detect(&self, img: &RgbImage, min_score: f64) -> Result<Vec<FaceBox>> {
        let mut boxes = match &self.detector {
            Net::Ssd(net) => net.detect(img, min_score)?,
            Net::Tiny(net, input_size) => net.detect(img, *input_size, min_score)?,
        };
        boxes.retain(|b| lies_in(img, b));
        Ok(boxes)
    }

    /// [`Self::detect`] on the whole photo and, for `tiles` n > 1, also on each tile of an
    /// n x n grid of overlapping tiles ([`tile_rects`]), merged. A detector sees
    /// every input at one size (SSD 512 px), so in a large photo a face is a few dozen pixels
    /// there; in a tile it is n/1.5 times larger. The whole photo's faces come first, as
    /// [`Self::detect`] gives them (the landmark net places its points from the box, and
    /// a tile's box of the same face differs); then the faces only the tiles find, best
    /// first. A box cut by a tile's inner edge is dropped (the face lies whole in a
    /// neighbouring tile or in the photo).
    pub fn detect_tiled(&self, img: &RgbImage, min_score: f64, tiles: u32) -> Result<Vec<FaceBox>> {
        let whole = self.detect(img, min_score)?;
        let mut found = Vec::new();
        for rect in tile_rects(img.width(), img.height(), tiles) {
            let [x, y, w, h] = rect;
            let tile = image::imageops::crop_imm(img, x, y, w, h).to_image();
            for b in self.detect(&tile, min_score)? {
                let shifted = FaceBox {
                    x: b.x + x as f64,
                    y: b.y + y as f64,
                    ..b
                };
                if !cut_by_inner_edge(&shifted, rect, img.width(), img.height()) {
                    found.push(shifted);
                }
            }
        }
        Ok(merge_detections(whole, found))
    }

    /// The faces scoring above `min_score`, best first, and their landmarks in photo
    /// coordinates.
    pub fn find(&self, img: &RgbImage, min_score: f64) -> Result<(Vec<FaceBox>, Vec<Landmarks68>)> {
        let boxes = self.detect(img, min_score)?;
        let points = self.landmarks.landmarks(img, &boxes)?;
        Ok((boxes, points))
    }

    /// The landmarks of `img` taken to be one face's crop: those of the best face found above
    /// `min_score`, or, where the detector finds none (it misses many masked and drawn
    /// faces), those the landmark net places in [`FACE_CROP_BOX`]. The flag says whether the
    /// detector found the face.
    pub fn face_crop_landmarks(
        &self,
        img: &RgbImage,
        min_score: f64,
    ) -> Result<(Landmarks68, bool)> {
        let found = self.detect(img, min_score)?.into_iter().next();
        let face = found.clone().unwrap_or_else(|| face_crop_box(img));
        let points = self.landmarks.landmarks(img, &[face])?;
        Ok((points[0], found.is_some()))
    }
}

/// The `[x, y, width, height]` tiles of an n x n grid over a `width` x `height` photo: each
/// 1.5/n of the photo's side (so neighbours overlap by half a tile and a face up to half a
/// tile's side lies whole in one), the first at the top left, the last at the bottom right.
/// None for n <= 1.
pub fn tile_rects(width: u32, height: u32, tiles: u32) -> Vec<[u32; 4]> {
    if tiles <= 1 {
        return Vec::new();
    }
    let n = tiles as f64;
    let side = |full: u32| ((full as f64 * 1.5 / n).round() as u32).clamp(1, full);
    let (tw, th) = (side(width), side(height));
    let start =
        |full: u32, tile: u32, i: u32| ((full - tile) as f64 * i as f64 / (n - 1.0)).round() as u32;
    let mut rects = Vec::new();
    for row in 0..tiles {
        for col in 0..tiles {
            rects.push([start(width, tw, col), start(height, th, row), tw, th]);
        }
    }
    rects
}

/// Whether `face` (photo pixels) reaches within a pixel of an edge of `tile` that is not an
/// edge of the photo: the detector saw only part of that face.
fn cut_by_inner_edge(face: &FaceBox, tile: [u32; 4], width: u32, height: u32) -> bool {
    let [x, y, w, h] = tile.map(f64::from);
    let (right, bottom) = (x + w, y + h);
    (x > 0.0 && face.x <= x + 1.0)
        || (y > 0.0 && face.y <= y + 1.0)
        || (right < width as f64 && face.x + face.width >= right - 1.0)
        || (bottom < height as f64 && face.y + face.height >= bottom - 1.0)
}

/// `first` followed by the faces of `more` that none of them already is, best first (ties in
/// the order given): a box overlapping a kept one by IoU above 0.5 (face-api's suppression),
/// or one of the two lying mostly (over 70% of its area) inside the other, is the same face.
fn merge_detections(first: Vec<FaceBox>, mut more: Vec<FaceBox>) -> Vec<FaceBox> {
    more.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = first;
    for b in more {
        let same = kept.iter().any(|k| {
            let smaller = b.area().min(k.area());
            let inside = b.intersection(k) / smaller.max(f64::MIN_POSITIVE);
            b.iou(k) > 0.5 || inside > 0.7
        });
        if !same {
            kept.push(b);
        }
    }
    kept
}

/// Where a face lies in its own crop when no detector says, as shares of the width and height
/// `(x, y, width, height)`: the central 80%, a twentieth lower than centred, as aligned crops
/// have more hair above the face than neck below it. On the synthetic faces with masks it
/// places the 68 points 6.6 px from the true ones at 128 px (the whole image: 12.2; SSD's box,
/// where it finds the face: 10.0) on the validation split it was chosen on, and 7.1 on the
/// test split.
pub const FACE_CROP_BOX: [f64; 4] = [0.1, 0.15, 0.8, 0.8];

fn face_crop_box(img: &RgbImage) -> FaceBox {
    let (w, h) = (img.width() as f64, img.height() as f64);
    let [x, y, bw, bh] = FACE_CROP_BOX;
    FaceBox {
        x: x * w,
        y: y * h,
        width: bw * w,
        height: bh * h,
        score: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f64, y: f64, side: f64, score: f64) -> FaceBox {
        FaceBox {
            x,
            y,
            width: side,
            height: side,
            score,
        }
    }

    #[test]
    fn tiles_cover_the_photo_and_overlap_by_half_a_tile() {
        assert!(tile_rects(1920, 1280, 1).is_empty());
        let rects = tile_rects(1920, 1280, 2);
        assert_eq!(rects.len(), 4);
        assert_eq!(rects[0], [0, 0, 1440, 960]);
        assert_eq!(rects[3], [480, 320, 1440, 960]);
        let rects = tile_rects(1001, 7, 3);
        for r in &rects {
            assert!(
                r[0] + r[2] <= 1001 && r[1] + r[3] <= 7,
                "{r:?} leaves the photo"
            );
        }
        assert_eq!(rects[8][0] + rects[8][2], 1001);
        assert_eq!(rects[8][1] + rects[8][3], 7);
    }

    #[test]
    fn a_box_at_an_inner_tile_edge_is_cut_and_one_at_the_photo_edge_is_not() {
        let tile = [480, 0, 1440, 960];
        // Touches the tile's left edge, which lies inside the photo.
        assert!(cut_by_inner_edge(
            &face(480.0, 100.0, 50.0, 0.9),
            tile,
            1920,
            1280
        ));
        // Touches the photo's top and right edges only.
        assert!(!cut_by_inner_edge(
            &face(1870.0, 0.0, 50.0, 0.9),
            tile,
            1920,
            1280
        ));
        // Reaches the tile's bottom edge, inside the photo.
        assert!(cut_by_inner_edge(
            &face(900.0, 900.0, 60.0, 0.9),
            tile,
            1920,
            1280
        ));
        assert!(!cut_by_inner_edge(
            &face(900.0, 500.0, 60.0, 0.9),
            tile,
            1920,
            1280
        ));
    }

    #[test]
    fn merging_keeps_the_first_pass_and_adds_only_new_faces_best_first() {
        let whole = vec![face(0.0, 0.0, 100.0, 0.6)];
        let merged = merge_detections(
            whole,
            vec![
                // The whole photo's face again, scored higher in a tile: the first box stays.
                face(5.0, 5.0, 100.0, 0.8),
                face(500.0, 0.0, 100.0, 0.4),
                // Mostly inside the face at 500, though their IoU is small.
                face(510.0, 10.0, 40.0, 0.3),
                face(900.0, 0.0, 100.0, 0.7),
            ],
        );
        let scores: Vec<f64> = merged.iter().map(|b| b.score).collect();
        assert_eq!(scores, vec![0.6, 0.7, 0.4]);
    }
}
