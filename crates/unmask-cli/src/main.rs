//! `unmask`: command line tools.
//!
//! - `unmask PHOTO -o OUT [--model DIR] [--seg-model DIR] [--save-mask] [--json]` (or a folder
//!   in and a folder out): unmask every face of real photos.
//! - `unmask segment IMAGE -o MASK.png [--model DIR] [--json]`
//! - `unmask inpaint IMAGE [--mask MASK.png] -o OUT.png [--model DIR] [--json]`
//! - `unmask metrics A.png B.png [--mask M.png] [--json]`
//! - `unmask wear-mask PHOTO -o OUT [--type T] [--faces 0,2] [--save-mask] [--json]`: draw
//!   synthetic masks on the faces of real photos (MaskTheFace's job).

mod inpaint;
mod metrics;
mod photo;
mod segment;
mod wear;

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
    /// Leave a face alone unless the segmented mask covers at least this share of its mouth
    /// and chin (a face mask covers all of it; stray marks on a bare face do not).
    #[arg(long, default_value_t = 0.75)]
    min_coverage: f64,
    /// The mask probability above which a pixel counts towards --min-coverage (the mask
    /// that is filled keeps the model's own threshold).
    #[arg(long, default_value_t = 0.85)]
    sure_probability: f32,
    /// Smallest detector score for a face. face-api's default is 0.5, but its detector was
    /// trained on bare faces and scores masked ones lower; faces found by mistake are left
    /// alone by the mask check.
    #[arg(long, default_value_t = 0.4)]
    min_face_score: f64,
    /// The face detector's input size: a multiple of 32 (face-api's default 416); larger
    /// finds smaller faces and takes longer.
    #[arg(long, default_value_t = unmask_detect::DEFAULT_INPUT_SIZE)]
    detector_size: usize,
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
    /// Draw synthetic masks on the faces of real photos (MaskTheFace's job), from the 68
    /// landmarks of each face found, at the photo's resolution.
    WearMask {
        /// A photo, or a folder of photos.
        input: PathBuf,
        /// The output image, or a folder for a folder of photos (PNG).
        #[arg(short, long)]
        output: PathBuf,
        /// One mask type for every face (surgical, surgical_blue, surgical_green, n95, kn95,
        /// cloth, gas); default: each face drawn like the masks stage draws them.
        #[arg(long = "type")]
        mask_type: Option<unmask_masks::MaskType>,
        /// Which faces to mask, by their place in the detector's order (0 = first), e.g.
        /// `--faces 0,2`; default: all.
        #[arg(long, value_delimiter = ',')]
        faces: Vec<usize>,
        /// Seeds the mask styles: the same seed gives the same masks.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Also write the exact binary mask (white = mask) as OUT.mask.png.
        #[arg(long)]
        save_mask: bool,
        /// Print a JSON summary instead of a sentence.
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
                min_coverage: p.min_coverage,
                min_face_score: p.min_face_score,
                detector_size: p.detector_size,
                sure_probability: p.sure_probability,
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
        Command::WearMask {
            input,
            output,
            mask_type,
            faces,
            seed,
            save_mask,
            json,
        } => wear::run(&wear::WearArgs {
            input,
            output,
            mask_type,
            seed,
            faces,
            save_mask,
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
