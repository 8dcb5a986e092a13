//! `unmask`: command line tools.
//!
//! - `unmask segment IMAGE -o MASK.png [--model DIR] [--json]`
//! - `unmask inpaint IMAGE [--mask MASK.png] -o OUT.png [--model DIR] [--json]`
//! - `unmask metrics A.png B.png [--mask M.png] [--json]`

mod inpaint;
mod metrics;
mod segment;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use unmask_train::DeviceKind;

#[derive(Parser)]
#[command(
    name = "unmask",
    version,
    about = "Remove face masks from photos: tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    let result = match cli.command {
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
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
