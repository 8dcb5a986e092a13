//! Fault injection for the reliability tests: every output write of the project passes
//! through [`before_write`], which the `UNMASK_FAULTS` environment variable can turn into a
//! kill or a write error at the Nth write. Without the variable it only counts.
//!
//! Faults are read from the environment once per process, so tests set the variable on a
//! child process, never on the test process itself (its threads would all see it).
//!
//! - `kill-at-write=N`: the process kills itself with SIGKILL at write N (1-based), as a
//!   user's `kill -9` would, leaving whatever was on disk at that moment.
//! - `fail-write=N`: write N fails with "no space left on device", as on a full disk.
//! - `record=FILE`: every written path is appended to FILE, one a line (for choosing the
//!   points of the two faults above).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The environment variable that configures the faults.
pub const ENV: &str = "UNMASK_FAULTS";

#[derive(Clone, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// A mistyped `UNMASK_FAULTS`: every write fails with this message, so a test never runs
    /// silently without its fault.
    Invalid(String),
    KillAt(u64),
    FailAt(u64),
    Record(PathBuf),
}

fn parse(spec: &str) -> Result<Fault, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Ok(Fault::None);
    }
    let (key, value) = spec
        .split_once('=')
        .ok_or_else(|| format!("{ENV}={spec}: expected KEY=VALUE"))?;
    let count = || {
        value
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{ENV}={spec}: `{value}` is not a write number >= 1"))
    };
    match key {
        "kill-at-write" => Ok(Fault::KillAt(count()?)),
        "fail-write" => Ok(Fault::FailAt(count()?)),
        "record" => Ok(Fault::Record(PathBuf::from(value))),
        _ => Err(format!(
            "{ENV}={spec}: unknown fault `{key}` (kill-at-write, fail-write, record)"
        )),
    }
}

fn configured() -> &'static Fault {
    static FAULT: OnceLock<Fault> = OnceLock::new();
    FAULT.get_or_init(|| {
        let spec = std::env::var(ENV).unwrap_or_default();
        parse(&spec).unwrap_or_else(Fault::Invalid)
    })
}

static WRITES: AtomicU64 = AtomicU64::new(0);
static RECORD: Mutex<()> = Mutex::new(());

/// The number of output writes this process has made so far.
pub fn writes() -> u64 {
    WRITES.load(Ordering::SeqCst)
}

/// Called with each output file (or checkpoint folder) just before it is committed under its
/// final name: the data is written, the rename is not done yet.
pub fn before_write(path: &Path) -> std::io::Result<()> {
    let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
    match configured() {
        Fault::None => Ok(()),
        Fault::Invalid(why) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            why.clone(),
        )),
        Fault::KillAt(k) if n == *k => {
            kill_self();
            Ok(())
        }
        Fault::FailAt(k) if n == *k => Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!(
                "no space left on device (injected by {ENV} at write {n}: {})",
                path.display()
            ),
        )),
        Fault::Record(file) => {
            let _guard = RECORD.lock().unwrap_or_else(|e| e.into_inner());
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)?;
            writeln!(f, "{}", path.display())
        }
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn kill_self() {
    // SIGKILL, not a panic or exit: no destructor, no temporary-file cleanup, no flush.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_self() {
    std::process::abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_and_bad_ones_are_named() {
        assert_eq!(parse("").unwrap(), Fault::None);
        assert_eq!(parse("kill-at-write=7").unwrap(), Fault::KillAt(7));
        assert_eq!(parse("fail-write=1").unwrap(), Fault::FailAt(1));
        assert_eq!(
            parse("record=/tmp/w.txt").unwrap(),
            Fault::Record("/tmp/w.txt".into())
        );
        assert!(parse("fail-write=0").unwrap_err().contains("`0`"));
        assert!(parse("explode=1").unwrap_err().contains("unknown fault"));
        assert!(parse("kill").unwrap_err().contains("KEY=VALUE"));
    }

    #[test]
    fn writes_are_counted() {
        let before = writes();
        before_write(Path::new("x")).unwrap();
        assert!(writes() > before);
    }
}
