//! The masked-face dataset: renders masks onto every face of a faces manifest and writes the
//! masked image, the exact binary mask, the unmasked target and a parquet manifest row per
//! sample. A face that cannot be used (unreadable image, bad landmarks, impossible placement)
//! is skipped and recorded in `rejects.parquet` with the reason.

use crate::{render_mask, sample_style, MaskConfig, MaskType};
use anyhow::{bail, Result};
use image::{imageops, RgbImage};
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use unmask_core::faces::FaceRecord;
use unmask_core::{manifest, preview, progress::Progress, Landmarks};

pub const MANIFEST: &str = "manifest.parquet";
pub const REJECTS: &str = "rejects.parquet";
pub const PREVIEW: &str = "preview.png";

/// Parameters of the `masks` stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MasksParams {
    /// Seed of the style sampling; sample `k` of face `id` depends only on `(seed, id, k)`.
    pub seed: u64,
    /// Masked versions written per face.
    pub masks_per_face: usize,
    /// Output width and height; faces of another size (or not square) are cropped square
    /// around their landmarks and resized. `null` keeps the faces' own (square) size.
    pub size: Option<u32>,
    /// Mask types with their weights, colour and texture probabilities, shading.
    pub style: MaskConfig,
    /// Examples of each mask type in `preview.png`.
    pub preview_per_type: usize,
    /// The stage fails when more than this share of the masked samples could not be made
    /// (unreadable faces, impossible placements): a dataset that lost most of its faces is
    /// broken, not small.
    pub max_reject_fraction: f64,
}

impl Default for MasksParams {
    fn default() -> Self {
        Self {
            seed: 0,
            masks_per_face: 1,
            size: None,
            style: MaskConfig::default(),
            preview_per_type: 4,
            max_reject_fraction: unmask_core::rejects::DEFAULT_MAX_REJECT_FRACTION,
        }
    }
}

/// What a run produced, for the stage summary.
#[derive(Clone, Debug, Default)]
pub struct MasksSummary {
    pub faces: usize,
    pub written: usize,
    pub per_type: BTreeMap<MaskType, usize>,
    /// `(face id, reason)` of every rejected face or sample.
    pub rejected: Vec<(String, String)>,
}

impl MasksSummary {
    /// One line: counts per type and rejections grouped by reason.
    pub fn describe(&self) -> String {
        let types: Vec<String> = self
            .per_type
            .iter()
            .map(|(t, n)| format!("{} {n}", t.as_str()))
            .collect();
        let mut line = format!(
            "{} masked faces from {} faces ({})",
            self.written,
            self.faces,
            types.join(", ")
        );
        if !self.rejected.is_empty() {
            line.push_str(&format!(
                "; {} rejected: {}",
                self.rejected.len(),
                self.reject_reasons().join(", ")
            ));
        }
        line
    }

    /// `reason kind x count`, most frequent first.
    pub fn reject_reasons(&self) -> Vec<String> {
        unmask_core::rejects::grouped_reasons(self.rejected.iter().map(|r| r.1.as_str()))
    }
}

struct Sample {
    id: String,
    face_id: String,
    split: String,
    target: String,
    style: crate::MaskStyle,
    tilt: f32,
    variant: &'static str,
    anchors: [[f32; 2]; 6],
    area: f32,
    landmarks: Landmarks,
}

enum FaceOutcome {
    Rendered(Vec<Sample>, Vec<(String, String)>),
    Rejected(String, String),
}

/// Decodes a face (any colour type or bit depth becomes 8-bit RGB), checks its landmarks and
/// brings it to `size` x `size`.
fn prepare(
    face: &FaceRecord,
    size: Option<u32>,
) -> std::result::Result<(RgbImage, Landmarks, bool), String> {
    // The error names the file itself.
    let img = unmask_core::photo::read_image(&face.path)
        .map_err(|e| format!("unreadable image: {e:#}"))?;
    let (w, h) = img.dimensions();
    for (i, p) in face.landmarks.0.iter().enumerate() {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return Err(format!("missing or NaN landmark: point {i}"));
        }
        if p[0] < 0.0 || p[1] < 0.0 || p[0] > w as f32 || p[1] > h as f32 {
            return Err(format!(
                "landmark outside the image: point {i} at ({:.1}, {:.1}) in {w}x{h}",
                p[0], p[1]
            ));
        }
    }
    let target = size.unwrap_or(w);
    if w == h && w == target {
        return Ok((img, face.landmarks, false));
    }
    // Square crop centred on the landmarks, as large as the image allows.
    let side = w.min(h);
    let c = face.landmarks.centroid(0..68);
    let x0 = (c[0] - side as f32 / 2.0)
        .clamp(0.0, (w - side) as f32)
        .round() as u32;
    let y0 = (c[1] - side as f32 / 2.0)
        .clamp(0.0, (h - side) as f32)
        .round() as u32;
    let crop = imageops::crop_imm(&img, x0, y0, side, side).to_image();
    let resized = imageops::resize(&crop, target, target, imageops::FilterType::Triangle);
    let f = target as f32 / side as f32;
    let mut lm = face.landmarks;
    for p in lm.0.iter_mut() {
        *p = [(p[0] - x0 as f32) * f, (p[1] - y0 as f32) * f];
    }
    Ok((resized, lm, true))
}

/// `path` relative to folder `base` (both made absolute), with `..` where needed, so a run
/// folder can be moved as a whole.
fn relative_to(path: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (p, b) = (abs(path), abs(base));
    let pc: Vec<Component> = p.components().collect();
    let bc: Vec<Component> = b.components().collect();
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return p.display().to_string();
    }
    let mut rel = PathBuf::new();
    for _ in common..bc.len() {
        rel.push("..");
    }
    for c in &pc[common..] {
        rel.push(c);
    }
    rel.to_string_lossy().replace('\\', "/")
}

fn render_face(face: &FaceRecord, params: &MasksParams, out_dir: &Path) -> Result<FaceOutcome> {
    let (img, lm, resized) = match prepare(face, params.size) {
        Ok(v) => v,
        Err(reason) => return Ok(FaceOutcome::Rejected(face.id.clone(), reason)),
    };
    let target = if resized {
        let rel = format!("targets/{}.png", face.id);
        unmask_core::atomic::save_png(&img, &out_dir.join(&rel))?;
        rel
    } else {
        relative_to(&face.path, out_dir)
    };
    let mut samples = Vec::new();
    let mut rejects = Vec::new();
    for k in 0..params.masks_per_face {
        let id = format!("{}_{k}", face.id);
        let mut rng =
            unmask_core::rng::sample_rng(params.seed, &format!("mask:{}", face.id), k as u64);
        let style = sample_style(&params.style, &mut rng);
        let out = match render_mask(&img, &lm.0, &style) {
            Ok(out) => out,
            Err(e) => {
                rejects.push((face.id.clone(), format!("mask placement failed: {e}")));
                continue;
            }
        };
        unmask_core::atomic::save_png(&out.image, &out_dir.join(format!("masked/{id}.png")))?;
        unmask_core::atomic::save_png(&out.mask, &out_dir.join(format!("masks/{id}.png")))?;
        samples.push(Sample {
            id,
            face_id: face.id.clone(),
            split: face.split.clone(),
            target: target.clone(),
            tilt: out.tilt_degrees,
            variant: out.variant.as_str(),
            anchors: out.anchors.to_array(),
            area: out.area_fraction,
            landmarks: lm,
            style,
        });
    }
    Ok(FaceOutcome::Rendered(samples, rejects))
}

/// Renders masks for `faces` into `out_dir`: `masked/`, `masks/`, `targets/` (only for faces
/// that had to be resized), `manifest.parquet`, `rejects.parquet`, `preview.png`.
pub fn synthesize(
    params: &MasksParams,
    faces: &[FaceRecord],
    out_dir: &Path,
) -> Result<MasksSummary> {
    params
        .style
        .validate()
        .map_err(|e| anyhow::anyhow!("masks.style: {e}"))?;
    if params.masks_per_face == 0 {
        bail!("masks_per_face must be at least 1");
    }
    if let Some(s) = params.size {
        if !(32..=2048).contains(&s) {
            bail!("size must be between 32 and 2048, got {s}");
        }
    }
    unmask_core::rejects::check_fraction("max_reject_fraction", params.max_reject_fraction)?;
    let progress = Progress::new("masks", faces.len() as u64);
    let outcomes: Vec<FaceOutcome> = faces
        .par_iter()
        .map(|f| {
            let r = render_face(f, params, out_dir);
            progress.inc(1);
            r
        })
        .collect::<Result<_>>()?;
    progress.finish();
    let mut samples = Vec::new();
    let mut summary = MasksSummary {
        faces: faces.len(),
        ..Default::default()
    };
    for o in outcomes {
        match o {
            FaceOutcome::Rendered(s, r) => {
                samples.extend(s);
                summary.rejected.extend(r);
            }
            FaceOutcome::Rejected(id, reason) => summary.rejected.push((id, reason)),
        }
    }
    for s in &samples {
        *summary.per_type.entry(s.style.mask_type).or_default() += 1;
    }
    summary.written = samples.len();
    let attempted = faces.len() * params.masks_per_face;
    unmask_core::rejects::ensure_few_rejected(
        &summary.rejected,
        attempted - summary.written,
        attempted,
        unmask_core::rejects::RejectLimit {
            max_fraction: params.max_reject_fraction,
            what: "masked samples",
            field: "masks.max_reject_fraction",
        },
    )?;
    write_rejects(&summary.rejected, faces, out_dir)?;
    let mut df = manifest_frame(&samples)?;
    manifest::write_parquet(&mut df, &out_dir.join(MANIFEST))?;
    write_preview(&samples, params.preview_per_type, out_dir)?;
    if !summary.rejected.is_empty() {
        for (id, reason) in summary.rejected.iter().take(3) {
            tracing::warn!("rejected face {id}: {reason}");
        }
        tracing::warn!(
            "{} of {} faces or samples rejected ({}); see {} in the stage folder",
            summary.rejected.len(),
            faces.len() * params.masks_per_face,
            summary.reject_reasons().join(", "),
            REJECTS
        );
    }
    Ok(summary)
}

fn write_rejects(
    rejected: &[(String, String)],
    faces: &[FaceRecord],
    out_dir: &Path,
) -> Result<()> {
    let path_of = |id: &str| {
        faces
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.path.display().to_string())
            .unwrap_or_default()
    };
    let mut df = DataFrame::new(
        rejected.len(),
        vec![
            Column::new(
                "face_id".into(),
                rejected.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "path".into(),
                rejected.iter().map(|r| path_of(&r.0)).collect::<Vec<_>>(),
            ),
            Column::new(
                "reason".into(),
                rejected.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            ),
        ],
    )?;
    manifest::write_parquet(&mut df, &out_dir.join(REJECTS))
}

fn manifest_frame(samples: &[Sample]) -> Result<DataFrame> {
    let text = |f: &dyn Fn(&Sample) -> String| samples.iter().map(f).collect::<Vec<String>>();
    let num = |f: &dyn Fn(&Sample) -> f32| samples.iter().map(f).collect::<Vec<f32>>();
    let mut cols = vec![
        Column::new("id".into(), text(&|s| s.id.clone())),
        Column::new("face_id".into(), text(&|s| s.face_id.clone())),
        Column::new("split".into(), text(&|s| s.split.clone())),
        Column::new("masked".into(), text(&|s| format!("masked/{}.png", s.id))),
        Column::new("mask".into(), text(&|s| format!("masks/{}.png", s.id))),
        Column::new("target".into(), text(&|s| s.target.clone())),
        Column::new(
            "mask_type".into(),
            text(&|s| s.style.mask_type.as_str().to_string()),
        ),
        Column::new(
            "color".into(),
            text(&|s| s.style.color.map(|c| c.color.to_hex()).unwrap_or_default()),
        ),
        Column::new(
            "color_weight".into(),
            num(&|s| s.style.color.map_or(0.0, |c| c.weight)),
        ),
        Column::new(
            "pattern".into(),
            text(&|s| {
                s.style
                    .pattern
                    .as_ref()
                    .map_or("none".to_string(), |p| p.pattern.as_str().to_string())
            }),
        ),
        Column::new(
            "pattern_weight".into(),
            num(&|s| s.style.pattern.as_ref().map_or(0.0, |p| p.weight)),
        ),
        Column::new("tilt_deg".into(), num(&|s| s.tilt)),
        Column::new("variant".into(), text(&|s| s.variant.to_string())),
        Column::new("area_fraction".into(), num(&|s| s.area)),
    ];
    for (k, name) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        cols.push(Column::new(
            format!("{name}_x").into(),
            num(&|s| s.anchors[k][0]),
        ));
        cols.push(Column::new(
            format!("{name}_y").into(),
            num(&|s| s.anchors[k][1]),
        ));
    }
    let lms: Vec<Landmarks> = samples.iter().map(|s| s.landmarks).collect();
    cols.extend(manifest::landmark_series(&lms));
    Ok(DataFrame::new(samples.len(), cols)?)
}

/// One row per mask type: a few masked faces, each followed by its binary mask.
fn write_preview(samples: &[Sample], per_type: usize, out_dir: &Path) -> Result<()> {
    if per_type == 0 || samples.is_empty() {
        return Ok(());
    }
    let mut tiles = Vec::new();
    for t in MaskType::ALL {
        let chosen: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.style.mask_type == t)
            .take(per_type)
            .collect();
        if chosen.is_empty() {
            continue;
        }
        for slot in 0..per_type {
            match chosen.get(slot) {
                Some(s) => {
                    let masked =
                        image::open(out_dir.join(format!("masked/{}.png", s.id)))?.to_rgb8();
                    let mask = image::open(out_dir.join(format!("masks/{}.png", s.id)))?.to_rgb8();
                    tiles.push(masked);
                    tiles.push(mask);
                }
                None => {
                    tiles.push(RgbImage::new(1, 1));
                    tiles.push(RgbImage::new(1, 1));
                }
            }
        }
    }
    let grid = preview::grid(&tiles, 2 * per_type, 128);
    unmask_core::atomic::save_png(&grid, &out_dir.join(PREVIEW))
}
