//! End-to-end scoring on real photos: masks are drawn on every face found (as `unmask
//! wear-mask` draws them), the masked photo goes through the whole [`Unmasker`], and each face's
//! aligned crop is compared with the same crop of the bare photo: hole L1 inside the drawn mask,
//! LPIPS and SSIM over the crop. Telea's diffusion and the mean-colour fill, given the true
//! holes (grown by the GAN's `hole_dilation`, as the GAN grows its own), are scored on the
//! same crops; the bare photos go through the unmasker too, to count the faces it changes
//! that wore no mask. The GAN is also scored on the true holes of the same crops
//! (`ours_true_holes`; a guided GAN along the landmarks found on the masked photo, as in the
//! photo path), so a loss to Telea can be told apart: the fill itself, or the holes the
//! segmenter found.

use crate::unmasker::{crop_mask, FaceOutcome, UnmaskSettings, Unmasker, CROP_SIZE};
use crate::wear::{wear_masks, Drawn};
use anyhow::{Context, Result};
use burn::tensor::Tensor;
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_core::bootstrap::{mean_interval, Interval};
use unmask_detect::recognition::{cosine_similarity, FaceRecognitionNet};
use unmask_detect::{Alignment, Detector, DetectorKind, FaceBox};
use unmask_inpaint::evaluation::Judges;
use unmask_inpaint::BaselineMethod;
use unmask_kernels::KernelBackend;
use unmask_masks::MaskConfig;
use unmask_metrics::{hole_l1, ssim, to_vec, Lpips, LpipsNet};
use unmask_train::{images, DeviceKind, InferJob};
use unmask_weights::WeightStore;

/// `eval-unmask`: what is scored and with which models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalUnmaskParams {
    /// A `train-inpaint` output folder (or its `best/`), relative to the project root.
    pub gan: PathBuf,
    /// A `train-seg` output folder (or its `best/`), relative to the project root.
    pub segmenter: PathBuf,
    pub detector: DetectorKind,
    pub unmask: UnmaskSettings,
    /// Seeds the mask styles drawn on the faces.
    pub seed: u64,
    /// LPIPS-alex (fetched on first use).
    pub lpips: bool,
    /// Identity similarity: the cosine of face-api's face descriptors of the fill's crop and
    /// the bare photo's (fetched on first use).
    pub identity: bool,
    /// Faces shown in `side_by_side.png` (input | ours | ours on the true hole | Telea |
    /// original).
    pub examples: usize,
    pub resamples: usize,
    pub confidence: f64,
    pub device: DeviceKind,
}

impl Default for EvalUnmaskParams {
    fn default() -> Self {
        Self {
            gan: "runs/quickstart/train-inpaint".into(),
            segmenter: "runs/quickstart/train-seg".into(),
            detector: DetectorKind::Ssd,
            unmask: UnmaskSettings::default(),
            seed: 0,
            lpips: true,
            identity: true,
            examples: 8,
            resamples: 1000,
            confidence: 0.95,
            device: DeviceKind::Cpu,
        }
    }
}

impl EvalUnmaskParams {
    pub fn validate(&self) -> Result<()> {
        self.unmask.validate()?;
        unmask_core::bootstrap::check_settings(self.resamples, self.confidence)
    }
}

pub const PER_FACE_FILE: &str = "per_face.parquet";
pub const SIDE_BY_SIDE_FILE: &str = "side_by_side.png";
pub const SUMMARY_FILE: &str = "summary.json";

/// The fills compared on each face, in column order: the whole photo path, the two classical
/// fills on the true holes, and the GAN alone on the same true holes.
pub const METHODS: [&str; 4] = ["ours", "telea", "mean_fill", "ours_true_holes"];
/// Tiles per face in `side_by_side.png`.
const SIDE_BY_SIDE_TILES: usize = 5;
/// The scores of each fill, in column order.
pub const SCORES: [&str; 4] = ["hole_l1", "lpips", "ssim", "id_sim"];

/// One masked face's scores: `scores[method][score]` in [`METHODS`] x [`SCORES`] order.
#[derive(Clone, Debug)]
pub struct FaceScores {
    pub id: String,
    pub mask_type: String,
    /// Whether the unmasker filled at least half of the face's drawn mask.
    pub unmasked: bool,
    /// The mask check's mouth-and-chin coverage with the mask drawn, and on the same face of
    /// the bare photo (NaN where the unmasker found no face there): the margin either side of
    /// `min_coverage`.
    pub coverage_masked: f64,
    pub coverage_bare: f64,
    pub scores: [[f64; 4]; 4],
}

/// What `eval-unmask` found, overall (written as `summary.json`; NaN scores, as when LPIPS is
/// off, are written as null).
#[derive(Clone, Debug, Serialize)]
pub struct UnmaskSummary {
    pub photos: usize,
    pub faces_found: usize,
    pub faces_masked: usize,
    pub faces_unmasked: usize,
    /// Faces of the bare photos the unmasker changed (it should change none).
    pub bare_faces_changed: usize,
    /// Means over the masked faces, per method and score ([`METHODS`] x [`SCORES`]).
    pub means: Vec<(String, String, f64)>,
    /// `ours - telea` per face, with its paired bootstrap interval, per score.
    pub ours_minus_telea: Vec<(String, Interval)>,
    /// `ours_true_holes - telea` per face: the fills alone compared, on the same holes.
    pub true_holes_minus_telea: Vec<(String, Interval)>,
    /// Faces where ours has the lower LPIPS than Telea (none when LPIPS was off).
    pub lpips_wins_over_telea: Option<usize>,
}

impl UnmaskSummary {
    /// The mean of `score` for `method` (NaN when not computed).
    pub fn mean(&self, method: &str, score: &str) -> f64 {
        self.means
            .iter()
            .find(|(a, b, _)| a == method && b == score)
            .map_or(f64::NAN, |e| e.2)
    }

    pub fn describe(&self) -> String {
        let mean = |m: &str, s: &str| self.mean(m, s);
        let lpips = match self.lpips_wins_over_telea {
            Some(wins) => format!(
                "LPIPS ours {:.4} (on the true holes {:.4}) vs Telea {:.4} (ours lower on {wins} of {}), ",
                mean("ours", "lpips"),
                mean("ours_true_holes", "lpips"),
                mean("telea", "lpips"),
                self.faces_masked
            ),
            None => String::new(),
        };
        format!(
            "{} photos: {} faces found, {} masked, {} unmasked; {} bare faces changed; {lpips}hole L1 ours {:.4} vs Telea {:.4}",
            self.photos,
            self.faces_found,
            self.faces_masked,
            self.faces_unmasked,
            self.bare_faces_changed,
            mean("ours", "hole_l1"),
            mean("telea", "hole_l1"),
        )
    }

    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# Unmasking real photos end to end\n\n{} photos, {} faces found, {} with a mask drawn, {} unmasked. Bare faces changed: {}.\n\n| method | hole L1 | LPIPS | SSIM | ID sim |\n|---|---:|---:|---:|---:|\n",
            self.photos, self.faces_found, self.faces_masked, self.faces_unmasked, self.bare_faces_changed
        );
        for method in METHODS {
            let cells: Vec<String> = SCORES
                .iter()
                .map(|s| match self.mean(method, s) {
                    v if v.is_finite() => format!("{v:.4}"),
                    _ => "-".into(),
                })
                .collect();
            md.push_str(&format!("| {method} | {} |\n", cells.join(" | ")));
        }
        md.push_str("\nOurs minus Telea per face (paired bootstrap interval; negative is better for hole L1 and LPIPS, positive for SSIM and ID sim):\n\n");
        let intervals = |md: &mut String, rows: &[(String, Interval)]| {
            for (s, i) in rows {
                md.push_str(&format!(
                    "- {s}: {:+.4} [{:+.4}, {:+.4}]\n",
                    i.mean, i.lo, i.hi
                ));
            }
        };
        intervals(&mut md, &self.ours_minus_telea);
        md.push_str(
            "\nOurs on the true holes minus Telea (the fills alone, on the same holes):\n\n",
        );
        intervals(&mut md, &self.true_holes_minus_telea);
        if let Some(wins) = self.lpips_wins_over_telea {
            md.push_str(&format!(
                "\nOurs has the lower LPIPS on {wins} of {} faces.",
                self.faces_masked
            ));
        }
        md.push_str(" Telea, the mean fill and `ours_true_holes` are given the true holes; `ours` finds them with the segmenter and goes through the whole photo path.\n");
        md
    }
}

/// Scores `photos` end to end into `out_dir`; `project_root` resolves the model folders.
pub fn evaluate_photos(
    photos: &[PathBuf],
    params: &EvalUnmaskParams,
    project_root: &Path,
    out_dir: &Path,
) -> Result<UnmaskSummary> {
    params.validate()?;
    let resolve = |p: &Path, what: &str, field: &str| -> Result<PathBuf> {
        let dir = project_root.join(p);
        anyhow::ensure!(
            dir.exists(),
            "no trained {what} in {} (eval-unmask.{field}): train one first, e.g. `cargo xtask run quickstart`, or point eval-unmask.{field} at one",
            dir.display()
        );
        Ok(dir)
    };
    let job = EvalJob {
        photos: photos.to_vec(),
        params: params.clone(),
        gan: resolve(&params.gan, "inpainting GAN", "gan")?,
        segmenter: resolve(&params.segmenter, "segmenter", "segmenter")?,
        store: WeightStore::from_env()?,
    };
    let (rows, counts, examples) = unmask_train::backend::infer_on(params.device, job)?;
    let summary = summarise(&rows, counts, params);
    let names: Vec<String> = ["unmasked", "coverage_masked", "coverage_bare"]
        .into_iter()
        .map(String::from)
        .chain(
            METHODS
                .iter()
                .flat_map(|m| SCORES.iter().map(move |s| format!("{m}_{s}"))),
        )
        .collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let table: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            [r.unmasked as u8 as f64, r.coverage_masked, r.coverage_bare]
                .into_iter()
                .chain(r.scores.iter().flatten().copied())
                .collect()
        })
        .collect();
    unmask_train::scores::tabulate(
        out_dir,
        rows.iter().map(|r| r.id.clone()).collect(),
        rows.iter().map(|r| r.mask_type.clone()).collect(),
        &name_refs,
        &table,
    )?;
    // The per-image table under the name this stage's readers look for.
    let (from, to) = (
        out_dir.join(unmask_train::scores::PER_IMAGE),
        out_dir.join(PER_FACE_FILE),
    );
    std::fs::rename(&from, &to)
        .with_context(|| format!("renaming {} to {}", from.display(), to.display()))?;
    unmask_core::atomic::write_bytes(
        &out_dir.join(unmask_train::scores::METRICS_MD),
        summary.markdown().as_bytes(),
    )?;
    unmask_core::atomic::write_bytes(
        &out_dir.join(SUMMARY_FILE),
        &unmask_train::checkpoint::to_json(&summary)?,
    )?;
    if !examples.is_empty() {
        let grid = unmask_core::preview::grid(&examples, SIDE_BY_SIDE_TILES, 160);
        unmask_core::atomic::save_png(&grid, &out_dir.join(SIDE_BY_SIDE_FILE))?;
    }
    Ok(summary)
}

/// Photo and face counts of a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub photos: usize,
    pub faces_found: usize,
    pub faces_masked: usize,
    pub faces_unmasked: usize,
    pub bare_faces_changed: usize,
}

fn summarise(rows: &[FaceScores], counts: Counts, params: &EvalUnmaskParams) -> UnmaskSummary {
    let means = METHODS
        .iter()
        .enumerate()
        .flat_map(|(m, method)| {
            SCORES.iter().enumerate().map(move |(s, score)| {
                let finite: Vec<f64> = rows
                    .iter()
                    .map(|r| r.scores[m][s])
                    .filter(|v| v.is_finite())
                    .collect();
                let mean = finite.iter().sum::<f64>() / finite.len() as f64;
                (method.to_string(), score.to_string(), mean)
            })
        })
        .collect();
    let minus_telea = |method: usize, label: &str| -> Vec<(String, Interval)> {
        SCORES
            .iter()
            .enumerate()
            .map(|(s, score)| {
                let diffs: Vec<f64> = rows
                    .iter()
                    .map(|r| r.scores[method][s] - r.scores[1][s])
                    .collect();
                let interval = mean_interval(
                    &diffs,
                    params.resamples,
                    params.confidence,
                    params.seed,
                    &format!("eval-unmask:{label}-telea:{score}"),
                );
                (score.to_string(), interval)
            })
            .collect()
    };
    UnmaskSummary {
        photos: counts.photos,
        faces_found: counts.faces_found,
        faces_masked: counts.faces_masked,
        faces_unmasked: counts.faces_unmasked,
        bare_faces_changed: counts.bare_faces_changed,
        means,
        ours_minus_telea: minus_telea(0, "ours"),
        true_holes_minus_telea: minus_telea(3, "ours_true_holes"),
        lpips_wins_over_telea: params.lpips.then(|| {
            rows.iter()
                .filter(|r| r.scores[0][1] < r.scores[1][1])
                .count()
        }),
    }
}

struct EvalJob {
    photos: Vec<PathBuf>,
    params: EvalUnmaskParams,
    gan: PathBuf,
    segmenter: PathBuf,
    store: WeightStore,
}

impl InferJob for EvalJob {
    type Output = (Vec<FaceScores>, Counts, Vec<RgbImage>);

    fn run<B: KernelBackend>(self, device: B::Device) -> Result<Self::Output> {
        let p = &self.params;
        let unmasker = Unmasker::<B>::load(
            &self.store,
            Detector::of_kind(p.detector),
            &self.segmenter,
            &self.gan,
            p.unmask.clone(),
            &device,
        )?;
        let lpips = if p.lpips {
            Some(Lpips::<B>::from_store(
                LpipsNet::Alex,
                &self.store,
                &device,
            )?)
        } else {
            None
        };
        let identity = if p.identity {
            let path = self.store.path(unmask_weights::Asset::FaceRecognition)?;
            Some(FaceRecognitionNet::<B>::load(&path, &device)?)
        } else {
            None
        };
        let judges = Judges {
            lpips: lpips.as_ref(),
            identity: identity.as_ref(),
        };
        let share = unmasker.inpainter.info().generator.hole_dilation;
        let styles = MaskConfig::default();
        let (mut rows, mut counts, mut examples) = (Vec::new(), Counts::default(), Vec::new());
        let progress =
            unmask_core::progress::Progress::new("eval-unmask", self.photos.len() as u64);
        for path in &self.photos {
            progress.inc(1);
            let bare = unmask_detect::read_photo(path)?;
            let name = path
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            let (boxes, points) = unmasker
                .faces
                .find(&bare, p.detector.face_api_min_score())
                .with_context(|| format!("finding the faces of {}", path.display()))?;
            counts.photos += 1;
            counts.faces_found += boxes.len();
            let worn = wear_masks(&bare, &points, &styles, p.seed, &name, &[]);
            let out = unmasker
                .unmask(&worn.image)
                .with_context(|| format!("unmasking {} with masks drawn", path.display()))?;
            let bare_out = unmasker
                .unmask(&bare)
                .with_context(|| format!("unmasking the bare {}", path.display()))?;
            counts.bare_faces_changed += bare_out.faces_unmasked();
            let stem = path
                .file_stem()
                .map_or("photo".into(), |s| s.to_string_lossy().into_owned());
            for (k, (lm, face)) in points.iter().zip(&worn.faces).enumerate() {
                let Some(Ok(drawn)) = &face.drawn else {
                    continue;
                };
                counts.faces_masked += 1;
                let unmasked = filled_share(drawn, &worn.image, &out.image) >= 0.5;
                counts.faces_unmasked += unmasked as usize;
                let align = Alignment::ffhq(lm, CROP_SIZE);
                let crops = FaceCrops {
                    target: align.crop(&bare),
                    masked: align.crop(&worn.image),
                    ours: align.crop(&out.image),
                    hole: crop_mask(&align, &drawn.mask),
                };
                // A guided GAN draws along the landmarks the photo path placed on the masked
                // face, as a user's fill would; the bare photo's only where it found none.
                let masked_match = matching(&out.faces, &boxes[k]);
                let masked_points = masked_match.map_or(lm, |f| &f.landmarks);
                let (ours_true_holes, _) = unmasker
                    .fill(
                        &crops.masked,
                        &crops.hole,
                        (&align, masked_points),
                        &p.unmask,
                    )
                    .with_context(|| format!("inpainting face {k} of {}", path.display()))?;
                let (scores, telea) =
                    score_face::<B>(&crops, &ours_true_holes, share, judges, &device)?;
                if examples.len() < SIDE_BY_SIDE_TILES * p.examples {
                    examples.extend([
                        crops.masked,
                        crops.ours,
                        ours_true_holes,
                        telea,
                        crops.target,
                    ]);
                }
                rows.push(FaceScores {
                    id: format!("{stem}_{k}"),
                    mask_type: drawn.mask_type.as_str().to_string(),
                    unmasked,
                    coverage_masked: coverage_of_match(masked_match),
                    coverage_bare: coverage_at(&bare_out.faces, &boxes[k]),
                    scores,
                });
            }
        }
        progress.finish();
        Ok((rows, counts, examples))
    }
}

/// One face's aligned crops.
struct FaceCrops {
    target: RgbImage,
    masked: RgbImage,
    ours: RgbImage,
    /// The drawn mask in the crop (255 inside).
    hole: GrayImage,
}

/// Scores of the [`METHODS`] on one face, and Telea's fill.
fn score_face<B: KernelBackend>(
    crops: &FaceCrops,
    ours_true_holes: &RgbImage,
    share: f32,
    judges: Judges<B>,
    device: &B::Device,
) -> Result<([[f64; 4]; 4], RgbImage)> {
    let rgb = |img: &RgbImage| {
        images::batch_tensor::<B>(
            images::rgb_planes(img, false),
            1,
            3,
            CROP_SIZE as usize,
            device,
        )
    };
    let gray = |img: &GrayImage| {
        images::batch_tensor::<B>(
            images::mask_plane(img, false),
            1,
            1,
            CROP_SIZE as usize,
            device,
        )
    };
    let (target, masked, hole) = (rgb(&crops.target), rgb(&crops.masked), gray(&crops.hole));
    let grown = gray(&unmask_inpaint::hole::grow_mask_by_share(
        &crops.hole,
        share,
    ));
    let telea = BaselineMethod::Telea.fill(masked.clone(), grown.clone());
    let mean_fill = BaselineMethod::MeanFill.fill(masked, grown);
    let telea_image = images::tensor_to_rgb(&telea, 0);
    let original = match judges.identity {
        Some(net) => Some(net.descriptor_of_image(&crops.target)?),
        None => None,
    };
    let score = |fill: Tensor<B, 4>| -> Result<[f64; 4]> {
        let first = |t: Tensor<B, 1>| to_vec(t)[0] as f64;
        let id_sim = match (judges.identity, &original) {
            (Some(net), Some(original)) => cosine_similarity(
                &net.descriptor_of_image(&images::tensor_to_rgb(&fill, 0))?,
                original,
            ),
            _ => f64::NAN,
        };
        Ok([
            first(hole_l1(fill.clone(), target.clone(), hole.clone())),
            judges.lpips.map_or(f64::NAN, |l| {
                first(l.distance(fill.clone(), target.clone()))
            }),
            first(ssim(fill, target.clone())),
            id_sim,
        ])
    };
    Ok((
        [
            score(rgb(&crops.ours))?,
            score(telea)?,
            score(mean_fill)?,
            score(rgb(ours_true_holes))?,
        ],
        telea_image,
    ))
}

/// The mouth-and-chin coverage of the unmasker's face that overlaps `face` most (NaN when none
/// overlaps it by a third): the unmasker detects faces again, in its own order.
fn coverage_at(faces: &[FaceOutcome], face: &FaceBox) -> f64 {
    coverage_of_match(matching(faces, face))
}

fn coverage_of_match(face: Option<&FaceOutcome>) -> f64 {
    face.map_or(f64::NAN, |f| f.mouth_chin_coverage)
}

/// The unmasker's face that overlaps `face` most, if one overlaps it by a third.
fn matching<'a>(faces: &'a [FaceOutcome], face: &FaceBox) -> Option<&'a FaceOutcome> {
    faces
        .iter()
        .map(|f| (f.face.iou(face), f))
        .filter(|(iou, _)| *iou >= 1.0 / 3.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, f)| f)
}

/// The share of the face's drawn mask whose pixels the unmasker changed.
fn filled_share(drawn: &Drawn, masked: &RgbImage, out: &RgbImage) -> f64 {
    let (mut inside, mut changed) = (0usize, 0usize);
    for ((m, a), b) in drawn.mask.pixels().zip(masked.pixels()).zip(out.pixels()) {
        if m.0[0] > 127 {
            inside += 1;
            changed += (a != b) as usize;
        }
    }
    changed as f64 / inside.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_share_counts_changed_pixels_inside_the_drawn_mask() {
        let mask = GrayImage::from_fn(4, 4, |x, _| image::Luma([if x < 2 { 255 } else { 0 }]));
        let drawn = Drawn {
            mask_type: unmask_masks::MaskType::Surgical,
            mask: mask.clone(),
            mask_pixels: 8,
        };
        let masked = RgbImage::new(4, 4);
        // Changed: the whole top row (2 pixels in the mask) and pixels outside the mask.
        let out = RgbImage::from_fn(4, 4, |x, y| {
            image::Rgb(if y == 0 || x >= 2 { [9; 3] } else { [0; 3] })
        });
        assert_eq!(filled_share(&drawn, &masked, &out), 2.0 / 8.0);
        assert_eq!(filled_share(&drawn, &masked, &masked), 0.0);
    }

    #[test]
    fn summary_pairs_faces_and_leaves_lpips_out_when_off() {
        let face = |ours: f64, telea: f64| FaceScores {
            id: "f".into(),
            mask_type: "gas".into(),
            unmasked: true,
            coverage_masked: 0.9,
            coverage_bare: 0.0,
            scores: [
                [ours, f64::NAN, 0.8, f64::NAN],
                [telea, f64::NAN, 0.9, f64::NAN],
                [0.3, f64::NAN, 0.7, f64::NAN],
                [ours + 0.05, f64::NAN, 0.8, f64::NAN],
            ],
        };
        let rows: Vec<FaceScores> = (0..20)
            .map(|i| face(0.1 + 0.01 * i as f64, 0.12 + 0.01 * i as f64))
            .collect();
        let params = EvalUnmaskParams {
            lpips: false,
            identity: false,
            ..Default::default()
        };
        let s = summarise(&rows, Counts::default(), &params);
        let (name, diff) = &s.ours_minus_telea[0];
        assert_eq!(name, "hole_l1");
        assert!(
            (diff.mean + 0.02).abs() < 1e-12 && diff.hi < 0.0,
            "{diff:?}"
        );
        // The true-hole fill is paired against Telea on its own: worse by 0.03 on every face.
        let (_, true_holes) = &s.true_holes_minus_telea[0];
        assert!(
            (true_holes.mean - 0.03).abs() < 1e-12 && true_holes.lo > 0.0,
            "{true_holes:?}"
        );
        assert!((s.mean("telea", "ssim") - 0.9).abs() < 1e-12);
        assert!(s.mean("ours", "lpips").is_nan());
        assert_eq!(s.lpips_wins_over_telea, None);
        let md = s.markdown();
        assert!(
            !md.contains("lower LPIPS")
                && md.contains("| ours |")
                && md.contains("| ours_true_holes |"),
            "{md}"
        );
    }
}
