//! Variant expansion: a stage whose experiment file lists variants runs once per variant as
//! `STAGE/VARIANT`; a stage that needs it runs once per variant too (reading the matching
//! one), unless its kind gathers variants (a report), which then reads all of them.

use anyhow::{bail, Result};
use std::collections::HashMap;

/// A stage of the pipeline file, as the expansion sees it.
pub struct StageShape<'a> {
    pub name: &'a str,
    pub needs: &'a [String],
    /// Variants of the stage's own experiment file (empty when it has none).
    pub own: &'a [String],
    pub gathers: bool,
}

/// A stage as it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// `STAGE` or `STAGE/VARIANT`; also its folder under the pipeline's output.
    pub name: String,
    /// The stage of the file it comes from.
    pub stage: String,
    pub variant: Option<String>,
    pub needs: Vec<String>,
}

pub fn variant_stage(stage: &str, variant: &str) -> String {
    format!("{stage}/{variant}")
}

/// Checks a variant name: it becomes a folder name and part of `--set STAGE/VARIANT.KEY`.
pub fn check_name(file: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        bail!("{file}: variant name `{name}` may only use letters, digits, `-` and `_`");
    }
    Ok(())
}

/// Expands `stages`, given dependencies first, into the stages that run.
pub fn expand(stages: &[StageShape]) -> Result<Vec<Planned>> {
    let mut variants_of: HashMap<&str, Vec<String>> = HashMap::new();
    let mut planned = Vec::new();
    for s in stages {
        let with_variants: Vec<&String> = s
            .needs
            .iter()
            .filter(|n| variants_of.get(n.as_str()).is_some_and(|v| !v.is_empty()))
            .collect();
        let inherited: Vec<String> = if s.gathers {
            Vec::new()
        } else {
            let mut lists = with_variants.iter().map(|n| &variants_of[n.as_str()]);
            let first = lists.next().cloned().unwrap_or_default();
            if let Some(other) = lists.find(|l| **l != first) {
                bail!(
                    "stage `{}` needs stages with different variants ({} and {})",
                    s.name,
                    first.join(", "),
                    other.join(", ")
                );
            }
            first
        };
        if s.gathers && !s.own.is_empty() {
            bail!(
                "stage `{}` reads every variant of what it needs, so it cannot have variants of its own",
                s.name
            );
        }
        if !s.own.is_empty() && !inherited.is_empty() {
            bail!(
                "stage `{}` has variants of its own and needs `{}`, which has variants too",
                s.name,
                with_variants[0]
            );
        }
        let effective = if s.own.is_empty() {
            inherited
        } else {
            s.own.to_vec()
        };
        let needs_for = |variant: Option<&str>| -> Vec<String> {
            let mut out = Vec::new();
            for n in s.needs {
                match (variants_of.get(n.as_str()), variant) {
                    (Some(vs), Some(v)) if !vs.is_empty() => out.push(variant_stage(n, v)),
                    (Some(vs), None) if !vs.is_empty() => {
                        out.extend(vs.iter().map(|v| variant_stage(n, v)))
                    }
                    _ => out.push(n.clone()),
                }
            }
            out
        };
        if effective.is_empty() {
            planned.push(Planned {
                name: s.name.to_string(),
                stage: s.name.to_string(),
                variant: None,
                needs: needs_for(None),
            });
        } else {
            for v in &effective {
                planned.push(Planned {
                    name: variant_stage(s.name, v),
                    stage: s.name.to_string(),
                    variant: Some(v.clone()),
                    needs: needs_for(Some(v)),
                });
            }
        }
        variants_of.insert(s.name, effective);
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &[Planned]) -> Vec<(String, Vec<String>)> {
        p.iter()
            .map(|p| (p.name.clone(), p.needs.clone()))
            .collect()
    }

    #[test]
    fn variants_flow_down_and_reports_gather_them() {
        let s = |x: &str| x.to_string();
        let none: Vec<String> = vec![];
        let ab = vec![s("a"), s("b")];
        let (n_data, n_train, n_eval, n_report) = (
            vec![],
            vec![s("data")],
            vec![s("train"), s("data")],
            vec![s("eval"), s("data")],
        );
        let stages = [
            StageShape {
                name: "data",
                needs: &n_data,
                own: &none,
                gathers: false,
            },
            StageShape {
                name: "train",
                needs: &n_train,
                own: &ab,
                gathers: false,
            },
            StageShape {
                name: "eval",
                needs: &n_eval,
                own: &none,
                gathers: false,
            },
            StageShape {
                name: "report",
                needs: &n_report,
                own: &none,
                gathers: true,
            },
        ];
        let p = expand(&stages).unwrap();
        assert_eq!(
            names(&p),
            vec![
                (s("data"), vec![]),
                (s("train/a"), vec![s("data")]),
                (s("train/b"), vec![s("data")]),
                (s("eval/a"), vec![s("train/a"), s("data")]),
                (s("eval/b"), vec![s("train/b"), s("data")]),
                (s("report"), vec![s("eval/a"), s("eval/b"), s("data")]),
            ]
        );
        assert_eq!(p[2].variant.as_deref(), Some("b"));
    }

    #[test]
    fn own_and_inherited_variants_conflict() {
        let s = |x: &str| x.to_string();
        let ab = vec![s("a"), s("b")];
        let needs = vec![s("train")];
        let stages = [
            StageShape {
                name: "train",
                needs: &[],
                own: &ab,
                gathers: false,
            },
            StageShape {
                name: "eval",
                needs: &needs,
                own: &ab,
                gathers: false,
            },
        ];
        let err = expand(&stages).unwrap_err().to_string();
        assert!(err.contains("`eval`") && err.contains("`train`"), "{err}");
        assert!(check_name("f.yaml", "gated-k3").is_ok());
        assert!(check_name("f.yaml", "a.b").is_err());
        assert!(check_name("f.yaml", "").is_err());
    }
}
