//! Parameter layering: each stage's parameters from its dataset and experiment files, then
//! the pipeline file, then the preset's and the command line's `--set`, then each variant's
//! own changes, checked against the kind's defaults and typed parameters.

use crate::kinds;
use crate::overrides::{self, Override};
use crate::spec::{DatasetSpec, PipelineSpec};
use crate::{plan, variants};
use anyhow::{anyhow, bail, Result};
use indexmap::IndexMap;
use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

/// The variants listed by a stage's experiment file.
#[derive(Default)]
struct Variants {
    file: String,
    list: IndexMap<String, IndexMap<String, Value>>,
}

/// A stage with its parameters resolved (dataset file, then the pipeline, then `--set`).
pub(crate) struct Resolved {
    pub kind: String,
    pub needs: Vec<String>,
    pub params: Value,
}

/// The preset a run uses: the one asked for, or the pipeline's `default_preset`.
pub(crate) fn chosen_preset(spec: &PipelineSpec, asked: Option<&String>) -> Option<String> {
    match (asked, &spec.default_preset) {
        (Some(p), _) | (None, Some(p)) => Some(p.clone()),
        (None, None) => None,
    }
}

/// The `--set` overrides of a run: the preset's `set` entries of the pipeline file at `path`,
/// then the command line's, in that order (later ones win).
pub(crate) fn run_overrides(
    spec: &PipelineSpec,
    path: &Path,
    preset: Option<&String>,
    sets: &[String],
) -> Result<Vec<Override>> {
    let mut out: Vec<Override> = Vec::new();
    if let Some(p) = preset {
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
            out.push(Override::at(
                key,
                value.clone(),
                format!("{} preset `{p}`, key `{key}`", path.display()),
            )?);
        }
    }
    for s in sets {
        out.push(Override::parse(s)?);
    }
    Ok(out)
}

/// Every stage of `spec`, variants expanded, with its parameters layered and checked, in
/// the order of the pipeline file's dependencies.
pub(crate) fn resolve(
    root: &Path,
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
                let (path, file) = preset_file(root, field, &preset, &stage.kind, name)?;
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
        let resolved = kinds::resolve_params(&stage.kind, Value::Mapping(params)).map_err(|e| {
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
    root: &Path,
    field: &str,
    name: &str,
    kind: &str,
    stage: &str,
) -> Result<(PathBuf, DatasetSpec)> {
    let folder = root.join(format!("{field}s"));
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
