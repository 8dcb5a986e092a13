//! Parquet manifests: read and write polars data frames, atomically, with errors that name the
//! file and the column.

use anyhow::{anyhow, Context, Result};
use polars::prelude::*;
use std::path::Path;

/// Writes `df` to `path` as zstd-compressed parquet, atomically.
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<()> {
    crate::atomic::write_bytes(path, &parquet_bytes(df)?)
}

/// `df` as zstd-compressed parquet bytes (for files that travel inside a checkpoint).
pub fn parquet_bytes(df: &mut DataFrame) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)?;
    Ok(bytes)
}

pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot open manifest {}", path.display()))?;
    let corrupt = |why: &str| {
        anyhow!(
            "cannot read parquet file {}: the file is corrupt ({why})",
            path.display()
        )
    };
    // polars' parquet layers panic on some corrupt files (indexing past their metadata,
    // thrift fields of the wrong type) instead of returning an error; a damaged manifest
    // must be an error naming the file. The counts polars would trust blindly are checked
    // first (parquet_guard.rs says why).
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::parquet_guard::check_counts(&bytes)
            .map(|()| ParquetReader::new(std::io::Cursor::new(bytes)).finish())
    }));
    match read {
        Ok(Ok(frame)) => {
            frame.map_err(|e| anyhow!("cannot read parquet file {}: {e}", path.display()))
        }
        Ok(Err(why)) => Err(corrupt(&why)),
        Err(panic) => Err(corrupt(&crate::panic_message(panic.as_ref()))),
    }
}

/// A string column of `df` as owned values; nulls are an error naming the row.
pub fn str_column(df: &DataFrame, name: &str, file: &Path) -> Result<Vec<String>> {
    let col = df
        .column(name)
        .map_err(|_| anyhow!("{}: missing column `{name}`", file.display()))?;
    let ca = col
        .str()
        .map_err(|_| anyhow!("{}: column `{name}` is not text", file.display()))?;
    ca.iter()
        .enumerate()
        .map(|(row, v)| {
            v.map(str::to_string)
                .ok_or_else(|| anyhow!("{}: row {row}: column `{name}` is empty", file.display()))
        })
        .collect()
}

/// A numeric column of `df` as f32 values (NaN for nulls, so callers can reject them).
pub fn f32_column(df: &DataFrame, name: &str, file: &Path) -> Result<Vec<f32>> {
    let col = df
        .column(name)
        .map_err(|_| anyhow!("{}: missing column `{name}`", file.display()))?;
    let cast = col
        .cast(&DataType::Float32)
        .map_err(|_| anyhow!("{}: column `{name}` is not numeric", file.display()))?;
    Ok(cast
        .f32()
        .map_err(|_| anyhow!("{}: column `{name}` is not numeric", file.display()))?
        .iter()
        .map(|v| v.unwrap_or(f32::NAN))
        .collect())
}

/// A numeric column of `df` as f64 values (NaN for nulls).
pub fn f64_column(df: &DataFrame, name: &str, file: &Path) -> Result<Vec<f64>> {
    let col = df
        .column(name)
        .map_err(|_| anyhow!("{}: missing column `{name}`", file.display()))?;
    let cast = col
        .cast(&DataType::Float64)
        .map_err(|_| anyhow!("{}: column `{name}` is not numeric", file.display()))?;
    Ok(cast
        .f64()
        .map_err(|_| anyhow!("{}: column `{name}` is not numeric", file.display()))?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// A boolean column of `df` (false for nulls).
pub fn bool_column(df: &DataFrame, name: &str, file: &Path) -> Result<Vec<bool>> {
    let col = df
        .column(name)
        .map_err(|_| anyhow!("{}: missing column `{name}`", file.display()))?;
    Ok(col
        .bool()
        .map_err(|_| anyhow!("{}: column `{name}` is not boolean", file.display()))?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// Reads the 136 landmark columns (`lmNN_x`, `lmNN_y`) of every row.
pub fn landmark_columns(df: &DataFrame, file: &Path) -> Result<Vec<crate::Landmarks>> {
    let names = crate::landmarks::column_names();
    let cols: Vec<Vec<f32>> = names
        .iter()
        .map(|n| f32_column(df, n, file))
        .collect::<Result<_>>()?;
    Ok((0..df.height())
        .map(|row| {
            let flat: Vec<f32> = cols.iter().map(|c| c[row]).collect();
            crate::Landmarks::from_flat(&flat).expect("136 columns")
        })
        .collect())
}

/// The 136 landmark columns for a list of faces, in manifest order.
pub fn landmark_series(landmarks: &[crate::Landmarks]) -> Vec<Column> {
    let names = crate::landmarks::column_names();
    let flats: Vec<[f32; 136]> = landmarks.iter().map(|l| l.to_flat()).collect();
    names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let values: Vec<f32> = flats.iter().map(|f| f[k]).collect();
            Column::new(name.as_str().into(), values)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landmarks_round_trip_through_parquet() {
        let mut pts = [[0.0f32; 2]; 68];
        for (i, p) in pts.iter_mut().enumerate() {
            *p = [i as f32 * 1.5, 200.0 - i as f32];
        }
        let lms = vec![crate::Landmarks(pts), crate::Landmarks(pts)];
        let mut cols = vec![Column::new("id".into(), ["a", "b"])];
        cols.extend(landmark_series(&lms));
        let mut df = DataFrame::new(2, cols).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        write_parquet(&mut df, &path).unwrap();
        let back = read_parquet(&path).unwrap();
        assert_eq!(str_column(&back, "id", &path).unwrap(), vec!["a", "b"]);
        assert_eq!(landmark_columns(&back, &path).unwrap(), lms);
        let err = str_column(&back, "nope", &path).unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("m.parquet"), "{err}");
    }
}
