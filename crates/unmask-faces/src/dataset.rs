//! Writes a synthetic face dataset: one PNG per face, a parquet manifest with the exact
//! landmarks, split and generator parameters, and a preview grid.

use crate::synthetic::{generate_face, FaceParams};
use anyhow::{ensure, Result};
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_core::{manifest, preview, progress::Progress, Landmarks};
use unmask_detect::DetectorKind;

/// Parameters of the synthetic faces stage (`kind: faces`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FacesConfig {
    /// Number of faces to generate.
    pub count: usize,
    /// Width and height of each face image in pixels.
    pub size: u32,
    /// Seed of the generator; face `i` depends only on `(seed, i)`.
    pub seed: u64,
    /// Fraction of faces assigned to the validation split.
    pub val_fraction: f64,
    /// Fraction of faces assigned to the test split.
    pub test_fraction: f64,
    /// Number of faces shown in `preview.png`.
    pub preview_count: usize,
    /// Draw the 68 landmarks on the preview.
    pub preview_landmarks: bool,
    /// A folder of face photos to use instead of synthetic faces.
    pub dir: Option<PathBuf>,
    /// The landmarks of the photos in `dir`: CSV or parquet, 68 x/y pairs per image.
    pub landmarks: Option<PathBuf>,
    /// face-api's six demo photos (22 real faces, fetched from its npm package), detected
    /// and aligned: a small real-face check without a face dataset.
    pub demo_photos: bool,
    /// The face detector for photos without landmarks (`dir` alone, `demo_photos`): `ssd`
    /// (finds more faces) or `tiny` (about five times faster).
    pub detector: DetectorKind,
    /// The stage fails when more than this share of the photos of `dir` (or the demo photos)
    /// is rejected: unreadable, or without a face.
    pub max_reject_fraction: f64,
}

impl Default for FacesConfig {
    fn default() -> Self {
        Self {
            count: 1000,
            size: 256,
            seed: 0,
            val_fraction: 0.1,
            test_fraction: 0.1,
            preview_count: 32,
            preview_landmarks: false,
            dir: None,
            landmarks: None,
            demo_photos: false,
            detector: DetectorKind::default(),
            max_reject_fraction: unmask_core::rejects::DEFAULT_MAX_REJECT_FRACTION,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    /// The split of sample `index`, from a hash of `(seed, index)`: stable when `count` grows,
    /// independent of processing order.
    pub fn assign(seed: u64, index: u64, val_fraction: f64, test_fraction: f64) -> Self {
        let u = unmask_core::rng::sample_unit(seed, "split", index);
        if u < test_fraction {
            Split::Test
        } else if u < test_fraction + val_fraction {
            Split::Val
        } else {
            Split::Train
        }
    }
}

/// What a run produced, for the stage summary.
#[derive(Clone, Debug)]
pub struct FacesSummary {
    pub count: usize,
    pub train: usize,
    pub val: usize,
    pub test: usize,
}

impl FacesSummary {
    /// The counts of faces with these splits.
    pub fn of_splits(splits: impl IntoIterator<Item = Split>) -> Self {
        let mut summary = Self {
            count: 0,
            train: 0,
            val: 0,
            test: 0,
        };
        for split in splits {
            summary.count += 1;
            match split {
                Split::Train => summary.train += 1,
                Split::Val => summary.val += 1,
                Split::Test => summary.test += 1,
            }
        }
        summary
    }
}

/// `preview.png`: up to eight tiles a row, at most 128 px each; nothing when there are none.
pub(crate) fn save_preview(tiles: &[image::RgbImage], size: u32, out_dir: &Path) -> Result<()> {
    if !tiles.is_empty() {
        let grid = preview::grid(tiles, 8.min(tiles.len()), size.min(128));
        unmask_core::atomic::save_png(&grid, &out_dir.join(PREVIEW))?;
    }
    Ok(())
}

struct Row {
    id: String,
    path: String,
    split: Split,
    landmarks: Landmarks,
    params: FaceParams,
}

pub use unmask_core::faces::MANIFEST;
pub const IMAGES: &str = "images";
pub const PREVIEW: &str = "preview.png";

impl FacesConfig {
    pub fn validate(&self) -> Result<()> {
        ensure!(self.count > 0, "count must be at least 1");
        ensure!(
            (32..=2048).contains(&self.size),
            "size must be between 32 and 2048, got {}",
            self.size
        );
        ensure!(
            (0.0..1.0).contains(&self.val_fraction)
                && (0.0..1.0).contains(&self.test_fraction)
                && self.val_fraction + self.test_fraction < 1.0,
            "val_fraction and test_fraction must be in [0, 1) and sum to less than 1"
        );
        unmask_core::rejects::check_fraction("max_reject_fraction", self.max_reject_fraction)?;
        Ok(())
    }
}

/// Writes the face dataset described by `cfg` into `out_dir`: synthetic faces by default, or
/// the photos of `cfg.dir` with the landmarks of `cfg.landmarks`.
pub fn generate(cfg: &FacesConfig, out_dir: &Path) -> Result<FacesSummary> {
    cfg.validate()?;
    let source = crate::source::from_config(cfg)?;
    tracing::info!("faces from {}", source.name());
    source.write(cfg, out_dir)
}

pub(crate) fn import_folder(
    cfg: &FacesConfig,
    dir: &Path,
    landmarks: &Path,
    out_dir: &Path,
) -> Result<FacesSummary> {
    let faces = crate::folder::read_folder(
        dir,
        landmarks,
        cfg.seed,
        cfg.val_fraction,
        cfg.test_fraction,
    )?;
    let sizes: Vec<(u32, u32)> = faces
        .par_iter()
        .map(|f| image::image_dimensions(&f.path).unwrap_or((0, 0)))
        .collect();
    let lms: Vec<Landmarks> = faces.iter().map(|f| f.landmarks).collect();
    let cols = face_columns(
        faces.iter().map(|f| f.id.clone()).collect(),
        faces.iter().map(|f| f.path.display().to_string()).collect(),
        faces.iter().map(|f| f.split).collect(),
        sizes,
        &lms,
    );
    let mut df = DataFrame::new(faces.len(), cols)?;
    manifest::write_parquet(&mut df, &out_dir.join(MANIFEST))?;
    let tiles: Vec<image::RgbImage> = faces
        .iter()
        .take(cfg.preview_count)
        .filter_map(|f| {
            let mut img = image::open(&f.path).ok()?.to_rgb8();
            if cfg.preview_landmarks {
                preview::draw_points(&mut img, &f.landmarks.0, image::Rgb([0, 255, 80]));
            }
            Some(img)
        })
        .collect();
    save_preview(&tiles, cfg.size, out_dir)?;
    Ok(FacesSummary::of_splits(faces.iter().map(|f| f.split)))
}

/// The manifest columns every face source writes: id, path, split, width, height and the
/// 136 landmark coordinates.
pub(crate) fn face_columns(
    ids: Vec<String>,
    paths: Vec<String>,
    splits: Vec<Split>,
    sizes: Vec<(u32, u32)>,
    landmarks: &[Landmarks],
) -> Vec<Column> {
    let mut cols = vec![
        Column::new("id".into(), ids),
        Column::new("path".into(), paths),
        Column::new(
            "split".into(),
            splits.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "width".into(),
            sizes.iter().map(|s| s.0).collect::<Vec<_>>(),
        ),
        Column::new(
            "height".into(),
            sizes.iter().map(|s| s.1).collect::<Vec<_>>(),
        ),
    ];
    cols.extend(manifest::landmark_series(landmarks));
    cols
}

pub(crate) fn generate_synthetic(cfg: &FacesConfig, out_dir: &Path) -> Result<FacesSummary> {
    let images_dir = out_dir.join(IMAGES);
    std::fs::create_dir_all(&images_dir)?;
    let progress = Progress::new("faces", cfg.count as u64);
    let rows: Vec<Row> = (0..cfg.count)
        .into_par_iter()
        .map(|i| {
            let face = generate_face(cfg.seed, i as u64, cfg.size);
            let id = format!("{i:06}");
            let rel = format!("{IMAGES}/{id}.png");
            unmask_core::atomic::save_png(&face.image, &out_dir.join(&rel))?;
            progress.inc(1);
            Ok(Row {
                id,
                path: rel,
                split: Split::assign(cfg.seed, i as u64, cfg.val_fraction, cfg.test_fraction),
                landmarks: face.landmarks,
                params: face.params,
            })
        })
        .collect::<Result<_>>()?;
    progress.finish();
    write_preview(cfg, &rows, out_dir)?;
    let mut df = manifest_frame(&rows, cfg.size)?;
    manifest::write_parquet(&mut df, &out_dir.join(MANIFEST))?;
    Ok(FacesSummary::of_splits(rows.iter().map(|r| r.split)))
}

fn write_preview(cfg: &FacesConfig, rows: &[Row], out_dir: &Path) -> Result<()> {
    let n = cfg.preview_count.min(rows.len());
    if n == 0 {
        return Ok(());
    }
    let tiles: Vec<image::RgbImage> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut img = generate_face(cfg.seed, i as u64, cfg.size).image;
            if cfg.preview_landmarks {
                preview::draw_points(&mut img, &rows[i].landmarks.0, image::Rgb([0, 255, 80]));
            }
            img
        })
        .collect();
    save_preview(&tiles, cfg.size, out_dir)
}

fn manifest_frame(rows: &[Row], size: u32) -> Result<DataFrame> {
    let text = |f: &dyn Fn(&Row) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let num =
        |f: &dyn Fn(&FaceParams) -> f32| rows.iter().map(|r| f(&r.params)).collect::<Vec<f32>>();
    let hex = |c: [f32; 3]| {
        let b = c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8);
        format!("#{:02x}{:02x}{:02x}", b[0], b[1], b[2])
    };
    let mut cols = vec![
        Column::new("id".into(), text(&|r| r.id.clone())),
        Column::new("path".into(), text(&|r| r.path.clone())),
        Column::new("split".into(), text(&|r| r.split.as_str().to_string())),
        Column::new("width".into(), vec![size; rows.len()]),
        Column::new("height".into(), vec![size; rows.len()]),
    ];
    let lms: Vec<Landmarks> = rows.iter().map(|r| r.landmarks).collect();
    cols.extend(manifest::landmark_series(&lms));
    cols.extend([
        Column::new("yaw_deg".into(), num(&|p| p.yaw)),
        Column::new("roll_deg".into(), num(&|p| p.roll)),
        Column::new("skin_tone".into(), num(&|p| p.skin_tone)),
        Column::new("skin_color".into(), text(&|r| hex(r.params.skin))),
        Column::new(
            "hair_style".into(),
            text(&|r| r.params.hair_style.as_str().to_string()),
        ),
        Column::new("hair_color".into(), text(&|r| hex(r.params.hair_color))),
        Column::new(
            "facial_hair".into(),
            text(&|r| r.params.facial_hair.as_str().to_string()),
        ),
        Column::new(
            "glasses".into(),
            text(&|r| r.params.glasses.as_str().to_string()),
        ),
        Column::new("face_width".into(), num(&|p| p.face_width)),
        Column::new("jaw_width".into(), num(&|p| p.jaw_width)),
        Column::new("chin_y".into(), num(&|p| p.chin_y)),
        Column::new("nose_width".into(), num(&|p| p.nose_width)),
        Column::new("mouth_width".into(), num(&|p| p.mouth_width)),
        Column::new("smile".into(), num(&|p| p.smile)),
        Column::new("mouth_open".into(), num(&|p| p.mouth_open)),
        Column::new("lip_color".into(), text(&|r| hex(r.params.lip_color))),
        Column::new("light_angle".into(), num(&|p| p.light_angle)),
        Column::new(
            "blur_radius".into(),
            rows.iter()
                .map(|r| r.params.blur_radius)
                .collect::<Vec<u32>>(),
        ),
        Column::new("noise".into(), num(&|p| p.noise)),
    ]);
    Ok(DataFrame::new(rows.len(), cols)?)
}
