//! Options every command that runs trained models shares.

use std::path::PathBuf;
use unmask_detect::{Detector, DetectorKind};
use unmask_train::DeviceKind;

#[derive(clap::Args, Clone, Debug)]
pub struct ModelOptions {
    /// Where pipelines write their runs (for the default models).
    #[arg(long, env = "UNMASK_RUNS", default_value = "runs")]
    pub runs: PathBuf,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceKind,
    /// Print JSON (sizes, areas, time per stage) instead of a sentence.
    #[arg(long)]
    pub json: bool,
}

/// How faces are found in a photo (every command that reads photos shares these).
#[derive(clap::Args, Clone, Debug)]
pub struct DetectorOptions {
    /// Which face detector finds the faces: `ssd` (face-api's SSD MobileNet v1: finds more
    /// faces, masked ones included) or `tiny` (about five times faster, misses more masked
    /// faces).
    #[arg(long, default_value_t = DetectorKind::Ssd)]
    pub detector: DetectorKind,
    /// The tiny detector's input size: a multiple of 32 (default 416); larger finds smaller
    /// faces and takes longer. The SSD detector always sees 512x512.
    #[arg(long)]
    pub detector_size: Option<usize>,
    /// Keep faces the detector scores above this, in (0, 1). Default: 0.3 for `unmask` (the
    /// detectors were trained on bare faces and score masked ones lower; a face found by
    /// mistake is left alone by the mask check), face-api's 0.5 for `wear-mask`.
    #[arg(long)]
    pub min_face_score: Option<f64>,
}

impl DetectorOptions {
    /// `--min-face-score`, or the command's own default.
    pub fn min_score(&self, default: f64) -> f64 {
        self.min_face_score.unwrap_or(default)
    }

    /// The detector these options name, checked before any model loads.
    pub fn detector(&self) -> anyhow::Result<Detector> {
        // 0 would keep every one of SSD's 5,118 anchors (up to 100 boxes), 1 none.
        if let Some(score) = self.min_face_score.filter(|s| !(*s > 0.0 && *s < 1.0)) {
            anyhow::bail!("--min-face-score must be between 0 and 1 (exclusive), got {score}");
        }
        let detector = match (self.detector, self.detector_size) {
            (DetectorKind::Ssd, Some(_)) => {
                anyhow::bail!("--detector-size sets the tiny detector's input: add --detector tiny")
            }
            (DetectorKind::Tiny, Some(input_size)) => Detector::Tiny { input_size },
            (kind, None) => Detector::of_kind(kind),
        };
        detector
            .validate()
            .map_err(|e| anyhow::anyhow!("--detector-size: {e}"))?;
        Ok(detector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(detector: DetectorKind, size: Option<usize>, score: f64) -> DetectorOptions {
        DetectorOptions {
            detector,
            detector_size: size,
            min_face_score: Some(score),
        }
    }

    #[test]
    fn detector_options_are_checked_before_models_load() {
        let ok = |o: DetectorOptions| o.detector().unwrap();
        assert_eq!(ok(options(DetectorKind::Ssd, None, 0.5)), Detector::Ssd);
        assert_eq!(
            ok(options(DetectorKind::Tiny, None, 0.5)),
            Detector::Tiny { input_size: 416 }
        );
        assert_eq!(
            ok(options(DetectorKind::Tiny, Some(608), 0.5)),
            Detector::Tiny { input_size: 608 }
        );
        let err = |o: DetectorOptions| o.detector().unwrap_err().to_string();
        assert!(err(options(DetectorKind::Ssd, Some(608), 0.5)).contains("--detector tiny"));
        assert!(err(options(DetectorKind::Tiny, Some(100), 0.5)).contains("multiple of 32"));
        for bad in [0.0, 1.0, 1.5] {
            assert!(err(options(DetectorKind::Ssd, None, bad)).contains("--min-face-score"));
        }
        let default = DetectorOptions {
            min_face_score: None,
            ..options(DetectorKind::Ssd, None, 0.5)
        };
        assert_eq!(default.min_score(0.3), 0.3);
        assert_eq!(options(DetectorKind::Ssd, None, 0.7).min_score(0.3), 0.7);
    }
}
