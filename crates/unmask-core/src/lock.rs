//! One writer per output folder: an advisory lock on `FOLDER/.lock`, taken before anything in
//! the folder is read or written and held until the holder ends.
//!
//! The lock is the operating system's (`flock` on Unix), so it goes with the process: a killed
//! holder never leaves it stale, and the next run simply takes it. The file's content only
//! tells a second run who holds it (pid, start time, command).

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file inside a locked folder.
pub const LOCK_FILE: &str = ".lock";

/// Who holds a folder: written into the lock file by the holder.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub started: String,
    pub command: String,
}

impl Holder {
    /// This process.
    pub fn this_process() -> Self {
        Self {
            pid: std::process::id(),
            started: chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
        }
    }

    fn describe(&self) -> String {
        format!(
            "process {} (started {} UTC: {})",
            self.pid, self.started, self.command
        )
    }
}

/// Whether a second run waits for the holder or stops at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Wait {
    #[default]
    No,
    Yes,
}

/// A held folder lock; dropping it releases the folder.
#[derive(Debug)]
pub struct FolderLock {
    file: File,
    folder: PathBuf,
}

impl FolderLock {
    /// Locks `folder` (created if missing) for this process. With [`Wait::No`] a folder that
    /// another process holds is an error naming that process; with [`Wait::Yes`] this blocks
    /// until the holder ends.
    pub fn acquire(folder: &Path, wait: Wait) -> Result<Self> {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        let path = folder.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                let who = holder.map_or_else(
                    || "another process (it has not said which yet)".to_string(),
                    |h| h.describe(),
                );
                if wait == Wait::No {
                    bail!(
                        "{} is in use by {who}; wait for it to finish, or rerun with --wait to start when it does",
                        folder.display()
                    );
                }
                tracing::info!("{} is in use by {who}; waiting", folder.display());
                file.lock()
                    .with_context(|| format!("cannot lock {}", path.display()))?;
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
        write_holder(&mut file, &Holder::this_process())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self {
            file,
            folder: folder.to_path_buf(),
        })
    }

    pub fn folder(&self) -> &Path {
        &self.folder
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Cleared before the lock goes (on close), so no later message names a finished run.
        let _ = self.file.set_len(0);
    }
}

/// Who holds `folder` now, as its lock file says, if that process is alive. Only reads: taking
/// even a shared lock here could make a starting run think the folder is taken.
pub fn holder_of(folder: &Path) -> Option<Holder> {
    let mut file = File::open(folder.join(LOCK_FILE)).ok()?;
    read_holder(&mut file)
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    let holder: Holder = serde_json::from_str(text.trim()).ok()?;
    // A holder killed before its lock file was cleared is not named.
    is_alive(holder.pid).then_some(holder)
}

#[cfg(unix)]
fn is_alive(pid: u32) -> bool {
    // Signal 0 checks that the process exists without sending anything.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

#[cfg(not(unix))]
fn is_alive(_pid: u32) -> bool {
    true
}

fn write_holder(file: &mut File, holder: &Holder) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(serde_json::to_string(holder)?.as_bytes())?;
    file.write_all(b"\n")?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_a_released_lock_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("out/pipeline");
        let first = FolderLock::acquire(&folder, Wait::No).unwrap();
        let holder = holder_of(&folder).expect("held");
        assert_eq!(holder.pid, std::process::id());
        // flock conflicts between two opens of the file, also within one process.
        let err = FolderLock::acquire(&folder, Wait::No)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("in use by process") && err.contains(&std::process::id().to_string()),
            "{err}"
        );
        assert!(err.contains("--wait"), "{err}");
        drop(first);
        assert_eq!(holder_of(&folder), None);
        let again = FolderLock::acquire(&folder, Wait::No).unwrap();
        assert_eq!(again.folder(), folder.as_path());
    }

    #[test]
    fn a_waiting_lock_starts_when_the_holder_ends() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().to_path_buf();
        let first = FolderLock::acquire(&folder, Wait::No).unwrap();
        let waiter = {
            let folder = folder.clone();
            std::thread::spawn(move || FolderLock::acquire(&folder, Wait::Yes).map(|_| ()))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!waiter.is_finished(), "the waiter did not wait");
        drop(first);
        waiter.join().unwrap().unwrap();
    }
}
