//! Running one stage: the stamp it must carry (its kind, parameters, what it needs), the
//! stage itself with panics caught, the checks before anything is stamped, and the stamp and
//! summary written into its work folder before the folder is promoted.

use crate::kinds::{self, Input, StageContext, StageReport};
use crate::layering::Resolved;
use crate::promote::WorkDir;
use crate::runner::Runner;
use crate::stamp::{self, Stamp};
use crate::verify::{self, InputsSnapshot};
use crate::CODE_VERSION;
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// The summary line a stage that ran left in its folder.
const SUMMARY_FILE: &str = "summary.txt";

/// The stamp a stage's folder must carry to be up to date, and what it is made of.
pub(crate) struct Expected {
    pub stamp: String,
    /// The resolved parameters, as they are stamped.
    pub params: serde_json::Value,
    /// The stamps of the stages it needs, and the listings of what it reads outside the
    /// pipeline.
    pub needs: BTreeMap<String, String>,
}

impl Expected {
    /// `stamps` holds the stamps of the stages run before (every stage `r` needs);
    /// outside inputs are found under the project `root`.
    pub fn compute(root: &Path, r: &Resolved, stamps: &BTreeMap<String, String>) -> Result<Self> {
        let params = serde_json::to_value(&r.params)?;
        let mut needs: BTreeMap<String, String> = r
            .needs
            .iter()
            .map(|n| (n.clone(), stamps[n].clone()))
            .collect();
        for path in kinds::external_inputs(&r.kind, &r.params)? {
            let print = stamp::fingerprint(&root.join(&path))?;
            needs.insert(format!("outside the pipeline: {}", path.display()), print);
        }
        let stamp = stamp::compute(&r.kind, &params, &needs, CODE_VERSION);
        Ok(Self {
            stamp,
            params,
            needs,
        })
    }
}

/// The summary line a stage that ran left in `dir` (empty when there is none).
pub(crate) fn stamp_summary(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(SUMMARY_FILE))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Runs `stage` of `pipeline` into its folder `dir` and stamps it; `fresh`: `--force` asked
/// for this stage. Nothing is stamped unless the stage succeeded, what it read stayed as it
/// was, and every file its outputs name is there.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_stage(
    runner: &Runner,
    pipeline: &str,
    stage: &str,
    r: &Resolved,
    dir: &Path,
    inputs: &[Input],
    expected: &Expected,
    fresh: bool,
) -> Result<StageReport> {
    let snapshot = InputsSnapshot::take(inputs)?;
    let work = WorkDir::prepare(dir, kinds::resumable(&r.kind))?;
    let ctx = StageContext {
        pipeline,
        name: stage,
        out_dir: work.path(),
        inputs,
        project_root: &runner.root,
        runs_root: &runner.out,
        fresh,
    };
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        kinds::run(&r.kind, &r.params, &ctx)
    }))
    .unwrap_or_else(|panic| {
        let msg = unmask_core::panic_message(panic.as_ref());
        Err(anyhow!("stage panicked: {msg}"))
    });
    let checked = ran.and_then(|report| {
        snapshot.ensure_unchanged(stage)?;
        let references = verify::referenced_outside(&r.kind, work.path())?;
        Ok((report, references))
    });
    let (report, references) = match checked {
        Ok(done) => done,
        Err(e) => {
            work.discard();
            return Err(e);
        }
    };
    // The summary is an output too, so it is written before the outputs are listed; the
    // stamp goes into the work folder, so the promotion brings outputs and stamp at once.
    let stamped = (|| {
        unmask_core::atomic::write_bytes(
            &work.path().join(SUMMARY_FILE),
            format!("{}\n", report.summary).as_bytes(),
        )?;
        let st = Stamp {
            stamp: expected.stamp.clone(),
            kind: r.kind.clone(),
            params: expected.params.clone(),
            needs: expected.needs.clone(),
            code_version: CODE_VERSION.to_string(),
            outputs: stamp::list_outputs(work.path())?,
            references,
        };
        stamp::save(work.path(), &st)?;
        work.promote()
    })();
    if let Err(e) = stamped {
        work.discard();
        return Err(e);
    }
    Ok(report)
}
