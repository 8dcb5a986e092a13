//! Evaluation shared by the models: a model's [`ScoreRow`] (its named scores of one image),
//! their means overall and per mask type written as parquet (per image and per group) and
//! markdown, and the [`EvalSummary`] an evaluation stage returns.

use anyhow::Result;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const PER_IMAGE: &str = "per_image.parquet";
pub const METRICS: &str = "metrics.parquet";
pub const METRICS_MD: &str = "metrics.md";

/// `(group, count, means)`: "all", then each mask type.
pub type Group = (String, usize, Vec<f64>);

/// A model's scores of one image (or their means), in a fixed column order.
pub trait ScoreRow: Sized + Clone {
    /// The column names, as in the tables and logs.
    const NAMES: &'static [&'static str];
    /// Digits shown per column in markdown.
    const DECIMALS: &'static [usize];

    /// The values in [`Self::NAMES`] order.
    fn values(&self) -> Vec<f64>;
    /// Scores from values in [`Self::NAMES`] order.
    fn from_values(v: &[f64]) -> Self;
    /// One line of the main scores, for logs and stage summaries.
    fn describe(&self) -> String;
    /// The markdown page of an evaluation on `split` (use [`markdown_rows`] for the rows).
    fn markdown(split: &str, groups: &[Group]) -> String;

    fn as_row(&self) -> Vec<(&'static str, f64)> {
        Self::NAMES.iter().copied().zip(self.values()).collect()
    }

    fn mean(rows: &[Self]) -> Self {
        let table: Vec<Vec<f64>> = rows.iter().map(|r| r.values()).collect();
        Self::from_values(&mean_row(&table, Self::NAMES.len()))
    }

    /// The last row of a validation log.
    fn from_log(log: &crate::log::MetricLog) -> Option<Self> {
        let v: Vec<f64> = Self::NAMES
            .iter()
            .map(|n| log.last(n))
            .collect::<Option<_>>()?;
        Some(Self::from_values(&v))
    }

    /// Rows of per-metric columns (one value per image, in [`Self::NAMES`] order).
    fn from_columns(columns: &[Vec<f32>]) -> Vec<Self> {
        rows_of(columns)
            .iter()
            .map(|r| Self::from_values(r))
            .collect()
    }
}

/// The result of an evaluation: the overall means and one row per group ("all", then each
/// mask type) with the values in the score row's column order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalSummary<S> {
    pub split: String,
    pub count: usize,
    pub overall: S,
    pub groups: Vec<Group>,
}

impl<S: ScoreRow> EvalSummary<S> {
    pub fn describe(&self) -> String {
        format!(
            "{} {} pairs: {}",
            self.count,
            self.split,
            self.overall.describe()
        )
    }

    pub fn markdown(&self) -> String {
        S::markdown(&self.split, &self.groups)
    }
}

/// The tables of an evaluation of `pairs` (as `(id, mask type)`) on `split`: per image and per
/// group as parquet, and the markdown page, in `out_dir`.
pub fn summarise<S: ScoreRow>(
    out_dir: &Path,
    split: &str,
    pairs: &[(String, String)],
    rows: &[S],
) -> Result<EvalSummary<S>> {
    let table: Vec<Vec<f64>> = rows.iter().map(|r| r.values()).collect();
    let groups = tabulate(
        out_dir,
        pairs.iter().map(|p| p.0.clone()).collect(),
        pairs.iter().map(|p| p.1.clone()).collect(),
        S::NAMES,
        &table,
    )?;
    let summary = EvalSummary {
        split: split.to_string(),
        count: rows.len(),
        overall: S::mean(rows),
        groups,
    };
    unmask_core::atomic::write_bytes(&out_dir.join(METRICS_MD), summary.markdown().as_bytes())?;
    Ok(summary)
}

/// Scores `items` in chunks of `4 * batch_size` with `score`, showing progress as `label`.
pub fn score_in_chunks<T, S>(
    label: &str,
    items: &[T],
    batch_size: usize,
    mut score: impl FnMut(&[T]) -> Result<Vec<S>>,
) -> Result<Vec<S>> {
    let progress = unmask_core::progress::Progress::new(label, items.len() as u64);
    let mut rows = Vec::with_capacity(items.len());
    for chunk in items.chunks(batch_size.max(1) * 4) {
        rows.extend(score(chunk)?);
        progress.inc(chunk.len() as u64);
    }
    progress.finish();
    Ok(rows)
}

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
pub fn group_means(types: &[String], rows: &[Vec<f64>], width: usize) -> Vec<Group> {
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
    groups: &[Group],
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
) -> Result<Vec<Group>> {
    let groups = group_means(&types, rows, names.len());
    write_tables(out_dir, &ids, &types, names, rows, &groups)?;
    Ok(groups)
}

/// A markdown table of the groups: `| group | pairs | v0 | v1 | ... |` with `decimals[k]`
/// digits per column.
pub fn markdown_rows(groups: &[Group], decimals: &[usize]) -> String {
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
