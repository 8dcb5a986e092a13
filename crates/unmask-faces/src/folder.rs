//! A folder of face photos plus a landmarks file (CSV or parquet, 68 x/y pairs per image), for
//! users who bring CelebA-HQ, FFHQ or their own photos with landmarks.
//!
//! The landmarks file either names each row's image (a `file`, `image` or `path` column,
//! relative to the folder) or, without such a column, lists the folder's images in sorted
//! order. Coordinates are the columns `lm00_x, lm00_y, ...` when present, otherwise the 136
//! numeric columns in order `x0, y0, x1, y1, ...`.

use crate::dataset::Split;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use unmask_core::{Landmarks, N_LANDMARKS};

const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// One row of a folder dataset.
pub struct FolderFace {
    pub id: String,
    pub path: PathBuf,
    pub split: Split,
    pub landmarks: Landmarks,
}

/// The images of `dir`, sorted by file name.
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>> {
    unmask_core::listing::files_with_extensions(dir, IMAGE_EXTENSIONS)
        .with_context(|| format!("cannot read the face folder {}", dir.display()))
}

/// A table of text cells with a header, from CSV or parquet.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_table(path: &Path) -> Result<Table> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "parquet" {
        let df = unmask_core::manifest::read_parquet(path)?;
        let header: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cols: Vec<Vec<String>> = df
            .columns()
            .iter()
            .map(|c| {
                (0..df.height())
                    .map(|i| {
                        c.get(i)
                            .map(|v| v.to_string().trim_matches('"').to_string())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        let rows = (0..df.height())
            .map(|i| cols.iter().map(|c| c[i].clone()).collect())
            .collect();
        return Ok(Table { header, rows });
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot open landmarks file {}", path.display()))?;
    let header = reader.headers()?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| anyhow!("{}: row {}: {e}", path.display(), i + 1))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok(Table { header, rows })
}

/// Reads the folder and its landmarks file into faces with splits assigned from `seed`.
/// A landmark value that is missing or not a number becomes NaN: the mask stage rejects that
/// face and records why, rather than failing the whole dataset.
pub fn read_folder(
    dir: &Path,
    landmarks_file: &Path,
    seed: u64,
    val_fraction: f64,
    test_fraction: f64,
) -> Result<Vec<FolderFace>> {
    let images = list_images(dir)?;
    let table = read_table(landmarks_file)?;
    let file_col = table.header.iter().position(|h| {
        ["file", "image", "path", "filename", "image_id"].contains(&h.to_ascii_lowercase().as_str())
    });
    let named: Vec<usize> = unmask_core::landmarks::column_names()
        .iter()
        .filter_map(|n| table.header.iter().position(|h| h == n))
        .collect();
    let coord_cols: Vec<usize> = if named.len() == 2 * N_LANDMARKS {
        named
    } else {
        (0..table.header.len())
            .filter(|&i| Some(i) != file_col)
            .collect()
    };
    if coord_cols.len() != 2 * N_LANDMARKS {
        bail!(
            "{}: expected 136 landmark columns (68 x/y pairs){}, found {}",
            landmarks_file.display(),
            if file_col.is_some() {
                " besides the file column"
            } else {
                ""
            },
            coord_cols.len()
        );
    }
    if file_col.is_none() && table.rows.len() != images.len() {
        let first = table.rows.len().min(images.len()) + 1;
        bail!(
            "{}: row {first} has no matching image: the file has {} rows and {} has {} images (add a `file` column to name each row's image)",
            landmarks_file.display(),
            table.rows.len(),
            dir.display(),
            images.len()
        );
    }
    let mut faces = Vec::with_capacity(table.rows.len());
    for (i, row) in table.rows.iter().enumerate() {
        let path = match file_col {
            Some(c) => {
                let p = dir.join(&row[c]);
                if !p.is_file() {
                    bail!(
                        "{}: row {} names {}, which is not in {}",
                        landmarks_file.display(),
                        i + 1,
                        row[c],
                        dir.display()
                    );
                }
                p
            }
            None => images[i].clone(),
        };
        let flat: Vec<f32> = coord_cols
            .iter()
            .map(|&c| {
                row.get(c)
                    .and_then(|v| v.parse::<f32>().ok())
                    .unwrap_or(f32::NAN)
            })
            .collect();
        let id = path
            .file_stem()
            .map_or_else(|| format!("{i:06}"), |s| s.to_string_lossy().into_owned());
        let key = unmask_core::rng::stream_id(&id);
        faces.push(FolderFace {
            id,
            path: std::path::absolute(&path).unwrap_or(path),
            split: Split::assign(seed, key, val_fraction, test_fraction),
            landmarks: Landmarks::from_flat(&flat).expect("136 values"),
        });
    }
    Ok(faces)
}
