//! Pipeline files: parsing and validation with errors located at `file:line:column`.
//!
//! Parsing takes two passes over the same text. The first reads the outline (stage names,
//! kinds, needs, raw parameter mappings); the second walks the text again knowing each
//! stage's kind, and deserialises the parameters into that kind's typed struct straight from
//! the YAML stream, so a wrong type or a misspelt key is reported at its own line and column.

use crate::kinds;
use anyhow::{anyhow, Result};
use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// One stage as written in a pipeline file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// What the stage does; one of the registered kinds.
    pub kind: String,
    /// One line shown by the dry run and the summary.
    #[serde(default)]
    pub description: Option<String>,
    /// Stages whose outputs this one reads.
    #[serde(default)]
    pub needs: Vec<String>,
    /// A dataset definition (`datasets/NAME.yaml`) whose parameters this stage starts from.
    #[serde(default)]
    pub dataset: Option<String>,
    /// A training preset (`experiments/NAME.yaml`) whose parameters this stage starts from,
    /// applied after the dataset's and before the stage's own.
    #[serde(default)]
    pub experiment: Option<String>,
    /// Parameters as written; missing ones take the kind's defaults.
    #[serde(default)]
    pub params: serde_yaml::Mapping,
}

/// A parsed pipeline file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    pub description: String,
    pub stages: IndexMap<String, StageSpec>,
    /// Named sets of overrides (`cargo xtask run NAME --preset P`).
    #[serde(default)]
    pub presets: IndexMap<String, PresetSpec>,
    /// The preset used when none is asked for; its outputs go to `OUT/NAME/`, another
    /// preset's to `OUT/NAME-PRESET/`.
    #[serde(default)]
    pub default_preset: Option<String>,
    #[serde(skip)]
    pub path: PathBuf,
}

/// A pipeline preset: overrides written as `STAGE.KEY: VALUE`, applied before `--set`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    pub description: String,
    #[serde(default)]
    pub set: IndexMap<String, serde_yaml::Value>,
}

/// A preset file (`datasets/NAME.yaml` or `experiments/NAME.yaml`): parameters for stages of
/// one kind.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    pub description: String,
    /// The stage kind these parameters are for.
    pub kind: String,
    #[serde(default)]
    pub params: serde_yaml::Mapping,
    /// Named variants, each a set of overrides (`generator.conv: gated`) on top of `params`.
    /// A stage using this file runs once per variant, as `STAGE/VARIANT`.
    #[serde(default)]
    pub variants: IndexMap<String, IndexMap<String, serde_yaml::Value>>,
}

/// Formats a serde_yaml error as `file:line:column: message`.
pub fn located(file: &Path, err: &serde_yaml::Error) -> anyhow::Error {
    let text = err.to_string();
    let msg = match text.rfind(" at line ") {
        Some(i) if err.location().is_some() => &text[..i],
        _ => text.as_str(),
    };
    match err.location() {
        Some(loc) => anyhow!("{}:{}:{}: {msg}", file.display(), loc.line(), loc.column()),
        None => anyhow!("{}: {msg}", file.display()),
    }
}

pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))
}

impl PipelineSpec {
    pub fn load(path: &Path) -> Result<Self> {
        Self::parse(&read_text(path)?, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut spec: PipelineSpec = serde_yaml::from_str(text).map_err(|e| located(path, &e))?;
        spec.path = path.to_path_buf();
        let names: Vec<String> = spec.stages.keys().cloned().collect();
        let kinds: IndexMap<String, String> = spec
            .stages
            .iter()
            .map(|(n, s)| (n.clone(), s.kind.clone()))
            .collect();
        let de = serde_yaml::Deserializer::from_str(text);
        FileSeed {
            kinds: &kinds,
            names: &names,
        }
        .deserialize(de)
        .map_err(|e| located(path, &e))?;
        Ok(spec)
    }
}

impl DatasetSpec {
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let spec: DatasetSpec = serde_yaml::from_str(&text).map_err(|e| located(path, &e))?;
        let de = serde_yaml::Deserializer::from_str(&text);
        StageSeed {
            kind: &spec.kind,
            names: &[],
        }
        .deserialize(de)
        .map_err(|e| located(path, &e))?;
        Ok(spec)
    }
}

struct FileSeed<'a> {
    kinds: &'a IndexMap<String, String>,
    names: &'a [String],
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a pipeline with `description` and `stages`")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "stages" {
                map.next_value_seed(StagesSeed {
                    kinds: self.kinds,
                    names: self.names,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct StagesSeed<'a> {
    kinds: &'a IndexMap<String, String>,
    names: &'a [String],
}

impl<'de> DeserializeSeed<'de> for StagesSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StagesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of stage names to stages")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            let kind = &self.kinds[&name];
            map.next_value_seed(StageSeed {
                kind,
                names: self.names,
            })?;
        }
        Ok(())
    }
}

/// Validates one stage (or a dataset file): its kind, its needs and its typed parameters.
struct StageSeed<'a> {
    kind: &'a str,
    names: &'a [String],
}

impl<'de> DeserializeSeed<'de> for StageSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StageSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stage with `kind`, `needs` and `params`")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let known_kind = kinds::find(self.kind).is_some();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "kind" => map.next_value_seed(KindSeed)?,
                "needs" if !self.names.is_empty() => {
                    map.next_value_seed(NeedsSeed { names: self.names })?
                }
                "params" if known_kind => map.next_value_seed(ParamsSeed { kind: self.kind })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct KindSeed;

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KindSeed {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stage kind")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        match kinds::find(v) {
            Some(_) => Ok(()),
            None => Err(E::custom(format!(
                "unknown stage kind `{v}`, expected one of {}",
                kinds::names()
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

struct NeedsSeed<'a> {
    names: &'a [String],
}

impl<'de> DeserializeSeed<'de> for NeedsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for NeedsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of stage names")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(StageNameSeed { names: self.names })?
            .is_some()
        {}
        Ok(())
    }
}

struct StageNameSeed<'a> {
    names: &'a [String],
}

impl<'de> DeserializeSeed<'de> for StageNameSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for StageNameSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the name of a stage of this pipeline")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if self.names.iter().any(|n| n == v) {
            Ok(())
        } else {
            Err(E::custom(format!(
                "unknown stage `{v}` in `needs`, expected one of {}",
                self.names
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}

struct ParamsSeed<'a> {
    kind: &'a str,
}

impl<'de> DeserializeSeed<'de> for ParamsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        kinds::validate_params(self.kind, d)
    }
}
