//! `--set STAGE.KEY=VALUE` overrides, applied to the written parameters before they are
//! resolved, and parsed with the type of the field they set.

use anyhow::{anyhow, bail, Result};
use serde_yaml::{Mapping, Value};

/// One override of a stage parameter: a `--set`, a line of a pipeline preset, or a line of
/// an experiment variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub stage: String,
    /// Dotted path inside the stage's parameters (or `dataset`).
    pub key: Vec<String>,
    pub value: Value,
    /// Where it came from, for errors: `--set faces.count=3`, `preset `paper`: faces.count`.
    pub origin: String,
}

impl Override {
    pub fn parse(raw: &str) -> Result<Self> {
        let (lhs, value) = raw
            .split_once('=')
            .ok_or_else(|| anyhow!("--set {raw}: expected STAGE.KEY=VALUE"))?;
        // The value as YAML (so `200` is a number and `[a, b]` a list); text that is not
        // valid YAML is kept as a string.
        let value = serde_yaml::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
        Self::at(lhs, value, format!("--set {raw}"))
            .map_err(|_| anyhow!("--set {raw}: expected STAGE.KEY=VALUE"))
    }

    /// `STAGE.KEY` set to `value`.
    pub fn at(path: &str, value: Value, origin: String) -> Result<Self> {
        let (stage, key) = path
            .split_once('.')
            .ok_or_else(|| anyhow!("{origin}: expected STAGE.KEY"))?;
        let mut ov = Self::in_stage(stage, key, value, origin)?;
        ov.stage = stage.trim().to_string();
        anyhow::ensure!(!ov.stage.is_empty(), "{}: expected STAGE.KEY", ov.origin);
        Ok(ov)
    }

    /// `KEY` (dotted) of stage `stage` set to `value`.
    pub fn in_stage(stage: &str, key: &str, value: Value, origin: String) -> Result<Self> {
        let key: Vec<String> = key.split('.').map(|k| k.trim().to_string()).collect();
        if key.iter().any(String::is_empty) {
            bail!("{origin}: expected a dotted parameter name");
        }
        Ok(Self {
            stage: stage.to_string(),
            key,
            value,
            origin,
        })
    }

    /// The value of a `dataset` or `experiment` override: a preset name.
    pub fn name_value(&self) -> Result<String> {
        self.value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("{}: expected the name of a preset file", self.origin))
    }
}

/// Sets `ov` inside `params`, checking the key against the kind's defaults so a misspelt key
/// is reported with the list of valid ones.
pub fn apply(
    params: &mut Mapping,
    defaults: &Mapping,
    ov: &Override,
    stage_desc: &str,
) -> Result<()> {
    let valid = |m: &Mapping| {
        m.keys()
            .filter_map(|k| k.as_str())
            .map(str::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut target = params;
    let mut known = Some(defaults);
    for (depth, part) in ov.key.iter().enumerate() {
        let last = depth + 1 == ov.key.len();
        if let Some(k) = known {
            // Maps whose keys are data (like per-type weights) are checked by the typed parse.
            let open_map = k.is_empty();
            if !open_map && !k.contains_key(part.as_str()) {
                bail!(
                    "{}: {stage_desc} has no parameter `{}`; valid keys: {}",
                    ov.origin,
                    ov.key[..=depth].join("."),
                    valid(k)
                );
            }
            known = k.get(part.as_str()).and_then(Value::as_mapping);
        }
        let key = Value::String(part.clone());
        if last {
            target.insert(key, ov.value.clone());
            return Ok(());
        }
        let entry = target
            .entry(key)
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if !entry.is_mapping() {
            *entry = Value::Mapping(Mapping::new());
        }
        target = entry.as_mapping_mut().expect("just made a mapping");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stage_key_value() {
        let o = Override::parse("faces.count=200").unwrap();
        assert_eq!(o.stage, "faces");
        assert_eq!(o.key, vec!["count"]);
        assert_eq!(o.value, Value::Number(200.into()));
        assert!(Override::parse("faces=3").is_err());
        assert!(Override::parse("faces.count").is_err());
        assert!(Override::parse(".count=3").is_err());
    }

    #[test]
    fn unknown_key_lists_valid_ones() {
        let defaults: Mapping = serde_yaml::from_str("count: 1\nsize: 2\n").unwrap();
        let mut params = Mapping::new();
        let err = apply(
            &mut params,
            &defaults,
            &Override::parse("f.cout=3").unwrap(),
            "stage `f`",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`cout`") && err.contains("count, size"),
            "{err}"
        );
        apply(
            &mut params,
            &defaults,
            &Override::parse("f.count=3").unwrap(),
            "stage `f`",
        )
        .unwrap();
        assert_eq!(params.get("count"), Some(&Value::Number(3.into())));
    }
}
