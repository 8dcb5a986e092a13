//! `--set STAGE.KEY=VALUE` overrides, applied to the written parameters before they are
//! resolved, and parsed with the type of the field they set.

use anyhow::{anyhow, bail, Result};
use serde_yaml::{Mapping, Value};

/// One parsed `--set`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub stage: String,
    /// Dotted path inside the stage's parameters (or `dataset`).
    pub key: Vec<String>,
    pub value: String,
    pub raw: String,
}

impl Override {
    pub fn parse(raw: &str) -> Result<Self> {
        let (lhs, value) = raw
            .split_once('=')
            .ok_or_else(|| anyhow!("--set {raw}: expected STAGE.KEY=VALUE"))?;
        let mut parts = lhs.split('.').map(str::trim);
        let stage = parts.next().filter(|s| !s.is_empty());
        let key: Vec<String> = parts.map(str::to_string).collect();
        match stage {
            Some(stage) if !key.is_empty() && key.iter().all(|k| !k.is_empty()) => Ok(Self {
                stage: stage.to_string(),
                key,
                value: value.to_string(),
                raw: raw.to_string(),
            }),
            _ => bail!("--set {raw}: expected STAGE.KEY=VALUE"),
        }
    }

    /// The value as YAML (so `200` is a number and `[a, b]` a list); text that is not valid
    /// YAML is kept as a string.
    pub fn yaml_value(&self) -> Value {
        serde_yaml::from_str(&self.value).unwrap_or_else(|_| Value::String(self.value.clone()))
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
                    "--set {}: {stage_desc} has no parameter `{}`; valid keys: {}",
                    ov.raw,
                    ov.key[..=depth].join("."),
                    valid(k)
                );
            }
            known = k.get(part.as_str()).and_then(Value::as_mapping);
        }
        let key = Value::String(part.clone());
        if last {
            target.insert(key, ov.yaml_value());
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
        assert_eq!(o.yaml_value(), Value::Number(200.into()));
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
