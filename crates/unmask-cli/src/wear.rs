//! `unmask wear-mask PHOTO -o OUT` (or a folder in, a folder out): MaskTheFace's job on real
//! photos. Every face found gets a synthetic mask drawn from its 68 landmarks at the photo's
//! own resolution, styled like the masks stage draws them. `--save-mask` writes the exact
//! binary mask next to it, so a masked photo and its truth can test `unmask` end to end.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use image::DynamicImage;
use serde_json::json;
use unmask_detect::FaceFinder;
use unmask_masks::{MaskConfig, MaskType};
use unmask_weights::WeightStore;

use crate::files::{for_each_photo, mask_path, plan, write_image};
use crate::options::DetectorOptions;

type Cpu = burn_flex::Flex;

#[derive(clap::Args)]
pub struct WearArgs {
    /// A photo, or a folder of photos.
    pub input: PathBuf,
    /// The output image, or a folder for a folder of photos (PNG).
    #[arg(short, long)]
    pub output: PathBuf,
    /// One mask type for every face (surgical, surgical_blue, surgical_green, n95, kn95,
    /// cloth, gas); default: each face drawn like the masks stage draws them.
    #[arg(long = "type")]
    pub mask_type: Option<MaskType>,
    /// Which faces to mask, by their place in the detector's order (0 = first), e.g.
    /// `--faces 0,2`; default: all.
    #[arg(long, value_delimiter = ',')]
    pub faces: Vec<usize>,
    /// Seeds the mask styles: the same seed gives the same masks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write the exact binary mask (white = mask) as OUT.mask.png.
    #[arg(long)]
    pub save_mask: bool,
    /// Print a JSON summary instead of a sentence.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub detection: DetectorOptions,
}

pub fn run(args: &WearArgs) -> Result<()> {
    let mut styles = MaskConfig::default();
    if let Some(t) = args.mask_type {
        styles.types = [(t, 1.0)].into_iter().collect();
    }
    let detector = args.detection.detector()?;
    let finder = FaceFinder::<Cpu>::load(&WeightStore::from_env()?, detector, &Default::default())?;
    let planned = plan(&args.input, &args.output)?;
    for_each_photo(
        "wear-mask",
        &planned.jobs,
        args.json,
        describe,
        |input, output| wear_photo(&finder, &styles, args, input, output),
    )
}

/// Draws masks on the faces of one photo into `output`; returns its JSON summary.
fn wear_photo(
    finder: &FaceFinder<Cpu>,
    styles: &MaskConfig,
    args: &WearArgs,
    input: &Path,
    output: &Path,
) -> Result<serde_json::Value> {
    let photo = unmask_detect::read_photo(input)?;
    let min_score = args
        .detection
        .min_score(args.detection.detector.face_api_min_score());
    let (boxes, points) = finder.find(&photo, min_score)?;
    if let Some(&k) = args.faces.iter().find(|&&k| k >= boxes.len()) {
        bail!(
            "{}: --faces asks for face {k}, but {} face(s) were found (numbered from 0)",
            input.display(),
            boxes.len()
        );
    }
    let name = input
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let worn = unmask_photo::wear_masks(&photo, &points, styles, args.seed, &name, &args.faces);
    let faces: Vec<serde_json::Value> = boxes
        .iter()
        .zip(&worn.faces)
        .map(|(face, drawn)| {
            let mut entry = json!({
                "box": {"x": face.x, "y": face.y, "width": face.width, "height": face.height},
                "score": face.score,
                "masked": matches!(drawn.drawn, Some(Ok(_))),
            });
            match &drawn.drawn {
                Some(Ok(d)) => {
                    entry["mask_type"] = json!(d.mask_type.as_str());
                    entry["mask_pixels"] = json!(d.mask_pixels);
                }
                Some(Err(why)) => entry["skipped"] = json!(why),
                None => {}
            }
            entry
        })
        .collect();
    let (result, truth) = (worn.image, worn.truth);
    let masked = faces.iter().filter(|f| f["masked"] == json!(true)).count();
    write_image(&DynamicImage::ImageRgb8(result), output)?;
    let truth_path = if args.save_mask {
        let path = mask_path(output);
        unmask_core::atomic::save_png(&truth, &path)?;
        Some(path)
    } else {
        None
    };
    let note = if boxes.is_empty() {
        "no face found: written unchanged"
    } else if masked == 0 {
        "no mask could be drawn (see each face's `skipped`): written unchanged"
    } else {
        "masked"
    };
    Ok(json!({
        "input": input,
        "output": output,
        "faces_found": boxes.len(),
        "faces_masked": masked,
        "faces": faces,
        "mask": truth_path,
        "note": note,
    }))
}

fn describe(s: &serde_json::Value) -> String {
    format!(
        "{} -> {}: {} face(s) found, {} masked",
        s["input"].as_str().unwrap_or("?"),
        s["output"].as_str().unwrap_or("?"),
        s["faces_found"],
        s["faces_masked"],
    )
}
