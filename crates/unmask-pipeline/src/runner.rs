//! Runs a pipeline: resolve and validate everything first, then run the stages in order,
//! skipping up-to-date ones, and report a summary table.

use crate::kinds::{self, Input, StageContext, StageReport};
use crate::overrides::{self, Override};
use crate::spec::{DatasetSpec, PipelineSpec};
use crate::stamp::{self, Freshness, Stamp};
use crate::verify::{self, InputsSnapshot};
use crate::{plan, variants, CODE_VERSION};
use anyhow::{anyhow, bail, Context, Result};
use indexmap::IndexMap;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use unmask_core::lock::{FolderLock, Wait};

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageStatus {
    Ran,
    Skipped,
    Failed(String),
    NotRun,
    WouldRun(String),
    WouldSkip,
}

impl StageStatus {
    pub fn label(&self) -> String {
        match self {
            StageStatus::Ran => "ran".into(),
            StageStatus::Skipped => "skipped (up to date)".into(),
            StageStatus::Failed(_) => "FAILED".into(),
            StageStatus::NotRun => "not run".into(),
            StageStatus::WouldRun(why) => format!("would run ({why})"),
            StageStatus::WouldSkip => "would skip (up to date)".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct StageOutcome {
    pub name: String,
    pub kind: String,
    pub status: StageStatus,
    pub seconds: f64,
    pub dir: PathBuf,
    pub summary: String,
    pub alert: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RunSummary {
    pub pipeline: String,
    pub stages: Vec<StageOutcome>,
}

impl RunSummary {
    pub fn failure(&self) -> Option<(&str, &str)> {
        self.stages.iter().find_map(|s| match &s.status {
            StageStatus::Failed(e) => Some((s.name.as_str(), e.as_str())),
            _ => None,
        })
    }

    /// `(stage, alert)` for every stage that raised one.
    pub fn alerts(&self) -> Vec<(&str, &str)> {
        self.stages
            .iter()
            .filter_map(|s| Some((s.name.as_str(), s.alert.as_deref()?)))
            .collect()
    }

    pub fn status_of(&self, stage: &str) -> Option<&StageStatus> {
        self.stages
            .iter()
            .find(|s| s.name == stage)
            .map(|s| &s.status)
    }

    pub fn table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(["stage", "kind", "status", "time", "output", "result"]);
        for s in &self.stages {
            let time = if s.seconds > 0.0 {
                format!("{:.1}s", s.seconds)
            } else {
                "-".into()
            };
            t.add_row([
                s.name.clone(),
                s.kind.clone(),
                s.status.label(),
                time,
                s.dir.display().to_string(),
                s.summary.clone(),
            ]);
        }
        t.to_string()
    }
}

/// The variants listed by a stage's experiment file.
#[derive(Default)]
struct Variants {
    file: String,
    list: IndexMap<String, IndexMap<String, Value>>,
}

/// A stage with its parameters resolved (dataset file, then the pipeline, then `--set`).
struct Resolved {
    kind: String,
    needs: Vec<String>,
    params: Value,
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

    fn resolve(
        &self,
        spec: &PipelineSpec,
        sets: &[Override],
    ) -> Result<IndexMap<String, Resolved>> {
        let file_graph: IndexMap<String, Vec<String>> = spec
            .stages
            .iter()
            .map(|(n, s)| (n.clone(), s.needs.clone()))
            .collect();
        for name in spec.stages.keys() {
            variants::check_name(&spec.path.display().to_string(), name)
                .map_err(|e| anyhow!("{}", e.to_string().replace("variant name", "stage name")))?;
        }
        let file_order =
            plan::order(&file_graph).map_err(|e| anyhow!("{}: {e}", spec.path.display()))?;
        // Each stage's parameters from its preset files, and the variants they list.
        let mut bases: IndexMap<String, (Mapping, Variants)> = IndexMap::new();
        for name in &file_order {
            let stage = &spec.stages[name];
            let mut params = Mapping::new();
            let mut variants = Variants::default();
            for (field, written) in [
                ("dataset", &stage.dataset),
                ("experiment", &stage.experiment),
            ] {
                let chosen = match sets
                    .iter()
                    .filter(|o| o.stage == *name && o.key == [field])
                    .next_back()
                {
                    Some(o) => Some(o.name_value()?),
                    None => written.clone(),
                };
                if let Some(preset) = chosen {
                    let (path, file) = self.preset_file(field, &preset, &stage.kind, name)?;
                    params.extend(file.params);
                    if !file.variants.is_empty() {
                        variants = Variants {
                            file: path.display().to_string(),
                            list: file.variants,
                        };
                    }
                }
            }
            params.extend(stage.params.clone());
            bases.insert(name.clone(), (params, variants));
        }
        let own: Vec<Vec<String>> = file_order
            .iter()
            .map(|n| {
                let v = &bases[n].1;
                for name in v.list.keys() {
                    variants::check_name(&v.file, name)?;
                }
                Ok(v.list.keys().cloned().collect())
            })
            .collect::<Result<_>>()?;
        let shapes: Vec<variants::StageShape> = file_order
            .iter()
            .zip(&own)
            .map(|(n, own)| variants::StageShape {
                name: n,
                needs: &spec.stages[n].needs,
                own,
                gathers: kinds::gathers_variants(&spec.stages[n].kind),
            })
            .collect();
        let planned = variants::expand(&shapes)?;
        for ov in sets {
            let known =
                spec.stages.contains_key(&ov.stage) || planned.iter().any(|p| p.name == ov.stage);
            if !known {
                bail!(
                    "{}: no stage `{}` in {}; stages: {}",
                    ov.origin,
                    ov.stage,
                    spec.path.display(),
                    planned
                        .iter()
                        .map(|p| p.name.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        let mut out = IndexMap::new();
        for p in planned {
            let stage = &spec.stages[&p.stage];
            let desc = format!("stage `{}` (kind `{}`)", p.name, stage.kind);
            let (base, variants) = &bases[&p.stage];
            let mut params = base.clone();
            let defaults = kinds::resolve_params(&stage.kind, Value::Mapping(Mapping::new()))
                .map_err(|e| anyhow!("{desc}: {e}"))?;
            let defaults = defaults.as_mapping().cloned().unwrap_or_default();
            // Later overrides win: presets and `--set` on the stage, then the variant's own
            // changes, then `--set` on this variant alone.
            let mut chain: Vec<Override> = sets
                .iter()
                .filter(|o| o.stage == p.stage && o.key != ["dataset"] && o.key != ["experiment"])
                .cloned()
                .collect();
            if let Some(v) = &p.variant {
                // A stage that inherits its variants from what it needs has no overrides.
                for (key, value) in variants.list.get(v).into_iter().flatten() {
                    chain.push(Override::in_stage(
                        &p.stage,
                        key,
                        value.clone(),
                        format!("{} variant `{v}`, key `{key}`", variants.file),
                    )?);
                }
                for o in sets.iter().filter(|o| o.stage == p.name) {
                    if o.key == ["dataset"] || o.key == ["experiment"] {
                        bail!(
                            "{}: a variant cannot choose its own {}; set it on stage `{}`",
                            o.origin,
                            o.key[0],
                            p.stage
                        );
                    }
                    chain.push(o.clone());
                }
            }
            for ov in &chain {
                overrides::apply(&mut params, &defaults, ov, &desc)?;
            }
            let resolved =
                kinds::resolve_params(&stage.kind, Value::Mapping(params)).map_err(|e| {
                    let valid: Vec<String> = defaults
                        .keys()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect();
                    let msg = e.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                    let cause: Vec<&str> = chain.iter().map(|o| o.origin.as_str()).collect();
                    anyhow!(
                        "{desc}: {msg}{}; valid keys: {}",
                        if cause.is_empty() {
                            String::new()
                        } else {
                            format!(" (from {})", cause.join("; "))
                        },
                        valid.join(", ")
                    )
                })?;
            let needed: Vec<kinds::Needed> = p
                .needs
                .iter()
                .map(|n| {
                    let r: &Resolved = &out[n];
                    kinds::Needed {
                        name: n,
                        kind: &r.kind,
                        params: &r.params,
                    }
                })
                .collect();
            kinds::check(&stage.kind, &resolved, &needed).map_err(|e| {
                let cause: Vec<&str> = chain.iter().map(|o| o.origin.as_str()).collect();
                anyhow!(
                    "{desc}: {e:#}{}",
                    if cause.is_empty() {
                        String::new()
                    } else {
                        format!(" (overrides: {})", cause.join("; "))
                    }
                )
            })?;
            out.insert(
                p.name.clone(),
                Resolved {
                    kind: stage.kind.clone(),
                    needs: p.needs,
                    params: resolved,
                },
            );
        }
        Ok(out)
    }

    /// `datasets/NAME.yaml` (`field` = dataset) or `experiments/NAME.yaml`, checked to be for
    /// stages of `kind`.
    fn preset_file(
        &self,
        field: &str,
        name: &str,
        kind: &str,
        stage: &str,
    ) -> Result<(PathBuf, DatasetSpec)> {
        let folder = self.root.join(format!("{field}s"));
        let path = folder.join(format!("{name}.yaml"));
        if !path.is_file() {
            let known = crate::catalog::names(&folder);
            bail!(
                "stage `{stage}`: no {field} `{name}` ({} not found); available: {}",
                path.display(),
                known.join(", ")
            );
        }
        let preset = DatasetSpec::load(&path)?;
        if preset.kind != kind {
            bail!(
                "{}: {field} is for stages of kind `{}`, but stage `{stage}` is `{kind}`",
                path.display(),
                preset.kind
            );
        }
        Ok((path, preset))
    }

    /// Runs (or, with `dry_run`, plans) the pipeline `name`.
    pub fn run(&self, name: &str, opts: &RunOptions) -> Result<RunSummary> {
        let path = self.pipeline_path(name)?;
        let spec = PipelineSpec::load(&path)?;
        let pipeline = path
            .file_stem()
            .map_or(name.to_string(), |s| s.to_string_lossy().into_owned());
        let preset = match (&opts.preset, &spec.default_preset) {
            (Some(p), _) | (None, Some(p)) => Some(p.clone()),
            (None, None) => None,
        };
        let mut sets: Vec<Override> = Vec::new();
        if let Some(p) = &preset {
            let chosen = spec.presets.get(p).ok_or_else(|| {
                anyhow!(
                    "no preset `{p}` in {}; presets: {}",
                    path.display(),
                    if spec.presets.is_empty() {
                        "(none)".to_string()
                    } else {
                        spec.presets.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                )
            })?;
            for (key, value) in &chosen.set {
                sets.push(Override::at(
                    key,
                    value.clone(),
                    format!("{} preset `{p}`, key `{key}`", path.display()),
                )?);
            }
        }
        for s in &opts.sets {
            sets.push(Override::parse(s)?);
        }
        let resolved = self.resolve(&spec, &sets)?;
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
        // A selection names a stage, or a stage with variants (meaning all of them).
        let picks = |sel: &str, stage: &str| {
            stage == sel
                || stage
                    .strip_prefix(sel)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
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
                    chosen.extend(plan::downstream(&graph, s));
                }
                order
                    .iter()
                    .filter(|s| chosen.contains(s))
                    .cloned()
                    .collect()
            }
            (None, None) if opts.force => order.clone(),
            _ => Vec::new(),
        };
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
            let params_json = serde_json::to_value(&r.params)?;
            let mut needs: BTreeMap<String, String> = r
                .needs
                .iter()
                .map(|n| (n.clone(), stamps[n].clone()))
                .collect();
            for path in kinds::external_inputs(&r.kind, &r.params)? {
                let print = stamp::fingerprint(&self.root.join(&path))?;
                needs.insert(format!("outside the pipeline: {}", path.display()), print);
            }
            let expected = stamp::compute(&r.kind, &params_json, &needs, CODE_VERSION);
            stamps.insert(stage.clone(), expected.clone());
            let mut outcome = StageOutcome {
                name: stage.clone(),
                kind: r.kind.clone(),
                status: StageStatus::NotRun,
                seconds: 0.0,
                dir: dir.clone(),
                summary: String::new(),
                alert: None,
            };
            if !opts.dry_run {
                // A kill between the two renames of a folder swap left `STAGE.old` alone.
                unmask_core::atomic::recover_dir(&dir)?;
            }
            // A dry run leaves a half-done swap alone, so it reads what the real run would.
            let read_dir = if opts.dry_run {
                unmask_core::atomic::readable_dir(&dir).unwrap_or_else(|| dir.clone())
            } else {
                dir.clone()
            };
            let fresh = stamp::freshness(&read_dir, &expected)?;
            let selected = opts.only.is_none() || only.contains(stage);
            if failed {
                outcomes.push(outcome);
                continue;
            }
            if !selected {
                // Outside `--only`, stages are used as they are; what it needs must be current.
                let downstream = plan::downstream(&graph, stage);
                let fed = only.iter().find(|o| downstream.contains(o));
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
            let always = kinds::always_run(&r.kind);
            let must_run = forced.contains(stage) || always || fresh != Freshness::UpToDate;
            let why = if forced.contains(stage) {
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
                outcome.summary = serde_json::to_string(&params_json)?;
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
            let result = self.run_stage(
                &pipeline,
                stage,
                r,
                &dir,
                &inputs,
                &expected,
                &needs,
                &params_json,
                opts.force && forced.contains(stage),
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

    #[allow(clippy::too_many_arguments)]
    fn run_stage(
        &self,
        pipeline: &str,
        stage: &str,
        r: &Resolved,
        dir: &Path,
        inputs: &[Input],
        expected: &str,
        needs: &BTreeMap<String, String>,
        params_json: &serde_json::Value,
        fresh: bool,
    ) -> Result<StageReport> {
        // A non-resumable stage writes into a fresh folder that replaces the old one only when
        // it succeeds, so a failure never leaves half a dataset under the stage's name.
        let resumable = kinds::resumable(&r.kind);
        let snapshot = InputsSnapshot::take(inputs)?;
        let work = if resumable {
            dir.to_path_buf()
        } else {
            dir.with_extension("partial")
        };
        if !resumable && work.exists() {
            std::fs::remove_dir_all(&work)
                .with_context(|| format!("cannot clear {}", work.display()))?;
        }
        std::fs::create_dir_all(&work)
            .with_context(|| format!("cannot create {}", work.display()))?;
        if resumable {
            let _ = std::fs::remove_file(work.join(stamp::STAMP_FILE));
            // A killed run may have left temporary files and half-swapped checkpoints.
            unmask_core::atomic::tidy_dir(&work)?;
        }
        let ctx = StageContext {
            pipeline,
            name: stage,
            out_dir: &work,
            inputs,
            project_root: &self.root,
            runs_root: &self.out,
            fresh,
        };
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            kinds::run(&r.kind, &r.params, &ctx)
        }))
        .unwrap_or_else(|panic| {
            let msg = unmask_core::panic_message(panic.as_ref());
            Err(anyhow!("stage panicked: {msg}"))
        });
        // Nothing is stamped unless the stage succeeded, what it read stayed as it was, and
        // every file its outputs name is there.
        let checked = ran.and_then(|report| {
            snapshot.ensure_unchanged(stage)?;
            let references = verify::referenced_outside(&r.kind, &work)?;
            Ok((report, references))
        });
        let (report, references) = match checked {
            Ok(done) => done,
            Err(e) => {
                if !resumable {
                    let _ = std::fs::remove_dir_all(&work);
                }
                return Err(e);
            }
        };
        // The summary is an output too, so it is written before the outputs are listed; the
        // stamp goes into the work folder, so the swap below brings outputs and stamp at once.
        let stamped = (|| {
            unmask_core::atomic::write_bytes(
                &work.join("summary.txt"),
                format!("{}\n", report.summary).as_bytes(),
            )?;
            let st = Stamp {
                stamp: expected.to_string(),
                kind: r.kind.clone(),
                params: params_json.clone(),
                needs: needs.clone(),
                code_version: CODE_VERSION.to_string(),
                outputs: stamp::list_outputs(&work)?,
                references,
            };
            stamp::save(&work, &st)?;
            if !resumable {
                unmask_core::atomic::replace_dir(&work, dir)?;
            }
            Ok::<(), anyhow::Error>(())
        })();
        if let Err(e) = stamped {
            if !resumable {
                let _ = std::fs::remove_dir_all(&work);
            }
            return Err(e);
        }
        Ok(report)
    }
}

fn stamp_summary(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("summary.txt"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
