//! Orders a pipeline's stages so each runs after what it needs, rejecting cycles.

use anyhow::{bail, Result};
use indexmap::IndexMap;

/// Stage names in run order: dependencies first, otherwise in file order.
pub fn order(needs: &IndexMap<String, Vec<String>>) -> Result<Vec<String>> {
    for (stage, deps) in needs {
        for d in deps {
            if !needs.contains_key(d) {
                bail!("stage `{stage}` needs unknown stage `{d}`");
            }
        }
    }
    let mut done: Vec<String> = Vec::with_capacity(needs.len());
    while done.len() < needs.len() {
        let next = needs
            .iter()
            .find(|(name, deps)| !done.contains(name) && deps.iter().all(|d| done.contains(d)));
        match next {
            Some((name, _)) => done.push(name.clone()),
            None => {
                let stuck: Vec<&str> = needs
                    .keys()
                    .filter(|n| !done.contains(n))
                    .map(String::as_str)
                    .collect();
                bail!("the stages {} need each other in a cycle", stuck.join(", "));
            }
        }
    }
    Ok(done)
}

/// Every stage that depends on `root`, directly or not, including `root`.
pub fn downstream(needs: &IndexMap<String, Vec<String>>, root: &str) -> Vec<String> {
    let mut out = vec![root.to_string()];
    loop {
        let more: Vec<String> = needs
            .iter()
            .filter(|(n, deps)| !out.contains(n) && deps.iter().any(|d| out.contains(d)))
            .map(|(n, _)| n.clone())
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> IndexMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn dependencies_run_first() {
        let g = graph(&[
            ("eval", &["train", "data"]),
            ("train", &["data"]),
            ("data", &[]),
        ]);
        assert_eq!(order(&g).unwrap(), vec!["data", "train", "eval"]);
        assert_eq!(downstream(&g, "train"), vec!["train", "eval"]);
    }

    #[test]
    fn cycles_and_unknown_stages_are_rejected() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]);
        let err = order(&g).unwrap_err().to_string();
        assert!(
            err.contains("cycle") && err.contains("a, b, c") && !err.contains("d,"),
            "{err}"
        );
        let g = graph(&[("a", &["zz"])]);
        assert!(order(&g).unwrap_err().to_string().contains("`zz`"));
    }
}
