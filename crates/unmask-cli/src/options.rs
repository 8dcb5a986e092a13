//! Options every command that runs trained models shares.

use std::path::PathBuf;
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

/// Which face detector `--detector` names.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectorName {
    /// face-api's SSD MobileNet v1: finds more faces, masked ones included.
    Ssd,
    /// face-api's tiny detector: about five times faster, misses more masked faces.
    Tiny,
}

/// How faces are found in a photo (every command that reads photos shares these).
#[derive(clap::Args, Clone, Debug)]
pub struct DetectorOptions {
    /// Which face detector finds the faces.
    #[arg(long, value_enum, default_value_t = DetectorName::Ssd)]
    pub detector: DetectorName,
    /// The tiny detector's input size: a multiple of 32 (default 416); larger finds smaller
    /// faces and takes longer. The SSD detector always sees 512x512.
    #[arg(long)]
    pub detector_size: Option<usize>,
    /// Smallest detector score for a face. Default: 0.3 for `unmask` (the detectors were
    /// trained on bare faces and score masked ones lower; a face found by mistake is left
    /// alone by the mask check), 0.5 (face-api's default) for `wear-mask`.
    #[arg(long)]
    pub min_face_score: Option<f64>,
}

impl DetectorOptions {
    /// `--min-face-score`, or the command's own default.
    pub fn min_score(&self, default: f64) -> f64 {
        self.min_face_score.unwrap_or(default)
    }

    /// The detector these options name, checked before any model loads.
    pub fn detector(&self) -> anyhow::Result<unmask_detect::Detector> {
        if let Some(score) = self.min_face_score.filter(|s| !(0.0..=1.0).contains(s)) {
            anyhow::bail!("--min-face-score must be in [0, 1], got {score}");
        }
        let detector = match (self.detector, self.detector_size) {
            (DetectorName::Ssd, Some(_)) => {
                anyhow::bail!("--detector-size sets the tiny detector's input: add --detector tiny")
            }
            (DetectorName::Ssd, None) => unmask_detect::Detector::Ssd,
            (DetectorName::Tiny, size) => unmask_detect::Detector::Tiny {
                input_size: size.unwrap_or(unmask_detect::DEFAULT_INPUT_SIZE),
            },
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
    use unmask_detect::Detector;

    fn options(detector: DetectorName, size: Option<usize>, score: f64) -> DetectorOptions {
        DetectorOptions {
            detector,
            detector_size: size,
            min_face_score: Some(score),
        }
    }

    #[test]
    fn detector_options_are_checked_before_models_load() {
        let ok = |o: DetectorOptions| o.detector().unwrap();
        assert_eq!(ok(options(DetectorName::Ssd, None, 0.5)), Detector::Ssd);
        assert_eq!(ok(options(DetectorName::Tiny, None, 0.5)), Detector::TINY);
        assert_eq!(
            ok(options(DetectorName::Tiny, Some(608), 0.5)),
            Detector::Tiny { input_size: 608 }
        );
        let err = |o: DetectorOptions| o.detector().unwrap_err().to_string();
        assert!(err(options(DetectorName::Ssd, Some(608), 0.5)).contains("--detector tiny"));
        assert!(err(options(DetectorName::Tiny, Some(100), 0.5)).contains("multiple of 32"));
        assert!(err(options(DetectorName::Ssd, None, 1.5)).contains("--min-face-score"));
        let default = DetectorOptions {
            min_face_score: None,
            ..options(DetectorName::Ssd, None, 0.0)
        };
        assert_eq!(default.min_score(0.3), 0.3);
        assert_eq!(options(DetectorName::Ssd, None, 0.7).min_score(0.3), 0.7);
    }
}
