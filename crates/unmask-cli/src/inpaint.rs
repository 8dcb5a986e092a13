//! `unmask inpaint IMAGE [--mask MASK.png] -o OUT.png`: the GAN fills the mask of an aligned
//! face; without `--mask` the segmenter finds it first.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use unmask_detect::{Detector, DetectorKind, FaceFinder};
use unmask_inpaint::Inpainter;
use unmask_kernels::KernelBackend;
use unmask_seg::Segmenter;
use unmask_train::{backend::infer_on, images, InferJob};

use crate::options::ModelOptions;

#[derive(clap::Args)]
pub struct InpaintArgs {
    /// The image (any size; the hole is generated at the model's size and pasted back).
    pub image: PathBuf,
    /// The mask (white = fill); default: the trained segmenter's.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// Where to write the result PNG.
    #[arg(short, long)]
    pub output: PathBuf,
    /// A `train-inpaint` output folder (default: the latest under --runs).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// A `train-seg` output folder for finding the mask (default: the latest under --runs).
    #[arg(long)]
    pub seg_model: Option<PathBuf>,
    #[command(flatten)]
    pub options: ModelOptions,
}

pub fn run(args: &InpaintArgs) -> Result<()> {
    let model = match &args.model {
        Some(dir) => dir.clone(),
        None => unmask_inpaint::latest_model(&args.options.runs)?,
    };
    let seg_model = match (&args.mask, &args.seg_model) {
        (Some(_), _) => None,
        (None, Some(dir)) => Some(dir.clone()),
        (None, None) => Some(
            unmask_seg::latest_model(&args.options.runs)
                .context("no --mask given, so the segmenter must find it")?,
        ),
    };
    let image = images::read_rgb(&args.image)?;
    let mask = match &args.mask {
        Some(path) => Some(images::read_mask(path)?),
        None => None,
    };
    infer_on(
        args.options.device,
        Job {
            args,
            model,
            seg_model,
            image,
            mask,
        },
    )
}

/// The 68 landmarks of the best-scoring face in `image` (SSD and face-api's landmark net),
/// for a GAN that draws along them.
fn face_landmarks<B: KernelBackend>(
    image: &image::RgbImage,
    path: &std::path::Path,
    device: &B::Device,
) -> Result<Vec<[f32; 2]>> {
    let store = unmask_weights::WeightStore::from_env().context("opening the weights cache")?;
    let finder = FaceFinder::<B>::load(&store, Detector::Ssd, device)?;
    let (points, found) =
        finder.face_crop_landmarks(image, DetectorKind::Ssd.face_api_min_score())?;
    if !found {
        eprintln!(
            "note: {}: no face detected; the guide's landmarks are placed on the image taken as an aligned face crop",
            path.display()
        );
    }
    Ok(points.iter().map(|p| [p[0] as f32, p[1] as f32]).collect())
}

struct Job<'a> {
    args: &'a InpaintArgs,
    model: PathBuf,
    seg_model: Option<PathBuf>,
    image: image::RgbImage,
    mask: Option<image::GrayImage>,
}

impl InferJob for Job<'_> {
    type Output = ();
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<()> {
        let inpainter = Inpainter::<B>::load(&self.model, &device)?;
        let started = Instant::now();
        let (mask, segment_ms) = match (self.mask, &self.seg_model) {
            (Some(m), _) => (m, 0.0),
            (None, Some(dir)) => {
                let seg = Segmenter::<B>::load(dir, &device)?;
                let t = Instant::now();
                let m = seg.segment(&self.image, None);
                (m, t.elapsed().as_secs_f64() * 1e3)
            }
            (None, None) => unreachable!("a mask or a segmenter is always chosen"),
        };
        let landmarks = if inpainter.needs_landmarks() {
            Some(face_landmarks::<B>(&self.image, &self.args.image, &device)?)
        } else {
            None
        };
        let t = Instant::now();
        let (out, report) = inpainter.inpaint(&self.image, &mask, landmarks.as_deref())?;
        let inpaint_ms = t.elapsed().as_secs_f64() * 1e3;
        unmask_core::atomic::save_png(&out, &self.args.output)?;
        if let Some(w) = &report.warning {
            eprintln!("warning: {}: {w}", self.args.image.display());
        }
        if self.args.options.json {
            println!(
                "{}",
                serde_json::json!({
                    "image": self.args.image,
                    "output": self.args.output,
                    "model": self.model,
                    "segmenter": self.seg_model,
                    "hole_fraction": report.hole_fraction,
                    "warning": report.warning,
                    "segment_ms": segment_ms,
                    "inpaint_ms": inpaint_ms,
                    "total_ms": started.elapsed().as_secs_f64() * 1e3,
                })
            );
        } else {
            println!(
                "{}: filled {:.1}% of the image, written to {} ({:.0} ms)",
                self.args.image.display(),
                report.hole_fraction * 100.0,
                self.args.output.display(),
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        Ok(())
    }
}
