//! Runs a pipeline: resolve and validate everything first (`layering`), choose the stages
//! (`selection`), then run them in order (`execute`, `promote`), skipping up-to-date ones,
//! and report a summary table (`summary`).

use crate::execute::{self, stamp_summary, Expected};
use crate::kinds::{self, Input};
use crate::layering;
use crate::plan;
use crate::promote;
use crate::selection::Selection;
use crate::spec::PipelineSpec;
use crate::stamp::{self, Freshness};
use anyhow::{anyhow, bail, Result};
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use unmask_core::lock::{FolderLock, Wait};

pub use crate::summary::{RunSummary, StageOutcome, StageStatus};

/// Where pipelines, datasets and experiments are read from and outputs written to.
pub struct Runner {
    pub root: PathBuf,
    pub out: PathBuf,
}

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub sets: Vec<String>,
    pub force: bool,
    pub only: Option<String>,
    pub from: Option<String>,
    pub dry_run: bool,
    /// A preset of the pipeline file; `None` uses its `default_preset`.
    pub preset: Option<String>,
    /// When another process holds the output folder: wait for it instead of stopping.
    pub wait: bool,
}

impl Runner {
    pub fn new(root: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            out: out.into(),
        }
    }

    /// `NAME` is looked up in `pipelines/NAME.yaml`; a path to a YAML file is used as is.
    pub fn pipeline_path(&self, name: &str) -> Result<PathBuf> {
        let as_path = Path::new(name);
        if as_path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml")
            && as_path.is_file()
        {
            return Ok(as_path.to_path_buf());
        }
        let path = self.root.join("pipelines").join(format!("{name}.yaml"));
        if !path.is_file() {
            let known = crate::catalog::names(&self.root.join("pipelines"));
            bail!(
                "no pipeline `{name}` ({} not found); available: {}",
                path.display(),
                known.join(", ")
            );
        }
        Ok(path)
    }

    /// Runs (or, with `dry_run`, plans) the pipeline `name`.
    pub fn run(&self, name: &str, opts: &RunOptions) -> Result<RunSummary> {
        let path = self.pipeline_path(name)?;
        let spec = PipelineSpec::load(&path)?;
        let pipeline = path
            .file_stem()
            .map_or(name.to_string(), |s| s.to_string_lossy().into_owned());
        let preset = layering::chosen_preset(&spec, opts.preset.as_ref());
        let sets = layering::run_overrides(&spec, &path, preset.as_ref(), &opts.sets)?;
        let resolved = layering::resolve(&self.root, &spec, &sets)?;
        // Another preset than the default writes to its own folder, so switching presets
        // never retrains over the other's results.
        let pipeline = match &preset {
            Some(p) if spec.default_preset.as_ref() != Some(p) => format!("{pipeline}-{p}"),
            _ => pipeline,
        };
        let graph: IndexMap<String, Vec<String>> = resolved
            .iter()
            .map(|(n, r)| (n.clone(), r.needs.clone()))
            .collect();
        let order = plan::order(&graph).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let selection = Selection::new(opts, &order, &graph, &path)?;
        let base = self.out.join(&pipeline);
        // One run per output folder: a second one would clear the first one's work folders
        // and stamp what it half-wrote. A dry run writes nothing and takes no lock.
        let _lock = if opts.dry_run {
            None
        } else {
            let wait = if opts.wait { Wait::Yes } else { Wait::No };
            Some(FolderLock::acquire(&base, wait)?)
        };
        let mut stamps: BTreeMap<String, String> = BTreeMap::new();
        let mut outcomes: Vec<StageOutcome> = Vec::new();
        let mut failed = false;
        for stage in &order {
            let r = &resolved[stage];
            let dir = base.join(stage);
            let expected = Expected::compute(&self.root, r, &stamps)?;
            stamps.insert(stage.clone(), expected.stamp.clone());
            let mut outcome = StageOutcome {
                name: stage.clone(),
                kind: r.kind.clone(),
                status: StageStatus::NotRun,
                seconds: 0.0,
                dir: dir.clone(),
                summary: String::new(),
                alert: None,
            };
            let read_dir = promote::readable(&dir, opts.dry_run)?;
            let fresh = stamp::freshness(&read_dir, &expected.stamp)?;
            if failed {
                outcomes.push(outcome);
                continue;
            }
            if !selection.selected(stage) {
                // Outside `--only`, stages are used as they are; what it needs must be current.
                let fed = selection.fed_by(&graph, stage);
                let feeds_only = fed.is_some();
                if let (Some(fed), false, false) = (fed, fresh == Freshness::UpToDate, opts.dry_run)
                {
                    bail!(
                        "stage `{fed}` needs `{stage}`, which is not up to date ({}): run the pipeline without --only first",
                        fresh.reason()
                    );
                }
                if feeds_only {
                    outcome.status = StageStatus::Skipped;
                    outcome.summary = stamp_summary(&dir);
                }
                outcomes.push(outcome);
                continue;
            }
            let forced = selection.forced(stage);
            let always = kinds::always_run(&r.kind);
            let must_run = forced || always || fresh != Freshness::UpToDate;
            let why = if forced {
                "forced".to_string()
            } else if always {
                "runs every time".to_string()
            } else {
                fresh.reason()
            };
            if opts.dry_run {
                outcome.status = if must_run {
                    StageStatus::WouldRun(why)
                } else {
                    StageStatus::WouldSkip
                };
                outcome.summary = serde_json::to_string(&expected.params)?;
                outcomes.push(outcome);
                continue;
            }
            if !must_run {
                tracing::info!("stage {stage}: up to date, skipped");
                outcome.status = StageStatus::Skipped;
                outcome.summary = stamp_summary(&dir);
                outcomes.push(outcome);
                continue;
            }
            tracing::info!("stage {stage} ({}): running ({why})", r.kind);
            let inputs: Vec<Input> = r
                .needs
                .iter()
                .map(|n| Input {
                    name: n.clone(),
                    kind: resolved[n].kind.clone(),
                    dir: base.join(n),
                })
                .collect();
            let started = Instant::now();
            let result = execute::run_stage(
                self,
                &pipeline,
                stage,
                r,
                &dir,
                &inputs,
                &expected,
                opts.force && forced,
            );
            outcome.seconds = started.elapsed().as_secs_f64();
            match result {
                Ok(report) => {
                    tracing::info!(
                        "stage {stage}: done in {:.1}s: {}",
                        outcome.seconds,
                        report.summary
                    );
                    outcome.status = StageStatus::Ran;
                    outcome.summary = report.summary;
                    outcome.alert = report.alert;
                }
                Err(e) => {
                    let msg = format!("{e:#}");
                    tracing::error!("stage {stage} failed: {msg}");
                    outcome.status = StageStatus::Failed(msg);
                    failed = true;
                }
            }
            outcomes.push(outcome);
        }
        Ok(RunSummary {
            pipeline,
            stages: outcomes,
        })
    }
}
