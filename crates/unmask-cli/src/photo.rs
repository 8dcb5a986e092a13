//! `unmask PHOTO -o OUT` (or a folder in, a folder out): finds the faces, and for each one
//! aligns and crops it, segments the mask, checks that it is one (a confident mask over the
//! mouth and chin), inpaints it and pastes the result back with a
//! feathered blend at the photo's own resolution. Pixels outside the feathered mask are the
//! input's, bit for bit; a photo without a face or a mask is written unchanged.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use burn::tensor::backend::Backend;
use image::{DynamicImage, GrayImage, RgbImage};
use serde_json::json;
use unmask_detect::{feathered, mouth_and_chin, Alignment, Detector, FaceFinder};
use unmask_inpaint::Inpainter;
use unmask_kernels::KernelBackend;
use unmask_seg::{inference::binarize, Segmenter};
use unmask_train::{backend::infer_on, InferJob};
use unmask_weights::WeightStore;

use crate::files::{for_each_photo, mask_path, plan, write_image, Plan};

use crate::options::{DetectorOptions, ModelOptions};

/// `unmask`'s smallest face score: masked faces score lower than bare ones (on face-api's demo
/// photos with synthetic masks, SSD finds 15 of 22 above 0.5, 20 above 0.3), and a bare face
/// found by mistake is left alone by the mask check.
const UNMASK_MIN_FACE_SCORE: f64 = 0.3;

/// `unmask PHOTO -o OUT`: every face found is aligned, segmented, inpainted and pasted back.
#[derive(clap::Args)]
pub struct PhotoArgs {
    /// A photo, or a folder of photos (jpg, png, bmp, webp, tiff, gif).
    // Optional to clap only so that a subcommand can stand in its place.
    #[arg(required = true)]
    pub input: Option<PathBuf>,
    /// The output image (format from its extension), or a folder for a folder of photos.
    #[arg(short, long, required = true)]
    pub output: Option<PathBuf>,
    /// A `train-inpaint` output folder (default: the latest trained GAN under --runs).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// A `train-seg` output folder (default: the latest trained segmenter under --runs).
    #[arg(long)]
    pub seg_model: Option<PathBuf>,
    /// Also write the segmenter's mask at the photo's size as OUT.mask.png.
    #[arg(long)]
    pub save_mask: bool,
    #[command(flatten)]
    pub options: ModelOptions,
    /// Leave a face alone unless the segmented mask covers at least this share of its mouth
    /// and chin (a face mask covers all of it; stray marks on a bare face do not).
    #[arg(long, default_value_t = 0.75)]
    pub min_coverage: f64,
    /// The mask probability above which a pixel counts towards --min-coverage (the mask
    /// that is filled keeps the model's own threshold).
    #[arg(long, default_value_t = 0.85)]
    pub sure_probability: f32,
    #[command(flatten)]
    pub detection: DetectorOptions,
}

pub fn run(args: &PhotoArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.min_coverage) {
        bail!(
            "--min-coverage must be in [0, 1], got {}",
            args.min_coverage
        );
    }
    // Probabilities are compared as bytes: above 0.99 no pixel could ever count.
    if !(0.0..=0.99).contains(&args.sure_probability) {
        bail!(
            "--sure-probability must be in [0, 0.99], got {}",
            args.sure_probability
        );
    }
    let detector = args.detection.detector()?;
    let gan = match &args.model {
        Some(dir) => dir.clone(),
        None => unmask_inpaint::latest_model(&args.options.runs)?,
    };
    let seg = match &args.seg_model {
        Some(dir) => dir.clone(),
        None => unmask_seg::latest_model(&args.options.runs)?,
    };
    let (input, output) = (args.input.as_deref(), args.output.as_deref());
    let jobs = plan(
        input.expect("required by clap"),
        output.expect("required by clap"),
    )?;
    infer_on(
        args.options.device,
        Job {
            args,
            gan,
            seg,
            detector,
            store: WeightStore::from_env()?,
            jobs,
        },
    )
}

struct Job<'a> {
    args: &'a PhotoArgs,
    gan: PathBuf,
    seg: PathBuf,
    detector: Detector,
    store: WeightStore,
    jobs: Plan,
}

struct Models<B: Backend> {
    faces: FaceFinder<B>,
    segmenter: Segmenter<B>,
    inpainter: Inpainter<B>,
}

impl InferJob for Job<'_> {
    type Output = ();
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<()> {
        let models = Models::<B> {
            faces: FaceFinder::load(&self.store, self.detector, &device)?,
            segmenter: Segmenter::load(&self.seg, &device)?,
            inpainter: Inpainter::load(&self.gan, &device)?,
        };
        for_each_photo(
            "unmask",
            &self.jobs.jobs,
            self.args.options.json,
            describe,
            |input, output| unmask_photo(&models, input, output, self.args),
        )
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Unmasks one photo into `output`; returns its JSON summary.
fn unmask_photo<B: KernelBackend>(
    models: &Models<B>,
    input: &Path,
    output: &Path,
    args: &PhotoArgs,
) -> Result<serde_json::Value> {
    let save_mask = args.save_mask;
    let started = Instant::now();
    let photo = unmask_detect::read_photo(input)?;
    let decode_ms = ms(started);
    let t = Instant::now();
    let boxes = models
        .faces
        .detect(&photo, args.detection.min_score(UNMASK_MIN_FACE_SCORE))?;
    let detect_ms = ms(t);
    let t = Instant::now();
    let points = models.faces.landmarks.landmarks(&photo, &boxes)?;
    let landmarks_ms = ms(t);
    let mut result = photo.clone();
    let mut mask_canvas = save_mask.then(|| RgbImage::new(photo.width(), photo.height()));
    let (mut segment_ms, mut inpaint_ms, mut paste_ms) = (0.0, 0.0, 0.0);
    let mut faces = Vec::new();
    for (face, lm) in boxes.iter().zip(&points) {
        let align = Alignment::ffhq(lm, 256);
        let crop = align.crop(&photo);
        let t = Instant::now();
        let prob = models
            .segmenter
            .probabilities_at_size(std::slice::from_ref(&crop))
            .remove(0);
        let mask = binarize(&prob, models.segmenter.cut(None));
        // Whether the face wears a mask is judged on the confident part alone: skin the
        // segmenter is unsure about must not turn a bare face into a masked one.
        let sure = binarize(&prob, models.segmenter.cut(Some(args.sure_probability)));
        segment_ms += ms(t);
        let area = mask.pixels().filter(|p| p.0[0] > 127).count() as f64
            / (mask.width() * mask.height()) as f64;
        let coverage = coverage_of(&sure, &mouth_and_chin(&align, lm));
        let mut entry = json!({
            "box": {"x": face.x, "y": face.y, "width": face.width, "height": face.height},
            "score": face.score,
            "mask_area": area,
            "mouth_chin_coverage": coverage,
        });
        if area == 0.0 || coverage < args.min_coverage {
            entry["unmasked"] = json!(false);
            if area > 0.0 {
                entry["skipped"] = json!(format!(
                    "the confidently segmented region covers {:.0}% of the mouth and chin (--min-coverage {:.0}%): not a face mask",
                    100.0 * coverage,
                    100.0 * args.min_coverage
                ));
            }
            faces.push(entry);
            continue;
        }
        let t = Instant::now();
        let (filled, report) = models.inpainter.inpaint(&crop, &mask)?;
        inpaint_ms += ms(t);
        let t = Instant::now();
        let weight = feathered(&report.filled_hole, 4, 2.0);
        let changed = align.paste(&mut result, &filled, &weight);
        if let Some(canvas) = mask_canvas.as_mut() {
            let white = RgbImage::from_pixel(crop.width(), crop.height(), image::Rgb([255; 3]));
            align.paste(canvas, &white, &report.filled_hole);
        }
        paste_ms += ms(t);
        entry["unmasked"] = json!(true);
        entry["changed_pixels"] = json!(changed);
        faces.push(entry);
    }
    let unmasked = faces
        .iter()
        .filter(|f| f["unmasked"] == json!(true))
        .count();
    write_image(&DynamicImage::ImageRgb8(result), output)?;
    let mask_path = match mask_canvas {
        Some(canvas) => {
            let path = mask_path(output);
            let gray: GrayImage = DynamicImage::ImageRgb8(canvas).to_luma8();
            unmask_core::atomic::save_png(&gray, &path)?;
            Some(path)
        }
        None => None,
    };
    let note = if boxes.is_empty() {
        "no face found: written unchanged"
    } else if unmasked == 0 {
        "no mask found on any face: written unchanged"
    } else {
        "unmasked"
    };
    Ok(json!({
        "input": input,
        "output": output,
        "width": photo.width(),
        "height": photo.height(),
        "faces_found": boxes.len(),
        "faces_unmasked": unmasked,
        "faces": faces,
        "mask": mask_path,
        "note": note,
        "time_ms": {
            "decode": decode_ms,
            "detect": detect_ms,
            "landmarks": landmarks_ms,
            "segment": segment_ms,
            "inpaint": inpaint_ms,
            "paste": paste_ms,
            "total": ms(started),
        },
    }))
}

/// The share of `region` that `mask` covers (0 for an empty region).
fn coverage_of(mask: &GrayImage, region: &GrayImage) -> f64 {
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

fn describe(s: &serde_json::Value) -> String {
    format!(
        "{} -> {}: {} face(s) found, {} unmasked ({}), {:.0} ms",
        s["input"].as_str().unwrap_or("?"),
        s["output"].as_str().unwrap_or("?"),
        s["faces_found"],
        s["faces_unmasked"],
        s["note"].as_str().unwrap_or(""),
        s["time_ms"]["total"].as_f64().unwrap_or(0.0)
    )
}

#[cfg(test)]
mod tests {
    use super::coverage_of;
    use image::{GrayImage, Luma};

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
}
