//! Which stages a run runs: `--only` (these stages alone, what they need used as it is),
//! `--from` (these stages and everything downstream, forced) and `--force` (everything).

use crate::plan;
use crate::runner::RunOptions;
use anyhow::{bail, Result};
use indexmap::IndexMap;
use std::path::Path;

/// The stages chosen by a run's options, over the stages of a pipeline in run order.
pub(crate) struct Selection {
    /// `--only` was given: the stages outside `only` are not run.
    restricted: bool,
    only: Vec<String>,
    forced: Vec<String>,
}

/// A selection names a stage, or a stage with variants (meaning all of them).
fn picks(sel: &str, stage: &str) -> bool {
    stage == sel
        || stage
            .strip_prefix(sel)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Selection {
    /// `order` is the run order of the stages of the pipeline file `path`, `graph` what each
    /// needs; a selection that names no stage is an error.
    pub fn new(
        opts: &RunOptions,
        order: &[String],
        graph: &IndexMap<String, Vec<String>>,
        path: &Path,
    ) -> Result<Self> {
        for sel in opts.only.iter().chain(&opts.from) {
            if !order.iter().any(|s| picks(sel, s)) {
                bail!(
                    "no stage `{sel}` in {}; stages: {}",
                    path.display(),
                    order.join(", ")
                );
            }
        }
        let only: Vec<String> = match &opts.only {
            Some(sel) => order.iter().filter(|s| picks(sel, s)).cloned().collect(),
            None => Vec::new(),
        };
        let forced: Vec<String> = match (&opts.only, &opts.from) {
            (Some(_), _) => only.clone(),
            (None, Some(from)) => {
                // The chosen stages and everything that depends on them, not their sibling
                // variants (which would throw away finished training).
                let mut chosen: Vec<String> = Vec::new();
                for s in order.iter().filter(|s| picks(from, s)) {
                    chosen.extend(plan::downstream(graph, s));
                }
                order
                    .iter()
                    .filter(|s| chosen.contains(s))
                    .cloned()
                    .collect()
            }
            (None, None) if opts.force => order.to_vec(),
            _ => Vec::new(),
        };
        Ok(Self {
            restricted: opts.only.is_some(),
            only,
            forced,
        })
    }

    /// Whether `stage` runs (when it is not up to date) rather than being used as it is.
    pub fn selected(&self, stage: &str) -> bool {
        !self.restricted || self.only.iter().any(|s| s == stage)
    }

    /// Whether `stage` runs even when it is up to date.
    pub fn forced(&self, stage: &str) -> bool {
        self.forced.iter().any(|s| s == stage)
    }

    /// The first `--only` stage that needs `stage`, directly or not.
    pub fn fed_by(&self, graph: &IndexMap<String, Vec<String>>, stage: &str) -> Option<&str> {
        let downstream = plan::downstream(graph, stage);
        self.only
            .iter()
            .find(|o| downstream.contains(o))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> IndexMap<String, Vec<String>> {
        let g = [
            ("data", vec![]),
            ("train/a", vec!["data"]),
            ("train/b", vec!["data"]),
            ("eval/a", vec!["train/a"]),
            ("eval/b", vec!["train/b"]),
        ];
        g.into_iter()
            .map(|(n, needs)| (n.to_string(), needs.into_iter().map(String::from).collect()))
            .collect()
    }

    fn select(opts: RunOptions) -> Result<Selection> {
        let g = graph();
        let order: Vec<String> = g.keys().cloned().collect();
        Selection::new(&opts, &order, &g, Path::new("p.yaml"))
    }

    #[test]
    fn from_forces_downstream_but_not_sibling_variants() {
        let s = select(RunOptions {
            from: Some("train/a".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(s.selected("train/b"));
        assert!(s.forced("train/a") && s.forced("eval/a"));
        assert!(!s.forced("train/b") && !s.forced("data"));
    }

    #[test]
    fn only_names_every_variant_of_a_stage_and_what_it_feeds() {
        let s = select(RunOptions {
            only: Some("eval".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(s.selected("eval/a") && s.selected("eval/b") && !s.selected("train/a"));
        assert!(s.forced("eval/b") && !s.forced("data"));
        assert_eq!(s.fed_by(&graph(), "train/b"), Some("eval/b"));
        assert_eq!(s.fed_by(&graph(), "data"), Some("eval/a"));
        let s = select(RunOptions {
            only: Some("train/a".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.fed_by(&graph(), "train/b"), None);
        let err = select(RunOptions {
            only: Some("ev".into()),
            ..Default::default()
        })
        .err()
        .unwrap()
        .to_string();
        assert!(err.starts_with("no stage `ev` in p.yaml"), "{err}");
    }
}
