//! `unmask PHOTO -o OUT` (or a folder in, a folder out): [`unmask_photo::Unmasker`] on each
//! photo (find the faces, segment and check each mask, inpaint, paste back at the photo's
//! resolution), the result written with a JSON or one-line summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use image::DynamicImage;
use serde_json::json;
use unmask_detect::Detector;
use unmask_kernels::KernelBackend;
use unmask_photo::{UnmaskSettings, Unmasker};
use unmask_train::{backend::infer_on, InferJob};
use unmask_weights::WeightStore;

use crate::files::{for_each_photo, mask_path, plan, write_image, Plan};

use crate::options::{DetectorOptions, ModelOptions};

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
    /// Also write the holes that were filled (the segmented masks of the faces unmasked,
    /// grown over the rim) at the photo's size as OUT.mask.png.
    #[arg(long)]
    pub save_mask: bool,
    #[command(flatten)]
    pub options: ModelOptions,
    /// Leave a face alone unless the segmented mask covers at least this share of its mouth
    /// and chin (a face mask covers all of it; stray marks on a bare face do not).
    #[arg(long, default_value_t = UnmaskSettings::default().min_coverage)]
    pub min_coverage: f64,
    /// The mask probability above which a pixel counts towards --min-coverage (the mask
    /// that is filled keeps the model's own threshold).
    #[arg(long, default_value_t = UnmaskSettings::default().sure_probability)]
    pub sure_probability: f32,
    #[command(flatten)]
    pub detection: DetectorOptions,
}

pub fn run(args: &PhotoArgs) -> Result<()> {
    let settings = UnmaskSettings {
        min_face_score: args
            .detection
            .min_score(UnmaskSettings::default().min_face_score),
        min_coverage: args.min_coverage,
        sure_probability: args.sure_probability,
    };
    settings.validate().map_err(|e| {
        // The settings' names as this command spells them.
        anyhow::anyhow!(
            "{}",
            e.to_string()
                .replace("unmask.min_coverage", "--min-coverage")
                .replace("unmask.sure_probability", "--sure-probability")
                .replace("unmask.min_face_score", "--min-face-score")
        )
    })?;
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
            settings,
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
    settings: UnmaskSettings,
    store: WeightStore,
    jobs: Plan,
}

impl InferJob for Job<'_> {
    type Output = ();
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<()> {
        let unmasker = Unmasker::<B>::load(
            &self.store,
            self.detector,
            &self.seg,
            &self.gan,
            self.settings,
            &device,
        )?;
        for_each_photo(
            "unmask",
            &self.jobs.jobs,
            self.args.options.json,
            describe,
            |input, output| unmask_photo(&unmasker, input, output, self.args.save_mask),
        )
    }
}

/// Unmasks one photo into `output`; returns its JSON summary.
fn unmask_photo<B: KernelBackend>(
    unmasker: &Unmasker<B>,
    input: &Path,
    output: &Path,
    save_mask: bool,
) -> Result<serde_json::Value> {
    let started = Instant::now();
    let photo = unmask_detect::read_photo(input)?;
    let decode_ms = started.elapsed().as_secs_f64() * 1e3;
    let result = unmasker.unmask(&photo)?;
    let faces: Vec<serde_json::Value> = result
        .faces
        .iter()
        .map(|f| {
            let mut entry = json!({
                "box": {"x": f.face.x, "y": f.face.y, "width": f.face.width, "height": f.face.height},
                "score": f.face.score,
                "mask_area": f.mask_area,
                "mouth_chin_coverage": f.mouth_chin_coverage,
                "unmasked": f.unmasked,
            });
            if let Some(why) = &f.skipped {
                entry["skipped"] = json!(why);
            }
            if f.unmasked {
                entry["changed_pixels"] = json!(f.changed_pixels);
            }
            entry
        })
        .collect();
    let unmasked = result.faces_unmasked();
    write_image(&DynamicImage::ImageRgb8(result.image), output)?;
    let mask_path = if save_mask {
        let path = mask_path(output);
        unmask_core::atomic::save_png(&result.filled, &path)?;
        Some(path)
    } else {
        None
    };
    let note = if result.faces.is_empty() {
        "no face found: written unchanged"
    } else if unmasked == 0 {
        "no mask found on any face: written unchanged"
    } else {
        "unmasked"
    };
    let t = &result.timings;
    Ok(json!({
        "input": input,
        "output": output,
        "width": photo.width(),
        "height": photo.height(),
        "faces_found": result.faces.len(),
        "faces_unmasked": unmasked,
        "faces": faces,
        "mask": mask_path,
        "note": note,
        "time_ms": {
            "decode": decode_ms,
            "detect": t.detect,
            "landmarks": t.landmarks,
            "segment": t.segment,
            "inpaint": t.inpaint,
            "paste": t.paste,
            "total": started.elapsed().as_secs_f64() * 1e3,
        },
    }))
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
