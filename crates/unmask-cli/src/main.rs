//! `unmask`: command line tools.
//!
//! - `unmask PHOTO -o OUT [--model DIR] [--seg-model DIR] [--save-mask] [--json]` (or a folder
//!   in and a folder out): unmask every face of real photos.
//! - `unmask segment IMAGE -o MASK.png [--model DIR] [--json]`
//! - `unmask inpaint IMAGE [--mask MASK.png] -o OUT.png [--model DIR] [--json]`
//! - `unmask metrics A.png B.png [--mask M.png] [--json]`
//! - `unmask wear-mask PHOTO -o OUT [--type T] [--faces 0,2] [--save-mask] [--json]`: draw
//!   synthetic masks on the faces of real photos (MaskTheFace's job).
//! - `unmask serve [--host H] [--port P]`: the web app and its HTTP API.

mod files;
mod inpaint;
mod metrics;
mod options;
mod photo;
mod segment;
mod serve;
mod wear;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    photo: photo::PhotoArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Find the face mask in a photo of a masked face: writes a binary mask (white = mask).
    Segment(segment::SegmentArgs),
    /// Fill the masked region of an aligned face with the trained GAN; without --mask the
    /// segmenter finds the mask first. Pixels outside the mask are kept exactly.
    Inpaint(inpaint::InpaintArgs),
    /// Draw synthetic masks on the faces of real photos (MaskTheFace's job), from the 68
    /// landmarks of each face found, at the photo's resolution.
    WearMask(wear::WearArgs),
    /// A local web app (and HTTP API) to unmask photos and fix their masks by hand:
    /// `unmask serve`, then open http://127.0.0.1:8080.
    Serve(serve::ServeArgs),
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
        /// Skip the identity similarity (cosine of face-api's face descriptors of A and B;
        /// no weights needed).
        #[arg(long)]
        no_identity: bool,
    },
}

fn main() -> ExitCode {
    unmask_core::malloc::keep_freed_buffers();
    unmask_core::logging::init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => photo::run(&cli.photo),
        Some(Command::Segment(args)) => segment::run(&args),
        Some(Command::Inpaint(args)) => inpaint::run(&args),
        Some(Command::WearMask(args)) => wear::run(&args),
        Some(Command::Serve(args)) => serve::run(&args),
        Some(Command::Metrics {
            a,
            b,
            mask,
            json,
            no_lpips,
            no_identity,
        }) => metrics::run(
            &a,
            &b,
            mask.as_deref(),
            json,
            &metrics::Learned {
                lpips: !no_lpips,
                identity: !no_identity,
            },
        ),
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
