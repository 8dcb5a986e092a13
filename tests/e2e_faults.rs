//! Fault injection on a pipeline with every stage kind (`tests/pipelines/faults.yaml`):
//! two runs on one folder, runs killed (SIGKILL) at a write of each stage and run again, and
//! full disks during a write. Each fault runs in a child process (this test binary, started
//! again on `child_run`), because faults are set through the environment, once per process.
//!
//! The write points are drawn from `UNMASK_FAULT_SEED` (a fixed default, so CI is
//! repeatable; set it to try others). `UNMASK_FAULT_EVERY_WRITE=1` kills a run at every
//! write of the pipeline in turn instead (about two minutes).

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use unmask_core::faults;
use unmask_pipeline::{RunOptions, Runner, StageStatus};

mod common;
use common::{files_under, project_root};

const CHILD_OUT: &str = "UNMASK_TEST_CHILD_OUT";
const CHILD_ARGS: &str = "UNMASK_TEST_CHILD_ARGS";
/// The pipeline's name, and its folder under the output folder.
const PIPELINE: &str = "faults";

fn pipeline_file() -> String {
    project_root()
        .join("tests/pipelines/faults.yaml")
        .display()
        .to_string()
}

fn options(args: &str) -> RunOptions {
    let mut opts = RunOptions::default();
    for arg in args.split(',').filter(|a| !a.is_empty()) {
        match arg.split_once('=') {
            Some(("only", stage)) => opts.only = Some(stage.to_string()),
            None if arg == "force" => opts.force = true,
            None if arg == "wait" => opts.wait = true,
            _ => panic!("unknown child argument {arg}"),
        }
    }
    opts
}

/// Not a test of its own: the body of the child processes (one run of the faults pipeline
/// into `$UNMASK_TEST_CHILD_OUT`). Without the variable it does nothing.
#[test]
fn child_run() {
    let Ok(out) = std::env::var(CHILD_OUT) else {
        return;
    };
    let opts = options(&std::env::var(CHILD_ARGS).unwrap_or_default());
    let runner = Runner::new(project_root(), &out);
    // Exits itself, so the parent sees this run's status rather than the harness's.
    match runner.run(&pipeline_file(), &opts) {
        Ok(summary) => {
            println!("{}", summary.table());
            if let Some((stage, err)) = summary.failure() {
                eprintln!("stage {stage} failed: {err}");
                std::process::exit(1);
            }
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

fn child_command(out: &Path, fault: Option<&str>, args: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_run", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_OUT, out)
        .env(CHILD_ARGS, args)
        .env_remove(faults::ENV);
    if let Some(f) = fault {
        cmd.env(faults::ENV, f);
    }
    cmd
}

fn child(out: &Path, fault: Option<&str>, args: &str) -> Output {
    child_command(out, fault, args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
}

/// A burn record with its parameter ids blanked: burn draws them at random per process, so
/// two runs with equal weights write different ids.
fn without_param_ids(mut bytes: Vec<u8>) -> Vec<u8> {
    let mut i = 0;
    while let Some(at) = bytes[i..].windows(3).position(|w| w == b"\xa2id") {
        let start = i + at + 3;
        // A MessagePack fixstr (0xa0..=0xbf) holds the id.
        if let Some(&h) = bytes.get(start) {
            if (0xa0..=0xbf).contains(&h) {
                let n = (h - 0xa0) as usize;
                let end = (start + 1 + n).min(bytes.len());
                bytes[start + 1..end].fill(0);
            }
        }
        i = start;
    }
    bytes
}

/// sha256 of every file under `dir` but lock files, by path relative to it; records without
/// their parameter ids, and `dir` itself written as `OUT` (eval.json names the model folder).
fn digests(dir: &Path) -> BTreeMap<String, String> {
    use sha2::{Digest, Sha256};
    let mut out = BTreeMap::new();
    for rel in files_under(dir) {
        if rel.ends_with(unmask_core::lock::LOCK_FILE) {
            continue;
        }
        let mut bytes = std::fs::read(dir.join(&rel)).unwrap();
        if rel.ends_with(".mpk") {
            bytes = without_param_ids(bytes);
        } else if rel.ends_with(".json") {
            let text = String::from_utf8_lossy(&bytes);
            bytes = text.replace(&dir.display().to_string(), "OUT").into_bytes();
        }
        out.insert(rel, hex::encode(Sha256::digest(&bytes)));
    }
    out
}

/// The outputs that must be the same, bit for bit, after any fault and rerun: everything but
/// stamps (they hold file times), the lock, and what records wall time or speed.
fn deterministic(all: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    const TIMED: [&str; 5] = [
        ".stamp.json",
        "summary.txt",
        "train_summary.json",
        "state.json",
        "steps.parquet",
    ];
    // Optimizer records are maps keyed by parameter id (in the ids' order); the weights they
    // produce are compared instead.
    const KEYED_BY_ID: [&str; 3] = [
        "optimizer.mpk",
        "generator_optimizer.mpk",
        "discriminator_optimizer.mpk",
    ];
    all.iter()
        .filter(|(path, _)| {
            let name = Path::new(path).file_name().unwrap().to_string_lossy();
            !TIMED.contains(&name.as_ref())
                && !KEYED_BY_ID.contains(&name.as_ref())
                && !path.starts_with("faults/report/")
        })
        .map(|(p, d)| (p.clone(), d.clone()))
        .collect()
}

/// Leftovers of an interrupted write that a finished run must not keep.
fn leftovers(dir: &Path) -> Vec<String> {
    files_under(dir)
        .iter()
        .filter(|p| {
            p.split('/').any(|part| {
                part.starts_with(".tmp-")
                    || part.ends_with(".partial")
                    || part.ends_with(".old")
                    || part.ends_with(".tmp")
            })
        })
        .cloned()
        .collect()
}

/// The stage a written path belongs to (`OUT/faults/masks.partial/x` is `masks`).
fn stage_of(path: &str, out: &Path) -> String {
    let rel = Path::new(path)
        .strip_prefix(out.join(PIPELINE))
        .unwrap_or_else(|_| panic!("{path} is outside the run"));
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first
        .trim_end_matches(".partial")
        .trim_end_matches(".old")
        .to_string()
}

/// A reference run, with the path of every write in order.
struct Reference {
    _dir: tempfile::TempDir,
    out: PathBuf,
    writes: Vec<String>,
}

impl Reference {
    fn make() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let record = dir.path().join("writes.txt");
        let fault = format!("record={}", record.display());
        assert_ok(&child(&out, Some(&fault), ""));
        let writes: Vec<String> = std::fs::read_to_string(&record)
            .unwrap()
            .lines()
            .map(|l| stage_of(l, &out))
            .collect();
        Self {
            _dir: dir,
            out,
            writes,
        }
    }

    /// Write numbers (1-based) of `stage` in a whole run.
    fn writes_of(&self, stage: &str) -> Vec<u64> {
        (1..=self.writes.len() as u64)
            .filter(|n| self.writes[*n as usize - 1] == stage)
            .collect()
    }

    fn stages(&self) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for s in &self.writes {
            if !seen.contains(s) {
                seen.push(s.clone());
            }
        }
        seen
    }

    fn outputs(&self) -> BTreeMap<String, String> {
        deterministic(&digests(&self.out))
    }
}

fn seed() -> u64 {
    std::env::var("UNMASK_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261201)
}

/// One of `choices`, drawn from `(seed, stream, k)`.
fn pick(choices: &[u64], stream: &str, k: u64) -> u64 {
    let u = unmask_core::rng::sample_unit(seed(), stream, k);
    choices[((u * choices.len() as f64) as usize).min(choices.len() - 1)]
}

fn compare(reference: &Reference, out: &Path, what: &str) {
    let (want, got) = (reference.outputs(), deterministic(&digests(out)));
    let differ: Vec<&String> = want
        .keys()
        .chain(got.keys())
        .filter(|k| want.get(*k) != got.get(*k))
        .collect();
    assert!(
        differ.is_empty(),
        "{what}: outputs differ from an uninterrupted run: {differ:?}"
    );
    let left = leftovers(out);
    assert!(left.is_empty(), "{what}: leftovers {left:?}");
}

#[test]
fn a_run_killed_at_a_write_of_every_stage_kind_resumes_to_the_same_outputs() {
    let reference = Reference::make();
    let stages = reference.stages();
    for kind in [
        "faces",
        "masks",
        "train-seg",
        "eval-seg",
        "train-inpaint",
        "report",
    ] {
        assert!(
            stages.iter().any(|s| s == kind),
            "{kind} wrote nothing: {stages:?}"
        );
    }
    // Two uninterrupted runs agree, or the comparison below would mean nothing.
    let again = tempfile::tempdir().unwrap();
    assert_ok(&child(again.path(), None, ""));
    compare(&reference, again.path(), "a second uninterrupted run");
    let mut killed = 0;
    let every_write = std::env::var("UNMASK_FAULT_EVERY_WRITE").is_ok_and(|v| v == "1");
    for (k, stage) in stages.iter().enumerate() {
        let writes = reference.writes_of(stage);
        let points: Vec<u64> = if every_write {
            writes
        } else {
            (0..KILLS_PER_STAGE)
                .map(|draw| pick(&writes, "kill", (k * KILLS_PER_STAGE + draw) as u64))
                .collect()
        };
        for point in points {
            let tmp = tempfile::tempdir().unwrap();
            let fault = format!("kill-at-write={point}");
            let first = child(tmp.path(), Some(&fault), "");
            assert_eq!(
                first.status.signal(),
                Some(SIGKILL),
                "{stage}: the run was not killed at write {point}: {}",
                text(&first)
            );
            killed += 1;
            let rerun = child(tmp.path(), None, "");
            assert_ok(&rerun);
            compare(
                &reference,
                tmp.path(),
                &format!("killed in `{stage}` at write {point}"),
            );
        }
    }
    eprintln!("killed and resumed {killed} runs (seed {})", seed());
}

const SIGKILL: i32 = 9;
/// Kill points drawn in each stage.
const KILLS_PER_STAGE: usize = 2;

#[test]
fn a_full_disk_keeps_the_previous_outputs_and_a_failed_training_resumes() {
    let reference = Reference::make();
    let before = digests(&reference.out);
    let mut injected = 0;
    // Stages that are replaced whole: a forced rerun that hits a full disk leaves the
    // previous outputs and stamps exactly as they were.
    for (k, stage) in [
        "faces",
        "masks",
        "eval-seg",
        "eval-inpaint",
        "baseline",
        "report",
    ]
    .iter()
    .enumerate()
    {
        let count = reference.writes_of(stage).len() as u64;
        let point = pick(&(1..=count).collect::<Vec<_>>(), "disk", k as u64);
        let fault = format!("fail-write={point}");
        let failed = child(&reference.out, Some(&fault), &format!("only={stage},force"));
        assert_eq!(failed.status.code(), Some(1), "{stage}: {}", text(&failed));
        assert!(
            String::from_utf8_lossy(&failed.stderr).contains("no space left on device"),
            "{stage}: {}",
            text(&failed)
        );
        let after = digests(&reference.out);
        let changed: Vec<&String> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect();
        assert!(
            changed.is_empty(),
            "{stage} at write {point}: changed {changed:?}"
        );
        injected += 1;
    }
    // Nothing was lost, so nothing runs again.
    let runner = Runner::new(project_root(), &reference.out);
    let summary = runner
        .run(&pipeline_file(), &RunOptions::default())
        .unwrap();
    for s in &summary.stages {
        assert_eq!(s.status, StageStatus::Skipped, "{}", summary.table());
    }
    // Training runs in place: a full disk fails it, and the next run resumes from its last
    // checkpoint to the outputs of an uninterrupted run.
    for (k, stage) in ["train-seg", "train-inpaint"].iter().enumerate() {
        let point = pick(&reference.writes_of(stage), "disk-train", k as u64);
        let tmp = tempfile::tempdir().unwrap();
        let fault = format!("fail-write={point}");
        let failed = child(tmp.path(), Some(&fault), "");
        assert_eq!(failed.status.code(), Some(1), "{stage}: {}", text(&failed));
        assert_ok(&child(tmp.path(), None, ""));
        compare(&reference, tmp.path(), &format!("full disk in `{stage}`"));
        injected += 1;
    }
    eprintln!("{injected} full disks survived (seed {})", seed());

    // A corrupt checkpoint is named, not trained over.
    let train_seg = reference.out.join(PIPELINE).join("train-seg");
    std::fs::write(train_seg.join("checkpoint/model.mpk"), b"not a checkpoint").unwrap();
    std::fs::remove_dir_all(train_seg.join("best")).unwrap();
    let summary = runner
        .run(&pipeline_file(), &RunOptions::default())
        .unwrap();
    match summary.status_of("train-seg") {
        Some(StageStatus::Failed(e)) => assert!(
            e.contains("checkpoint/model.mpk") && e.contains("corrupt"),
            "{e}"
        ),
        other => panic!("train-seg: {other:?}: {}", summary.table()),
    }
}

#[test]
fn two_runs_on_one_folder_one_finishes_one_stops_and_the_folder_stays_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().to_path_buf();
    let mut first = child_command(&out, None, "")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let folder = out.join(PIPELINE);
    let started = std::time::Instant::now();
    while unmask_core::lock::holder_of(&folder).is_none() {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended before it was seen holding the folder"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "the first run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let runner = Runner::new(project_root(), &out);
    let err = runner
        .run(&pipeline_file(), &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is in use by process") && err.contains(&first.id().to_string()),
        "{err}"
    );
    assert!(err.contains("child_run") && err.contains("--wait"), "{err}");
    // A run that waits starts when the first ends, and finds everything done.
    let waiting = RunOptions {
        wait: true,
        ..Default::default()
    };
    let summary = runner.run(&pipeline_file(), &waiting).unwrap();
    assert!(first.wait().unwrap().success());
    for s in &summary.stages {
        assert_eq!(s.status, StageStatus::Skipped, "{}", summary.table());
    }
    // Whole: every face the manifest names is there.
    let faces = unmask_faces::read_faces(&folder.join("faces")).unwrap();
    assert_eq!(faces.len(), 16);
    assert!(faces.iter().all(|f| f.path.is_file()));
    // Deleting one image inside faces/images/ makes faces (and what follows) run again.
    std::fs::remove_file(&faces[3].path).unwrap();
    let dry = RunOptions {
        dry_run: true,
        ..Default::default()
    };
    let plan = runner.run(&pipeline_file(), &dry).unwrap();
    match plan.status_of("faces") {
        Some(StageStatus::WouldRun(why)) => assert!(why.contains("images/"), "{why}"),
        other => panic!("faces: {other:?}"),
    }
    let rerun = runner
        .run(&pipeline_file(), &RunOptions::default())
        .unwrap();
    assert_eq!(rerun.status_of("faces"), Some(&StageStatus::Ran));
    assert!(faces[3].path.is_file());
}
