//! Photo files in and out for the commands that take a photo or a folder of photos:
//! pairing inputs with outputs, running a command over them with failures listed at the end,
//! and writing results atomically.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use image::DynamicImage;
use serde_json::json;
use unmask_core::lock::{FolderLock, Wait};

const PHOTO_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff", "gif"];

/// The photos to process, and the output folder's lock while they are.
pub(crate) struct Plan {
    /// `(input, output)` pairs.
    pub jobs: Vec<(PathBuf, PathBuf)>,
    /// A folder of outputs has one writer at a time, as pipeline folders do.
    lock: Option<FolderLock>,
}

impl Plan {
    /// Whether the input was a folder (its outputs' folder is locked).
    pub fn is_folder(&self) -> bool {
        self.lock.is_some()
    }
}

/// One photo, or every photo of a folder into a folder (locked for this process).
pub(crate) fn plan(input: &Path, output: &Path) -> Result<Plan> {
    if !input.is_dir() {
        if !input.exists() {
            bail!("{}: no such file or folder", input.display());
        }
        return Ok(Plan {
            jobs: vec![(input.to_path_buf(), output.to_path_buf())],
            lock: None,
        });
    }
    if output.is_file() {
        bail!(
            "{} is a folder, so the output must be a folder, but {} is a file",
            input.display(),
            output.display()
        );
    }
    let photos = unmask_core::listing::files_with_extensions(input, &PHOTO_EXTENSIONS)
        .with_context(|| format!("cannot list {}", input.display()))?;
    if photos.is_empty() {
        bail!(
            "{} holds no photos ({})",
            input.display(),
            PHOTO_EXTENSIONS.join(", ")
        );
    }
    let lock = FolderLock::acquire(output, Wait::No)?;
    // PNG out, whatever came in: a lossy format would change every pixel, not just the faces.
    let jobs = photos
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().expect("a listed file has a name").to_owned();
            let out = output.join(stem).with_extension("png");
            (p, out)
        })
        .collect();
    Ok(Plan {
        jobs,
        lock: Some(lock),
    })
}

/// Runs `work` on each `(input, output)` pair and prints each summary (`describe`d, or all
/// as JSON at the end). One photo: its error is the command's. A folder: failures are
/// listed at the end after the other photos are written, and the command fails.
pub(crate) fn for_each_photo(
    label: &'static str,
    jobs: &[(PathBuf, PathBuf)],
    json: bool,
    describe: fn(&serde_json::Value) -> String,
    mut work: impl FnMut(&Path, &Path) -> Result<serde_json::Value>,
) -> Result<()> {
    let batch = jobs.len() > 1;
    let progress = batch.then(|| unmask_core::progress::Progress::new(label, jobs.len() as u64));
    let mut failures = Vec::new();
    let mut summaries = Vec::new();
    for (input, output) in jobs {
        match work(input, output) {
            Ok(summary) => {
                if !json {
                    println!("{}", describe(&summary));
                }
                summaries.push(summary);
            }
            Err(e) => {
                if !batch {
                    return Err(e);
                }
                // Most errors already start with the file; it is listed once.
                let msg = format!("{e:#}");
                let shown = format!("{}: ", input.display());
                let msg = msg.strip_prefix(&shown).map_or(msg.clone(), str::to_string);
                failures.push((input.clone(), msg));
            }
        }
        if let Some(p) = &progress {
            p.inc(1);
        }
    }
    if let Some(p) = &progress {
        p.finish();
    }
    if json {
        let failed: Vec<_> = failures
            .iter()
            .map(|(p, e)| json!({"input": p, "error": e}))
            .collect();
        let out = if batch {
            json!({"photos": summaries, "failed": failed})
        } else {
            summaries.pop().unwrap_or_default()
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    if !failures.is_empty() {
        eprintln!("{} photo(s) could not be processed:", failures.len());
        for (p, e) in &failures {
            eprintln!("  {}: {e}", p.display());
        }
        bail!(
            "{} of {} photos failed (listed above); the others were written",
            failures.len(),
            jobs.len()
        );
    }
    Ok(())
}

/// `OUT.mask.png` next to the output.
pub(crate) fn mask_path(output: &Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map_or("output".into(), |s| s.to_string_lossy().into_owned());
    output.with_file_name(format!("{stem}.mask.png"))
}

/// Writes `img` atomically in the format its extension names (PNG when it names none).
pub(crate) fn write_image(img: &DynamicImage, path: &Path) -> Result<()> {
    let format = image::ImageFormat::from_path(path).unwrap_or(image::ImageFormat::Png);
    unmask_core::atomic::write_with(path, |file| {
        let mut buffered = std::io::BufWriter::new(file);
        img.write_to(&mut buffered, format)
            .with_context(|| format!("cannot encode {}", path.display()))?;
        Ok(())
    })
}
