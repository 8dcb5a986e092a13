//! [`PhotoReport`]: what [`Unmasker`](crate::Unmasker) did to a photo, as `unmask --json` and
//! `unmask serve`'s API print it.

use crate::unmasker::{FaceChoice, FaceOutcome, MaskSource, Timings, Unmasked};
use serde::Serialize;

/// One photo's outcome, without the pixels.
#[derive(Clone, Debug, Serialize)]
pub struct PhotoReport {
    pub width: u32,
    pub height: u32,
    pub faces_found: usize,
    pub faces_unmasked: usize,
    pub faces: Vec<FaceReport>,
    /// One sentence: unmasked, or why the photo is unchanged.
    pub note: &'static str,
    /// Milliseconds per step.
    pub time_ms: Timings,
}

/// One face's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct FaceReport {
    /// The face's number in detection order (what [`crate::Overrides`] names).
    pub index: usize,
    #[serde(rename = "box")]
    pub bounds: BoxReport,
    pub score: f64,
    /// The 68 landmarks, `[x, y]` in photo pixels.
    pub landmarks: Vec<[f64; 2]>,
    /// The corners of the face's aligned crop in photo pixels (top-left, top-right,
    /// bottom-right, bottom-left): the models see only what lies inside, so a mask is read,
    /// and a hole filled, only there.
    pub crop: [[f64; 2]; 4],
    pub mask_source: MaskSource,
    pub choice: FaceChoice,
    pub mask_area: f64,
    pub mouth_chin_coverage: f64,
    pub unmasked: bool,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_pixels: Option<usize>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct BoxReport {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Unmasked {
    /// The report of this result.
    pub fn report(&self) -> PhotoReport {
        let unmasked = self.faces_unmasked();
        PhotoReport {
            width: self.image.width(),
            height: self.image.height(),
            faces_found: self.faces.len(),
            faces_unmasked: unmasked,
            faces: self.faces.iter().enumerate().map(face_report).collect(),
            note: if self.faces.is_empty() {
                "no face found: written unchanged"
            } else if unmasked == 0 {
                "no mask found on any face: written unchanged"
            } else {
                "unmasked"
            },
            time_ms: self.timings.clone(),
        }
    }
}

fn face_report((index, f): (usize, &FaceOutcome)) -> FaceReport {
    FaceReport {
        index,
        bounds: BoxReport {
            x: f.face.x,
            y: f.face.y,
            width: f.face.width,
            height: f.face.height,
        },
        score: f.face.score,
        landmarks: f.landmarks.to_vec(),
        crop: f.alignment.corners(),
        mask_source: f.mask_source,
        choice: f.choice,
        mask_area: f.mask_area,
        mouth_chin_coverage: f.mouth_chin_coverage,
        unmasked: f.unmasked,
        reason: f.reason.clone(),
        skipped: f.skipped.clone(),
        changed_pixels: f.unmasked.then_some(f.changed_pixels),
    }
}
