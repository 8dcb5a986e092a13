//! The ablation table: one row per (method, mask source), each metric as a mean with its
//! interval, the best mean of each column marked.

use crate::bootstrap::Interval;
use anyhow::Result;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A metric column of the table.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// The column name in the evaluation's `per_image.parquet`.
    pub key: &'static str,
    pub label: &'static str,
    pub lower_is_better: bool,
    pub decimals: usize,
}

/// The image metrics of the ablation, in table order.
pub const METRICS: [Metric; 7] = [
    Metric {
        key: "hole_l1",
        label: "hole L1",
        lower_is_better: true,
        decimals: 4,
    },
    Metric {
        key: "l1",
        label: "L1",
        lower_is_better: true,
        decimals: 4,
    },
    Metric {
        key: "l1_outside",
        label: "L1 outside hole",
        lower_is_better: true,
        decimals: 4,
    },
    Metric {
        key: "psnr",
        label: "PSNR (dB)",
        lower_is_better: false,
        decimals: 2,
    },
    Metric {
        key: "ssim",
        label: "SSIM",
        lower_is_better: false,
        decimals: 4,
    },
    Metric {
        key: "lpips",
        label: "LPIPS",
        lower_is_better: true,
        decimals: 4,
    },
    Metric {
        key: "id_sim",
        label: "ID sim",
        lower_is_better: false,
        decimals: 4,
    },
];

impl Metric {
    /// Whether `a` is better than `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        if self.lower_is_better {
            a < b
        } else {
            a > b
        }
    }

    pub fn format(&self, i: &Interval) -> String {
        if !i.is_finite() {
            return "-".into();
        }
        let d = self.decimals;
        format!("{:.*} [{:.*}, {:.*}]", d, i.mean, d, i.lo, d, i.hi)
    }
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// A variant's name, or a baseline's (`mean-fill`, `telea`).
    pub name: String,
    pub baseline: bool,
    /// `truth` or `segmenter`.
    pub masks: String,
    /// What the variant changes relative to the first one (`base` for it).
    pub changes: String,
    /// Parameters of both generators; none for baselines.
    pub generator_params: Option<usize>,
    pub train_images_per_s: Option<f64>,
    pub pairs: usize,
    /// One interval per [`METRICS`] entry.
    pub metrics: Vec<Interval>,
}

/// For each metric, the index of the row with the best mean among `rows`.
pub fn best_rows(rows: &[&Row]) -> Vec<Option<usize>> {
    METRICS
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let mut best: Option<usize> = None;
            for (i, r) in rows.iter().enumerate() {
                let v = r.metrics[k].mean;
                if v.is_finite() && best.is_none_or(|b| m.better(v, rows[b].metrics[k].mean)) {
                    best = Some(i);
                }
            }
            best
        })
        .collect()
}

/// The rows with masks `masks` as a markdown table, best means in bold.
pub fn markdown(rows: &[Row], masks: &str) -> String {
    let chosen: Vec<&Row> = rows.iter().filter(|r| r.masks == masks).collect();
    let best = best_rows(&chosen);
    let mut out = String::from("| variant | changes | generator params | train img/s | pairs |");
    for m in METRICS {
        out.push_str(&format!(" {} |", m.label));
    }
    out.push_str("\n|---|---|---:|---:|---:|");
    out.push_str(&"---:|".repeat(METRICS.len()));
    out.push('\n');
    for (i, r) in chosen.iter().enumerate() {
        let name = if r.baseline {
            format!("{} (baseline)", r.name)
        } else {
            r.name.clone()
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {} | {} |",
            r.changes,
            r.generator_params.map_or("-".into(), |p| p.to_string()),
            r.train_images_per_s
                .map_or("-".into(), |s| format!("{s:.1}")),
            r.pairs
        ));
        for (k, m) in METRICS.iter().enumerate() {
            let cell = m.format(&r.metrics[k]);
            if best[k] == Some(i) {
                out.push_str(&format!(" **{cell}** |"));
            } else {
                out.push_str(&format!(" {cell} |"));
            }
        }
        out.push('\n');
    }
    out
}

/// Writes the rows as parquet: identity columns, then `METRIC`, `METRIC_lo`, `METRIC_hi`.
pub fn write_parquet(rows: &[Row], path: &Path) -> Result<()> {
    let mut cols = vec![
        Column::new(
            "variant".into(),
            rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "baseline".into(),
            rows.iter().map(|r| r.baseline).collect::<Vec<_>>(),
        ),
        Column::new(
            "masks".into(),
            rows.iter().map(|r| r.masks.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "changes".into(),
            rows.iter().map(|r| r.changes.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "generator_params".into(),
            rows.iter()
                .map(|r| r.generator_params.map(|p| p as u64))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "train_images_per_s".into(),
            rows.iter()
                .map(|r| r.train_images_per_s)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "pairs".into(),
            rows.iter().map(|r| r.pairs as u64).collect::<Vec<_>>(),
        ),
    ];
    for (k, m) in METRICS.iter().enumerate() {
        let intervals: Vec<Interval> = rows.iter().map(|r| r.metrics[k]).collect();
        cols.extend(interval_columns(m.key, &intervals));
    }
    unmask_core::manifest::write_parquet(&mut DataFrame::new(rows.len(), cols)?, path)
}

/// `KEY`, `KEY_lo` and `KEY_hi` columns of `intervals`.
pub fn interval_columns(key: &str, intervals: &[Interval]) -> [Column; 3] {
    let column = |suffix: &str, pick: fn(&Interval) -> f64| {
        Column::new(
            format!("{key}{suffix}").into(),
            intervals.iter().map(pick).collect::<Vec<_>>(),
        )
    };
    [
        column("", |i| i.mean),
        column("_lo", |i| i.lo),
        column("_hi", |i| i.hi),
    ]
}

/// Reads a table written by [`write_parquet`] back (for comparisons and tests).
pub fn read_parquet(path: &Path) -> Result<Vec<Row>> {
    use unmask_core::manifest::{bool_column, f64_column, str_column};
    let df = unmask_core::manifest::read_parquet(path)?;
    let s = |name: &str| str_column(&df, name, path);
    let f = |name: &str| -> Result<Vec<Option<f64>>> {
        Ok(f64_column(&df, name, path)?
            .into_iter()
            .map(|v| v.is_finite().then_some(v))
            .collect())
    };
    let (names, masks, changes) = (s("variant")?, s("masks")?, s("changes")?);
    let baseline = bool_column(&df, "baseline", path)?;
    let (params, speed, pairs) = (
        f("generator_params")?,
        f("train_images_per_s")?,
        f("pairs")?,
    );
    let mut metric_cols = Vec::new();
    for m in METRICS {
        metric_cols.push((
            f(m.key)?,
            f(&format!("{}_lo", m.key))?,
            f(&format!("{}_hi", m.key))?,
        ));
    }
    Ok((0..df.height())
        .map(|i| Row {
            name: names[i].clone(),
            baseline: baseline[i],
            masks: masks[i].clone(),
            changes: changes[i].clone(),
            generator_params: params[i].map(|p| p as usize),
            train_images_per_s: speed[i],
            pairs: pairs[i].unwrap_or(0.0) as usize,
            metrics: metric_cols
                .iter()
                .map(|(m, lo, hi)| Interval {
                    mean: m[i].unwrap_or(f64::NAN),
                    lo: lo[i].unwrap_or(f64::NAN),
                    hi: hi[i].unwrap_or(f64::NAN),
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, hole: f64, psnr: f64) -> Row {
        let i = |m: f64| Interval {
            mean: m,
            lo: m - 0.01,
            hi: m + 0.01,
        };
        Row {
            name: name.into(),
            baseline: name == "telea",
            masks: "truth".into(),
            changes: "base".into(),
            generator_params: (name != "telea").then_some(1000),
            train_images_per_s: None,
            pairs: 10,
            metrics: vec![
                i(hole),
                i(0.1),
                i(0.01),
                i(psnr),
                i(0.8),
                Interval::NAN,
                Interval::NAN,
            ],
        }
    }

    #[test]
    fn best_is_lowest_loss_and_highest_psnr_and_parquet_round_trips() {
        let rows = vec![
            row("a", 0.09, 25.0),
            row("b", 0.08, 24.0),
            row("telea", 0.12, 26.0),
        ];
        let refs: Vec<&Row> = rows.iter().collect();
        let best = best_rows(&refs);
        assert_eq!(best[0], Some(1));
        assert_eq!(best[3], Some(2));
        assert_eq!(best[5], None, "NaN column has no best");
        let md = markdown(&rows, "truth");
        assert!(md.contains("**0.0800 [0.0700, 0.0900]**"), "{md}");
        assert!(md.contains("telea (baseline)"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write_parquet(&rows, &path).unwrap();
        let back = read_parquet(&path).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[1].metrics[0], rows[1].metrics[0]);
        assert_eq!(back[2].generator_params, None);
        assert!(back[0].metrics[5].mean.is_nan());
    }
}
