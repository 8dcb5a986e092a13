//! Evaluation tables shared by the models: one row of named scores per image, their means
//! overall and per mask type, written as parquet (per image and per group).

use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

pub const PER_IMAGE: &str = "per_image.parquet";
pub const METRICS: &str = "metrics.parquet";
pub const METRICS_MD: &str = "metrics.md";

/// Per-metric columns (one value per image) as per-image rows.
pub fn rows_of(columns: &[Vec<f32>]) -> Vec<Vec<f64>> {
    let n = columns.first().map_or(0, Vec::len);
    (0..n)
        .map(|k| columns.iter().map(|c| c[k] as f64).collect())
        .collect()
}

/// Column means of `rows` (each the same length); zeros for no rows.
pub fn mean_row(rows: &[Vec<f64>], width: usize) -> Vec<f64> {
    let n = rows.len().max(1) as f64;
    (0..width)
        .map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / n)
        .collect()
}

/// `(group, count, means)`: "all" first, then each mask type in sorted order.
pub fn group_means(
    types: &[String],
    rows: &[Vec<f64>],
    width: usize,
) -> Vec<(String, usize, Vec<f64>)> {
    let mut names: Vec<&String> = types.iter().collect();
    names.sort();
    names.dedup();
    let mut groups = vec![("all".to_string(), rows.len(), mean_row(rows, width))];
    for t in names {
        let chosen: Vec<Vec<f64>> = types
            .iter()
            .zip(rows)
            .filter(|(x, _)| *x == t)
            .map(|(_, r)| r.clone())
            .collect();
        groups.push((t.clone(), chosen.len(), mean_row(&chosen, width)));
    }
    groups
}

/// Writes `per_image.parquet` (id, mask type, scores) and `metrics.parquet` (the groups).
pub fn write_tables(
    out_dir: &Path,
    ids: &[String],
    types: &[String],
    names: &[&str],
    rows: &[Vec<f64>],
    groups: &[(String, usize, Vec<f64>)],
) -> Result<()> {
    let mut cols = vec![
        Column::new("id".into(), ids),
        Column::new("mask_type".into(), types),
    ];
    for (k, name) in names.iter().enumerate() {
        cols.push(Column::new(
            (*name).into(),
            rows.iter().map(|r| r[k]).collect::<Vec<f64>>(),
        ));
    }
    unmask_core::manifest::write_parquet(
        &mut DataFrame::new(rows.len(), cols)?,
        &out_dir.join(PER_IMAGE),
    )?;
    let mut cols = vec![
        Column::new(
            "mask_type".into(),
            groups.iter().map(|g| g.0.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "pairs".into(),
            groups.iter().map(|g| g.1 as u64).collect::<Vec<_>>(),
        ),
    ];
    for (k, name) in names.iter().enumerate() {
        cols.push(Column::new(
            (*name).into(),
            groups.iter().map(|g| g.2[k]).collect::<Vec<f64>>(),
        ));
    }
    unmask_core::manifest::write_parquet(
        &mut DataFrame::new(groups.len(), cols)?,
        &out_dir.join(METRICS),
    )
}

/// The whole evaluation table step: `rows` (one per image, in `names` order) grouped by mask
/// type and written as [`PER_IMAGE`] and [`METRICS`]; returns the groups.
pub fn tabulate(
    out_dir: &Path,
    ids: Vec<String>,
    types: Vec<String>,
    names: &[&str],
    rows: &[Vec<f64>],
) -> Result<Vec<(String, usize, Vec<f64>)>> {
    let groups = group_means(&types, rows, names.len());
    write_tables(out_dir, &ids, &types, names, rows, &groups)?;
    Ok(groups)
}

/// A markdown table of the groups: `| group | pairs | v0 | v1 | ... |` with `decimals[k]`
/// digits per column.
pub fn markdown_rows(groups: &[(String, usize, Vec<f64>)], decimals: &[usize]) -> String {
    groups
        .iter()
        .map(|(name, n, values)| {
            let name = if name == "all" {
                "**all**".to_string()
            } else {
                name.clone()
            };
            let cells: Vec<String> = values
                .iter()
                .zip(decimals)
                .map(|(v, d)| format!("{v:.*}", *d))
                .collect();
            format!("| {name} | {n} | {} |\n", cells.join(" | "))
        })
        .collect()
}
