//! A folder of photos without a landmarks file: every face unmask-detect finds (face-api's
//! detector and 68-point net) is cut out as an FFHQ-style aligned crop at the dataset's size,
//! its landmarks carried into the crop. Photos that cannot be read or hold no face are listed
//! in `rejects.parquet` with the reason.

use crate::dataset::{FacesConfig, FacesSummary, Split, IMAGES, MANIFEST};
use anyhow::{Context, Result};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use unmask_core::{manifest, preview, progress::Progress, Landmarks};
use unmask_detect::{read_photo, Alignment, Detector, FaceFinder};
use unmask_weights::{WeightStore, FACE_API, FACE_API_DEMO_PHOTOS};

type Cpu = burn::backend::Flex;

pub const REJECTS: &str = "rejects.parquet";

struct Crop {
    id: String,
    path: String,
    photo: String,
    split: Split,
    score: f64,
    landmarks: Landmarks,
}

pub(crate) fn detect_folder(cfg: &FacesConfig, dir: &Path, out_dir: &Path) -> Result<FacesSummary> {
    let photos = crate::folder::list_images(dir)?;
    anyhow::ensure!(!photos.is_empty(), "{} holds no images", dir.display());
    detect_photos(cfg, &photos, &dir.display().to_string(), out_dir)
}

/// face-api's six demo photos (22 real faces), fetched from its npm package by the weights
/// store: a small real-face set no registry of face datasets is needed for.
pub(crate) fn detect_demo_photos(cfg: &FacesConfig, out_dir: &Path) -> Result<FacesSummary> {
    let store = WeightStore::from_env()?;
    let photos = store.package_files(&FACE_API, &FACE_API_DEMO_PHOTOS)?;
    detect_photos(cfg, &photos, "face-api's demo photos", out_dir)
}

/// Detects, aligns and writes the faces of `photos`; `origin` names them in errors.
fn detect_photos(
    cfg: &FacesConfig,
    photos: &[PathBuf],
    origin: &str,
    out_dir: &Path,
) -> Result<FacesSummary> {
    let store = WeightStore::from_env()?;
    let finder =
        FaceFinder::<Cpu>::load(&store, Detector::of_kind(cfg.detector), &Default::default())?;
    let min_score = cfg.detector.face_api_min_score();
    std::fs::create_dir_all(out_dir.join(IMAGES))?;
    let progress = Progress::new("faces", photos.len() as u64);
    let (mut crops, mut rejects, mut tiles) = (Vec::new(), Vec::new(), Vec::new());
    for (index, path) in photos.iter().enumerate() {
        progress.inc(1);
        let found = read_photo(path).and_then(|img| {
            let (boxes, points) = finder.find(&img, min_score)?;
            Ok((img, boxes, points))
        });
        let (img, boxes, points) = match found {
            Ok(f) => f,
            Err(e) => {
                // The path is a column of its own; the reason starts with what went wrong.
                let shown = format!("{}: ", path.display());
                let reason = format!("{e:#}");
                let reason = reason.strip_prefix(&shown).unwrap_or(&reason).to_string();
                rejects.push((path.display().to_string(), reason));
                continue;
            }
        };
        if boxes.is_empty() {
            rejects.push((path.display().to_string(), "no face found".into()));
            continue;
        }
        // Every face of a photo shares its split, so one photo never feeds two splits.
        let split = Split::assign(cfg.seed, index as u64, cfg.val_fraction, cfg.test_fraction);
        let stem = path
            .file_stem()
            .map_or("photo".into(), |s| s.to_string_lossy().into_owned());
        for (k, (face, lm)) in boxes.iter().zip(&points).enumerate() {
            let align = Alignment::ffhq(lm, cfg.size);
            let crop = align.crop(&img);
            let mut moved = [[0.0f32; 2]; 68];
            for (m, p) in moved.iter_mut().zip(lm) {
                let c = align.to_crop(p[0], p[1]);
                *m = [c[0] as f32, c[1] as f32];
            }
            let id = format!("{stem}_{k}");
            let rel = format!("{IMAGES}/{id}.png");
            unmask_core::atomic::save_png(&crop, &out_dir.join(&rel))
                .with_context(|| format!("writing the crop of {}", path.display()))?;
            if tiles.len() < cfg.preview_count {
                let mut tile = crop.clone();
                if cfg.preview_landmarks {
                    preview::draw_points(&mut tile, &moved, image::Rgb([0, 255, 80]));
                }
                tiles.push(tile);
            }
            crops.push(Crop {
                id,
                path: rel,
                photo: path.display().to_string(),
                split,
                score: face.score,
                landmarks: Landmarks(moved),
            });
        }
    }
    progress.finish();
    unmask_core::rejects::ensure_few_rejected(
        &rejects,
        rejects.len(),
        photos.len(),
        unmask_core::rejects::RejectLimit {
            max_fraction: cfg.max_reject_fraction,
            what: "photos",
            field: "faces.max_reject_fraction",
        },
    )?;
    anyhow::ensure!(
        !crops.is_empty(),
        "no face found in any photo of {} ({} rejected)",
        origin,
        rejects.len()
    );
    let lms: Vec<Landmarks> = crops.iter().map(|c| c.landmarks).collect();
    let mut cols = crate::dataset::face_columns(
        crops.iter().map(|c| c.id.clone()).collect(),
        crops.iter().map(|c| c.path.clone()).collect(),
        crops.iter().map(|c| c.split).collect(),
        vec![(cfg.size, cfg.size); crops.len()],
        &lms,
    );
    cols.push(Column::new(
        "source_photo".into(),
        crops.iter().map(|c| c.photo.clone()).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "detection_score".into(),
        crops.iter().map(|c| c.score).collect::<Vec<_>>(),
    ));
    manifest::write_parquet(
        &mut DataFrame::new(crops.len(), cols)?,
        &out_dir.join(MANIFEST),
    )?;
    let reject_cols = vec![
        Column::new(
            "photo".into(),
            rejects.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "reason".into(),
            rejects.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        ),
    ];
    manifest::write_parquet(
        &mut DataFrame::new(rejects.len(), reject_cols)?,
        &out_dir.join(REJECTS),
    )?;
    crate::dataset::save_preview(&tiles, cfg.size, out_dir)?;
    Ok(FacesSummary::of_splits(crops.iter().map(|c| c.split)))
}
