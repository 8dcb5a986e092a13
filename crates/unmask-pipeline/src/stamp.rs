//! Stage stamps: a hash of what determines a stage's outputs (kind, resolved parameters, the
//! stamps of the stages it needs, the code version), stored with the list of output files so
//! a deleted or modified output makes the stage run again.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

pub const STAMP_FILE: &str = ".stamp.json";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub size: u64,
    pub modified_ns: u128,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stamp {
    pub stamp: String,
    pub kind: String,
    pub params: serde_json::Value,
    pub needs: BTreeMap<String, String>,
    pub code_version: String,
    pub outputs: Vec<OutputFile>,
    /// Files outside the stage's folder that its outputs name (the face images a masks
    /// manifest points at, a user's photos): paths relative to the stage's folder, or
    /// absolute. Checked like the outputs on every run.
    #[serde(default)]
    pub references: Vec<OutputFile>,
}

/// Why a stage must run, or that it need not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    UpToDate,
    NeverRan,
    InputsChanged,
    OutputsChanged(String),
    /// A file outside the stage's folder that its outputs name (an input image).
    ReferenceChanged(String),
}

impl Freshness {
    pub fn reason(&self) -> String {
        match self {
            Freshness::UpToDate => "up to date".into(),
            Freshness::NeverRan => "no previous run".into(),
            Freshness::InputsChanged => "parameters, inputs or code changed".into(),
            Freshness::OutputsChanged(p) => format!("output {p} missing or changed"),
            Freshness::ReferenceChanged(p) => {
                format!("{p}, named by the outputs, missing or changed")
            }
        }
    }
}

pub fn compute(
    kind: &str,
    params: &serde_json::Value,
    needs: &BTreeMap<String, String>,
    code_version: &str,
) -> String {
    let canonical = serde_json::json!({
        "kind": kind, "params": params, "needs": needs, "code": code_version,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// What a file or folder outside the pipeline looks like now (names, sizes, times), or
/// "missing".
pub fn fingerprint(path: &Path) -> Result<String> {
    let listing = if path.is_dir() {
        serde_json::to_string(&list_outputs(path)?)?
    } else if let Ok(meta) = std::fs::metadata(path) {
        format!("{} {}", meta.len(), modified_ns(&meta))
    } else {
        return Ok("missing".into());
    };
    Ok(hex::encode(Sha256::digest(listing.as_bytes())))
}

/// `path`'s size and modification time, recorded under the name `name`; `None` when it is not
/// a readable file.
pub fn stat(path: &Path, name: String) -> Option<OutputFile> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    Some(OutputFile {
        path: name,
        size: meta.len(),
        modified_ns: modified_ns(&meta),
    })
}

fn modified_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// Every file under `dir` except the stamp and temporary files, sorted by path.
pub fn list_outputs(dir: &Path) -> Result<Vec<OutputFile>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?
        {
            let entry = entry?;
            let path = entry.path();
            let meta = entry.metadata()?;
            if meta.is_dir() {
                pending.push(path);
                continue;
            }
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name == STAMP_FILE || name.starts_with(".tmp-") {
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push(OutputFile {
                path: rel,
                size: meta.len(),
                modified_ns: modified_ns(&meta),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

pub fn load(dir: &Path) -> Option<Stamp> {
    let text = std::fs::read_to_string(dir.join(STAMP_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn save(dir: &Path, stamp: &Stamp) -> Result<()> {
    let text = serde_json::to_string_pretty(stamp)?;
    unmask_core::atomic::write_bytes(&dir.join(STAMP_FILE), text.as_bytes())
}

/// Compares the stored stamp and the files on disk with what a run would produce now.
pub fn freshness(dir: &Path, expected: &str) -> Result<Freshness> {
    let Some(stored) = load(dir) else {
        return Ok(Freshness::NeverRan);
    };
    if stored.stamp != expected {
        return Ok(Freshness::InputsChanged);
    }
    let now = list_outputs(dir)?;
    for old in &stored.outputs {
        if !now.contains(old) {
            return Ok(Freshness::OutputsChanged(old.path.clone()));
        }
    }
    if let Some(extra) = now.iter().find(|f| !stored.outputs.contains(f)) {
        return Ok(Freshness::OutputsChanged(extra.path.clone()));
    }
    for referenced in &stored.references {
        if stat(&dir.join(&referenced.path), referenced.path.clone()).as_ref() != Some(referenced) {
            return Ok(Freshness::ReferenceChanged(referenced.path.clone()));
        }
    }
    Ok(Freshness::UpToDate)
}
