//! `unmask`: command line tools.
//!
//! - `unmask PHOTO -o OUT [--model DIR] [--seg-model DIR] [--save-mask] [--json]` (or a folder
//!   in and a folder out): unmask every face of real photos.
//! - `unmask segment IMAGE -o MASK.png [--model DIR] [--json]`
//! - `unmask inpaint IMAGE [--mask MASK.png] -o OUT.png [--model DIR] [--json]`
//! - `unmask metrics A.png B.png [--mask M.png] [--json]`

mod inpaint;
mod metrics;
mod photo;
mod segment;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use unmask_train::DeviceKind;

#[derive(Parser)]
#[command(
    name = "unmask",
    version,
    about = "Remove face masks from photos: `unmask photo.jpg -o out.png`, or the tools below",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    photo: PhotoCli,
}

/// `unmask PHOTO -o OUT`: every face found is aligned, segmented, inpainted and pasted back.
#[derive(clap::Args)]
struct PhotoCli {
    /// A photo, or a folder of photos (jpg, png, bmp, webp, tiff, gif).
    #[arg(required = true)]
    input: Option<PathBuf>,
    /// The output image (format from its extension), or a folder for a folder of photos.
    #[arg(short, long, required = true)]
    output: Option<PathBuf>,
    /// A `train-inpaint` output folder (default: the latest trained GAN under --runs).
    #[arg(long)]
    model: Option<PathBuf>,
    /// A `train-seg` output folder (default: the latest trained segmenter under --runs).
    #[arg(long)]
    seg_model: Option<PathBuf>,
    /// Where pipelines write their runs (for the default models).
    #[arg(long, env = "UNMASK_RUNS", default_value = "runs")]
    runs: PathBuf,
    /// Also write the segmenter's mask at the photo's size as OUT.mask.png.
    #[arg(long)]
    save_mask: bool,
    #[arg(long, default_value = "cpu")]
    device: DeviceKind,
    /// Print a JSON summary (faces found, mask area, time per stage) instead of a sentence.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Find the face mask in a photo of a masked face: writes a binary mask (white = mask).
    Segment {
        /// The image (any size; it is resized to the model's size and the mask back).
        image: PathBuf,
        /// Where to write the mask PNG.
        #[arg(short, long)]
        output: PathBuf,
        /// A `train-seg` output folder (default: the latest trained segmenter under --runs).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Where pipelines write their runs (for the default model).
        #[arg(long, env = "UNMASK_RUNS", default_value = "runs")]
        runs: PathBuf,
        /// Mask probability threshold (default: the one the model was trained with).
        #[arg(long)]
        threshold: Option<f32>,
        #[arg(long, default_value = "cpu")]
        device: DeviceKind,
        /// Print one JSON object (mask area, time) instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Fill the masked region of an aligned face with the trained GAN; without --mask the
    /// segmenter finds the mask first. Pixels outside the mask are kept exactly.
    Inpaint {
        /// The image (any size; the hole is generated at the model's size and pasted back).
        image: PathBuf,
        /// The mask (white = fill); default: the trained segmenter's.
        #[arg(long)]
        mask: Option<PathBuf>,
        /// Where to write the result PNG.
        #[arg(short, long)]
        output: PathBuf,
        /// A `train-inpaint` output folder (default: the latest under --runs).
        #[arg(long)]
        model: Option<PathBuf>,
        /// A `train-seg` output folder for finding the mask (default: the latest under --runs).
        #[arg(long)]
        seg_model: Option<PathBuf>,
        #[arg(long, env = "UNMASK_RUNS", default_value = "runs")]
        runs: PathBuf,
        #[arg(long, default_value = "cpu")]
        device: DeviceKind,
        /// Print one JSON object (hole fraction, times) instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Compare two images: L1, hole L1 (with --mask), PSNR, SSIM and LPIPS (AlexNet).
    Metrics {
        /// The first image (e.g. the inpainted result).
        a: PathBuf,
        /// The second image (e.g. the ground truth), same size.
        b: PathBuf,
        /// Hole mask, same size: white (>= 0.5) marks the pixels for hole L1.
        #[arg(long)]
        mask: Option<PathBuf>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Skip LPIPS (no weights needed).
        #[arg(long)]
        no_lpips: bool,
    },
}

fn main() -> ExitCode {
    unmask_core::logging::init();
    let cli = Cli::parse();
    let command = match cli.command {
        Some(c) => c,
        None => {
            let p = cli.photo;
            let result = photo::run(&photo::PhotoArgs {
                input: p.input.expect("required by clap"),
                output: p.output.expect("required by clap"),
                model: p.model,
                seg_model: p.seg_model,
                runs: p.runs,
                save_mask: p.save_mask,
                device: p.device,
                json: p.json,
            });
            return finish(result);
        }
    };
    let result = match command {
        Command::Inpaint {
            image,
            mask,
            output,
            model,
            seg_model,
            runs,
            device,
            json,
        } => inpaint::run(&inpaint::InpaintArgs {
            image,
            mask,
            output,
            model,
            seg_model,
            runs,
            device,
            json,
        }),
        Command::Segment {
            image,
            output,
            model,
            runs,
            threshold,
            device,
            json,
        } => segment::run(&segment::SegmentArgs {
            image,
            output,
            model,
            runs,
            threshold,
            device,
            json,
        }),
        Command::Metrics {
            a,
            b,
            mask,
            json,
            no_lpips,
        } => metrics::run(&a, &b, mask.as_deref(), json, !no_lpips),
    };
    finish(result)
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
