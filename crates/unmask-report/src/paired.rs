//! Paired comparisons for the ablation: each row against the base variant and against Telea,
//! image by image on the same test pairs. The bootstrap resamples the per-image differences,
//! so what the images share (an easy face is easy for every method) cancels, and an interval
//! that excludes zero says the difference is real at this budget, where the table's
//! per-row intervals overlap.

use crate::bootstrap::{mean_interval, Interval};
use crate::table::METRICS;
use anyhow::Result;
use polars::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// One evaluation's per-image scores: image ids and one column per [`METRICS`] entry.
#[derive(Clone, Debug)]
pub struct ImageScores {
    pub ids: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

/// A row's per-image difference from a reference row, one interval per [`METRICS`] entry
/// (`row - reference`; NaN where a metric was not computed for both).
#[derive(Clone, Debug, PartialEq)]
pub struct PairedRow {
    pub name: String,
    pub against: String,
    pub masks: String,
    /// Images scored by both.
    pub pairs: usize,
    pub differences: Vec<Interval>,
}

impl PairedRow {
    /// Whether metric `k`'s interval excludes zero.
    pub fn separates(&self, k: usize) -> bool {
        let i = &self.differences[k];
        i.is_finite() && (i.lo > 0.0 || i.hi < 0.0)
    }
}

/// The mean of `row - reference` over the images both scored (matched by id), with a paired
/// bootstrap interval for each metric.
pub fn compare(
    row: &ImageScores,
    reference: &ImageScores,
    resamples: usize,
    confidence: f64,
    seed: u64,
    stream: &str,
) -> (usize, Vec<Interval>) {
    let position: HashMap<&str, usize> = reference
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let matched: Vec<(usize, usize)> = row
        .ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| position.get(id.as_str()).map(|&j| (i, j)))
        .collect();
    let intervals = METRICS
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let diffs: Vec<f64> = matched
                .iter()
                .map(|&(i, j)| row.columns[k][i] - reference.columns[k][j])
                .collect();
            mean_interval(
                &diffs,
                resamples,
                confidence,
                seed,
                &format!("paired:{stream}:{}", m.key),
            )
        })
        .collect();
    (matched.len(), intervals)
}

/// The paired rows as a markdown table; intervals that exclude zero in bold.
pub fn markdown(rows: &[PairedRow], masks: &str) -> String {
    let chosen: Vec<&PairedRow> = rows.iter().filter(|r| r.masks == masks).collect();
    let mut out = String::from("| variant | against | pairs |");
    for m in METRICS {
        out.push_str(&format!(" Δ {} |", m.label));
    }
    out.push_str("\n|---|---|---:|");
    out.push_str(&"---:|".repeat(METRICS.len()));
    out.push('\n');
    for r in chosen {
        out.push_str(&format!("| {} | {} | {} |", r.name, r.against, r.pairs));
        for (k, m) in METRICS.iter().enumerate() {
            let cell = signed(m.decimals, &r.differences[k]);
            if r.separates(k) {
                out.push_str(&format!(" **{cell}** |"));
            } else {
                out.push_str(&format!(" {cell} |"));
            }
        }
        out.push('\n');
    }
    out
}

/// The paired rows as an HTML table; intervals that exclude zero highlighted.
pub fn html(rows: &[PairedRow], masks: &str) -> String {
    use crate::html::escape;
    let mut header = vec!["variant".to_string(), "against".into(), "pairs".into()];
    header.extend(METRICS.iter().map(|m| format!("Δ {}", escape(m.label))));
    let body: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| r.masks == masks)
        .map(|r| {
            let mut cells = vec![escape(&r.name), escape(&r.against), r.pairs.to_string()];
            for (k, m) in METRICS.iter().enumerate() {
                let cell = signed(m.decimals, &r.differences[k]);
                cells.push(if r.separates(k) {
                    format!("<b>{cell}</b>")
                } else {
                    cell
                });
            }
            cells
        })
        .collect();
    crate::html::table(&header, &body, "paired")
}

/// `+0.0012 [-0.0003, +0.0027]`, or `-` when not computed.
pub fn signed(decimals: usize, i: &Interval) -> String {
    if !i.is_finite() {
        return "-".into();
    }
    let d = decimals;
    format!("{:+.*} [{:+.*}, {:+.*}]", d, i.mean, d, i.lo, d, i.hi)
}

/// Writes the paired rows as parquet: identity columns, then `METRIC`, `METRIC_lo`,
/// `METRIC_hi` of the differences.
pub fn write_parquet(rows: &[PairedRow], path: &Path) -> Result<()> {
    let text = |f: fn(&PairedRow) -> &String| rows.iter().map(|r| f(r).clone()).collect::<Vec<_>>();
    let mut cols = vec![
        Column::new("variant".into(), text(|r| &r.name)),
        Column::new("against".into(), text(|r| &r.against)),
        Column::new("masks".into(), text(|r| &r.masks)),
        Column::new(
            "pairs".into(),
            rows.iter().map(|r| r.pairs as u64).collect::<Vec<_>>(),
        ),
    ];
    for (k, m) in METRICS.iter().enumerate() {
        let intervals: Vec<Interval> = rows.iter().map(|r| r.differences[k]).collect();
        cols.extend(crate::table::interval_columns(m.key, &intervals));
    }
    unmask_core::manifest::write_parquet(&mut DataFrame::new(rows.len(), cols)?, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column a test leaves uncomputed.
    const LPIPS: usize = 5;

    fn scores(ids: &[&str], hole: &[f64]) -> ImageScores {
        let n = ids.len();
        let mut columns = vec![vec![0.5; n]; METRICS.len()];
        columns[0] = hole.to_vec();
        columns[LPIPS] = vec![f64::NAN; n];
        ImageScores {
            ids: ids.iter().map(|s| s.to_string()).collect(),
            columns,
        }
    }

    /// A small difference shared by every image separates under pairing, although the images'
    /// own spread is far larger; ids are matched whatever their order.
    #[test]
    fn pairing_cancels_what_images_share() {
        assert_eq!(METRICS[LPIPS].key, "lpips");
        let ids: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(|s| s.as_str()).collect();
        let base: Vec<f64> = (0..40)
            .map(|i| 0.05 + 0.1 * ((i * 7) % 10) as f64 / 10.0)
            .collect();
        let better: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(i, b)| b - 0.004 + 0.001 * (i % 3) as f64)
            .collect();
        let mut reversed_ids = refs.clone();
        reversed_ids.reverse();
        let reversed: Vec<f64> = better.iter().rev().copied().collect();
        let (pairs, d) = compare(
            &scores(&reversed_ids, &reversed),
            &scores(&refs, &base),
            1000,
            0.95,
            0,
            "t",
        );
        assert_eq!(pairs, 40);
        let expected = better.iter().zip(&base).map(|(a, b)| a - b).sum::<f64>() / 40.0;
        assert!((d[0].mean - expected).abs() < 1e-12, "{:?}", d[0]);
        assert!(d[0].hi < 0.0, "{:?}", d[0]);
        assert_eq!(d[2].mean, 0.0, "equal scores differ by zero");
        assert!(!d[LPIPS].is_finite(), "NaN metric stays NaN");
        let row = PairedRow {
            name: "v".into(),
            against: "base".into(),
            masks: "truth".into(),
            pairs,
            differences: d,
        };
        assert!(row.separates(0) && !row.separates(2));
        let md = markdown(&[row], "truth");
        assert!(md.contains("| v | base | 40 | **-0.0030 ["), "{md}");
        // The same data unpaired: the row intervals overlap widely.
        let a = mean_interval(&better, 1000, 0.95, 0, "a");
        let b = mean_interval(&base, 1000, 0.95, 0, "b");
        assert!(a.hi > b.lo, "unpaired intervals overlap: {a:?} {b:?}");
    }

    #[test]
    fn only_shared_ids_are_compared() {
        let (pairs, d) = compare(
            &scores(&["a", "b", "c"], &[0.3, 0.2, 0.9]),
            &scores(&["c", "a", "z"], &[0.4, 0.1, 0.0]),
            200,
            0.95,
            0,
            "t",
        );
        assert_eq!(pairs, 2);
        assert!((d[0].mean - 0.35).abs() < 1e-12, "{:?}", d[0]);
    }
}
