//! Options every command that runs trained models shares.

use std::path::{Path, PathBuf};
use unmask_detect::{Detector, DetectorKind};
use unmask_kernels::KernelBackend;
use unmask_photo::{UnmaskSettings, Unmasker};
use unmask_train::DeviceKind;
use unmask_weights::WeightStore;

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
    /// Keep faces the detector scores above this, in (0, 1). Default: 0.2 for `unmask` (the
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

/// The models and settings of the photo path (`unmask PHOTO` and `unmask serve`).
#[derive(clap::Args, Clone, Debug)]
pub struct UnmaskerArgs {
    /// A `train-inpaint` output folder (default: the latest trained GAN under --runs).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// A `train-seg` output folder (default: the latest trained segmenter under --runs).
    #[arg(long)]
    pub seg_model: Option<PathBuf>,
    /// Leave a face alone unless the segmented mask covers at least this share of its mouth
    /// and chin (a face mask covers all of it; stray marks on a bare face do not).
    #[arg(long, default_value_t = UnmaskSettings::default().min_coverage)]
    pub min_coverage: f64,
    /// The mask probability above which a pixel counts towards --min-coverage (the mask
    /// that is filled keeps the model's own threshold).
    #[arg(long, default_value_t = UnmaskSettings::default().sure_probability)]
    pub sure_probability: f32,
    /// Cut the segmented mask to the lower face (the jaw line closed at the nose bridge)
    /// grown by this share of the crop's side: what lies beyond is background, hair or a
    /// hand; 1 keeps the whole crop.
    #[arg(long, default_value_t = UnmaskSettings::default().face_margin)]
    pub face_margin: f64,
    /// The mask probability above which a pixel is in the filled hole (default: 0.65; the
    /// segmenter's own threshold is lower, and every extra pixel filled costs more than a
    /// pixel of mask left in place).
    #[arg(long)]
    pub hole_probability: Option<f32>,
    /// Grow the hole into the pixels joined to it that have at least this mask probability
    /// (1 turns the growth off).
    #[arg(long, default_value_t = UnmaskSettings::default().grow_probability)]
    pub grow_probability: f32,
    /// Fill the segmented hole as it is, instead of the convex hull of its pieces that reach
    /// the mouth and chin (a face mask is one convex piece of cloth).
    #[arg(long)]
    pub segmented_hole: bool,
    /// Place the landmarks with a second look at each face turned upright by the first
    /// look's eye line (helps tilted faces; on the demo photos it changed one bare face).
    #[arg(long)]
    pub upright_landmarks: bool,
    /// Crop each face this much wider about its centre (1 keeps face-api's framing; under a
    /// mask the landmarks pull together and the crop would miss the mask's lower edge).
    #[arg(long, default_value_t = UnmaskSettings::default().crop_zoom)]
    pub crop_zoom: f64,
    /// Segment each face's crop and its mirror image and average the two (twice the
    /// segmenter's time; on the demo photos it changed nothing that was measurable).
    #[arg(long)]
    pub mirror: bool,
    /// Paste the GAN's fill as it is, without the grain of the skin around the hole.
    #[arg(long)]
    pub no_grain: bool,
    /// Guide the GAN with the landmark net's jaw and mouth as they are, instead of the mean
    /// face's fitted to the eyes and brows (the net misplaces the lower face under a mask).
    #[arg(long)]
    pub net_guide: bool,
    /// Also look for faces in an N x N grid of overlapping tiles (1 + N*N detector passes):
    /// finds the small faces of a large group photo; 1 looks at the whole photo only.
    #[arg(long, default_value_t = UnmaskSettings::default().detect_tiles)]
    pub detect_tiles: u32,
    #[command(flatten)]
    pub detection: DetectorOptions,
}

/// [`UnmaskerArgs`] checked and resolved to model folders, before anything loads.
pub struct UnmaskerModels {
    pub gan: PathBuf,
    pub seg: PathBuf,
    pub detector: Detector,
    pub settings: UnmaskSettings,
    pub store: WeightStore,
}

impl UnmaskerArgs {
    /// The photo path's settings these flags give, checked; errors name the flag.
    pub fn settings(&self) -> anyhow::Result<UnmaskSettings> {
        let settings = UnmaskSettings {
            min_face_score: self
                .detection
                .min_score(UnmaskSettings::default().min_face_score),
            min_coverage: self.min_coverage,
            sure_probability: self.sure_probability,
            face_margin: self.face_margin,
            hole_probability: self
                .hole_probability
                .or(UnmaskSettings::default().hole_probability),
            grow_probability: self.grow_probability,
            convex_hole: !self.segmented_hole,
            upright_landmarks: self.upright_landmarks,
            crop_zoom: self.crop_zoom,
            mirror: self.mirror,
            grain: !self.no_grain,
            guide_from_upper_face: !self.net_guide,
            detect_tiles: self.detect_tiles,
        };
        settings
            .validate()
            .map_err(|e| anyhow::anyhow!("{}", flag_names(&e.to_string())))?;
        Ok(settings)
    }

    pub fn resolve(&self, runs: &Path) -> anyhow::Result<UnmaskerModels> {
        let settings = self.settings()?;
        let detector = self.detection.detector()?;
        let gan = match &self.model {
            Some(dir) => dir.clone(),
            None => unmask_inpaint::latest_model(runs)?,
        };
        let seg = match &self.seg_model {
            Some(dir) => dir.clone(),
            None => unmask_seg::latest_model(runs)?,
        };
        Ok(UnmaskerModels {
            gan,
            seg,
            detector,
            settings,
            store: WeightStore::from_env()?,
        })
    }
}

/// The settings' names as the command line spells them.
pub fn flag_names(message: &str) -> String {
    message
        .replace("unmask.min_coverage", "--min-coverage")
        .replace("unmask.sure_probability", "--sure-probability")
        .replace("unmask.min_face_score", "--min-face-score")
        .replace("unmask.detect_tiles", "--detect-tiles")
        .replace("unmask.face_margin", "--face-margin")
        .replace("unmask.hole_probability", "--hole-probability")
        .replace("unmask.grow_probability", "--grow-probability")
        .replace("unmask.crop_zoom", "--crop-zoom")
}

impl UnmaskerModels {
    pub fn load<B: KernelBackend>(&self, device: &B::Device) -> anyhow::Result<Unmasker<B>> {
        Unmasker::load(
            &self.store,
            self.detector,
            &self.seg,
            &self.gan,
            self.settings.clone(),
            device,
        )
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

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        args: UnmaskerArgs,
    }

    fn settings(flags: &[&str]) -> anyhow::Result<UnmaskSettings> {
        use clap::Parser;
        let argv = std::iter::once("unmask").chain(flags.iter().copied());
        Flags::try_parse_from(argv).unwrap().args.settings()
    }

    #[test]
    fn photo_flags_give_the_library_defaults_and_name_themselves_in_errors() {
        assert_eq!(settings(&[]).unwrap(), UnmaskSettings::default());
        let set = settings(&[
            "--hole-probability",
            "0.4",
            "--grow-probability",
            "0.3",
            "--segmented-hole",
            "--upright-landmarks",
            "--crop-zoom",
            "1.3",
        ])
        .unwrap();
        assert_eq!(set.hole_probability, Some(0.4));
        assert_eq!(set.grow_probability, 0.3);
        assert!(!set.convex_hole && set.upright_landmarks);
        assert_eq!(set.crop_zoom, 1.3);
        for (flag, bad) in [
            ("--crop-zoom", "3"),
            ("--hole-probability", "1.5"),
            ("--grow-probability", "1.5"),
        ] {
            let err = settings(&[flag, bad]).unwrap_err().to_string();
            assert!(err.contains(flag), "{flag} {bad}: {err}");
        }
    }
}
