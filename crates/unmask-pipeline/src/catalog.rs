//! `cargo xtask list`: the pipelines, datasets and experiments of a project, each with the
//! one-line description from its file.

use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Described {
    #[serde(default)]
    description: Option<String>,
}

/// Names of the `*.yaml` files in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            if p.extension()? != "yaml" {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

/// `(name, description)` for every YAML file in `dir`; unreadable files say why.
pub fn entries(dir: &Path) -> Vec<(String, String)> {
    names(dir)
        .into_iter()
        .map(|name| {
            let path = dir.join(format!("{name}.yaml"));
            let desc = match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_yaml::from_str::<Described>(&t).map_err(|e| e.to_string()))
            {
                Ok(d) => d.description.unwrap_or_default(),
                Err(e) => format!("(unreadable: {e})"),
            };
            let first = desc.lines().next().unwrap_or("").trim().to_string();
            (name, first)
        })
        .collect()
}

/// The listing printed by `cargo xtask list`.
pub fn listing(root: &Path) -> String {
    let mut out = String::new();
    for (title, sub) in [
        ("Pipelines", "pipelines"),
        ("Datasets", "datasets"),
        ("Experiments", "experiments"),
    ] {
        out.push_str(&format!("{title} ({sub}/):\n"));
        let entries = entries(&root.join(sub));
        if entries.is_empty() {
            out.push_str("  (none yet)\n");
        }
        let width = entries.iter().map(|e| e.0.len()).max().unwrap_or(0);
        for (name, desc) in entries {
            out.push_str(&format!("  {name:width$}  {desc}\n"));
        }
        out.push('\n');
    }
    out.push_str("Stage kinds:\n");
    let kinds = crate::kinds::all();
    let width = kinds.iter().map(|k| k.0.len()).max().unwrap_or(0);
    for (kind, summary) in kinds {
        out.push_str(&format!("  {kind:width$}  {summary}\n"));
    }
    out
}
