//! Metric logs (one row per step or per epoch) kept in memory and written as parquet with
//! every checkpoint, so the log on disk always matches the checkpoint it sits next to.

use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

#[derive(Clone, Debug, Default)]
pub struct MetricLog {
    steps: Vec<u64>,
    epochs: Vec<u64>,
    columns: Vec<(String, Vec<f64>)>,
}

impl MetricLog {
    /// Appends one row; every row must name the same metrics in the same order.
    pub fn push(&mut self, step: u64, epoch: u64, values: &[(&str, f64)]) {
        if self.columns.is_empty() {
            self.columns = values
                .iter()
                .map(|(n, _)| (n.to_string(), Vec::new()))
                .collect();
        }
        debug_assert_eq!(self.columns.len(), values.len());
        self.steps.push(step);
        self.epochs.push(epoch);
        for ((_, col), (_, v)) in self.columns.iter_mut().zip(values) {
            col.push(*v);
        }
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The last value of `metric`, if any.
    pub fn last(&self, metric: &str) -> Option<f64> {
        self.column(metric).and_then(|c| c.last().copied())
    }

    pub fn column(&self, metric: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .find(|(n, _)| n == metric)
            .map(|(_, c)| c.as_slice())
    }

    pub fn steps(&self) -> &[u64] {
        &self.steps
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        unmask_core::manifest::write_parquet(&mut self.frame()?, path)
    }

    /// The log as parquet bytes, for a copy inside a checkpoint folder.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        unmask_core::manifest::parquet_bytes(&mut self.frame()?)
    }

    /// The log `name` of a run resumed from the checkpoint folder `checkpoint` at `step`:
    /// the checkpoint's own copy (swapped in with the weights, so it always matches them),
    /// else `out_dir/name` from before copies were kept. `out_dir/name` is rewritten to
    /// match, since a kill may have come between the checkpoint and its logs.
    pub fn resume(
        checkpoint: Option<&Path>,
        out_dir: &Path,
        name: &str,
        step: u64,
    ) -> Result<Self> {
        let Some(ckpt) = checkpoint else {
            return Self::load(&out_dir.join(name), step);
        };
        let (own, top) = (ckpt.join(name), out_dir.join(name));
        let log = Self::load(if own.is_file() { &own } else { &top }, step)?;
        log.save(&top)?;
        Ok(log)
    }

    fn frame(&self) -> Result<DataFrame> {
        let mut cols: Vec<Column> = vec![
            Column::new("step".into(), &self.steps),
            Column::new("epoch".into(), &self.epochs),
        ];
        for (name, values) in &self.columns {
            cols.push(Column::new(name.as_str().into(), values));
        }
        Ok(DataFrame::new(self.steps.len(), cols)?)
    }

    /// Reads a saved log, keeping only rows up to `max_step` (a resumed run drops the rows
    /// logged after its checkpoint). A missing file is an empty log.
    pub fn load(path: &Path, max_step: u64) -> Result<Self> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let df = unmask_core::manifest::read_parquet(path)?;
        let steps: Vec<u64> = df.column("step")?.u64()?.into_no_null_iter().collect();
        let epochs: Vec<u64> = df.column("epoch")?.u64()?.into_no_null_iter().collect();
        let keep = steps.iter().take_while(|s| **s <= max_step).count();
        let mut log = Self {
            steps: steps[..keep].to_vec(),
            epochs: epochs[..keep].to_vec(),
            columns: Vec::new(),
        };
        for col in df.columns() {
            let name = col.name().as_str();
            if name == "step" || name == "epoch" {
                continue;
            }
            let values: Vec<f64> = col.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            log.columns
                .push((name.to_string(), values[..keep].to_vec()));
        }
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_truncates() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log.parquet");
        let mut log = MetricLog::default();
        for s in 1..=5 {
            log.push(s, 0, &[("loss", s as f64 / 10.0)]);
        }
        log.save(&path).unwrap();
        let back = MetricLog::load(&path, 3).unwrap();
        assert_eq!(back.steps(), &[1, 2, 3]);
        assert_eq!(back.last("loss"), Some(0.3));
    }
}
