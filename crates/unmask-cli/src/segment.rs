//! `unmask segment IMAGE -o MASK.png`: the trained UNet's mask for one image.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use unmask_kernels::KernelBackend;
use unmask_seg::Segmenter;
use unmask_train::{backend::infer_on, images, InferJob};

use crate::options::ModelOptions;

#[derive(clap::Args)]
pub struct SegmentArgs {
    /// The image (any size; it is resized to the model's size and the mask back).
    pub image: PathBuf,
    /// Where to write the mask PNG.
    #[arg(short, long)]
    pub output: PathBuf,
    /// A `train-seg` output folder (default: the latest trained segmenter under --runs).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Mask probability threshold (default: the one the model was trained with).
    #[arg(long)]
    pub threshold: Option<f32>,
    #[command(flatten)]
    pub options: ModelOptions,
}

pub fn run(args: &SegmentArgs) -> Result<()> {
    let model = match &args.model {
        Some(dir) => dir.clone(),
        None => unmask_seg::latest_model(&args.options.runs)?,
    };
    let img = images::read_rgb(&args.image)?;
    infer_on(args.options.device, Job { args, model, img })
}

struct Job<'a> {
    args: &'a SegmentArgs,
    model: PathBuf,
    img: image::RgbImage,
}

impl InferJob for Job<'_> {
    type Output = ();
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<()> {
        let loaded = Instant::now();
        let seg = Segmenter::<B>::load(&self.model, &device)?;
        let load_ms = loaded.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        let mask = seg.segment(&self.img, self.args.threshold);
        let segment_ms = started.elapsed().as_secs_f64() * 1e3;
        unmask_core::atomic::save_png(&mask, &self.args.output)?;
        let inside = mask.pixels().filter(|p| p.0[0] > 0).count();
        let area = inside as f64 / (mask.width() * mask.height()) as f64;
        if self.args.options.json {
            let out = serde_json::json!({
                "image": self.args.image,
                "mask": self.args.output,
                "model": self.model,
                "width": mask.width(),
                "height": mask.height(),
                "mask_area_fraction": area,
                "load_ms": load_ms,
                "segment_ms": segment_ms,
            });
            println!("{out}");
        } else {
            println!(
                "{}: mask covers {:.1}% of the image, written to {} ({segment_ms:.0} ms)",
                self.args.image.display(),
                area * 100.0,
                self.args.output.display()
            );
        }
        Ok(())
    }
}
