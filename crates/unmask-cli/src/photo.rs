//! `unmask PHOTO -o OUT` (or a folder in, a folder out): [`unmask_photo::Unmasker`] on each
//! photo (find the faces, segment and check each mask, inpaint, paste back at the photo's
//! resolution), the result written with a JSON or one-line summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use image::DynamicImage;
use serde_json::json;
use unmask_kernels::KernelBackend;
use unmask_photo::{InvalidOverrides, Overrides, Unmasker};
use unmask_train::{backend::infer_on, InferJob};

use crate::files::{for_each_photo, mask_path, plan, write_image, Plan};

use crate::options::{ModelOptions, UnmaskerArgs, UnmaskerModels};

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
    /// Also write the holes that were filled (the segmented masks of the faces unmasked,
    /// grown over the rim) at the photo's size as OUT.mask.png.
    #[arg(long)]
    pub save_mask: bool,
    /// Fill this hole mask (a PNG the photo's size, white = fill; e.g. an edited
    /// OUT.mask.png) instead of the segmenter's, on every face found; one photo only.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    #[command(flatten)]
    pub options: ModelOptions,
    #[command(flatten)]
    pub unmasker: UnmaskerArgs,
}

pub fn run(args: &PhotoArgs) -> Result<()> {
    let models = args.unmasker.resolve(&args.options.runs)?;
    let (input, output) = (args.input.as_deref(), args.output.as_deref());
    let jobs = plan(
        input.expect("required by clap"),
        output.expect("required by clap"),
    )?;
    let overrides = Overrides {
        mask: match &args.mask {
            Some(path) if jobs.jobs.len() == 1 && !jobs.is_folder() => {
                Some(unmask_core::photo::read_mask(path)?)
            }
            Some(_) => anyhow::bail!("--mask is for one photo; the input is a folder"),
            None => None,
        },
        ..Default::default()
    };
    infer_on(
        args.options.device,
        Job {
            args,
            models,
            jobs,
            overrides,
        },
    )
}

struct Job<'a> {
    args: &'a PhotoArgs,
    models: UnmaskerModels,
    jobs: Plan,
    overrides: Overrides,
}

impl InferJob for Job<'_> {
    type Output = ();
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<()> {
        let unmasker = self.models.load::<B>(&device)?;
        for_each_photo(
            "unmask",
            &self.jobs.jobs,
            self.args.options.json,
            describe,
            |input, output| {
                unmask_photo(
                    &unmasker,
                    input,
                    output,
                    &self.overrides,
                    self.args.save_mask,
                )
            },
        )
    }
}

/// Unmasks one photo into `output`; returns its JSON summary.
fn unmask_photo<B: KernelBackend>(
    unmasker: &Unmasker<B>,
    input: &Path,
    output: &Path,
    overrides: &Overrides,
    save_mask: bool,
) -> Result<serde_json::Value> {
    let started = Instant::now();
    let photo = unmask_detect::read_photo(input)?;
    let decode_ms = started.elapsed().as_secs_f64() * 1e3;
    let result = unmasker
        .unmask_with(&photo, overrides, &unmasker.settings, &mut |_| {})
        .map_err(|e| match e.downcast_ref::<InvalidOverrides>() {
            Some(bad) => anyhow::anyhow!("--mask: {bad}"),
            None => e,
        })?;
    let report = result.report();
    write_image(&DynamicImage::ImageRgb8(result.image), output)?;
    let mask_path = if save_mask {
        let path = mask_path(output);
        unmask_core::atomic::save_png(&result.filled, &path)?;
        Some(path)
    } else {
        None
    };
    let mut summary = serde_json::to_value(&report)?;
    summary["input"] = json!(input);
    summary["output"] = json!(output);
    summary["mask"] = json!(mask_path);
    summary["time_ms"]["decode"] = json!(decode_ms);
    summary["time_ms"]["total"] = json!(started.elapsed().as_secs_f64() * 1e3);
    Ok(summary)
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
