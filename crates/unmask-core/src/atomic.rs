//! Atomic writes: every file is written to a temporary sibling and renamed into place, so a
//! crash or a kill never leaves a half-written file under its final name.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Creates `path`'s parent folder if needed and returns it.
fn parent_dir(path: &Path) -> Result<&Path> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create folder {}", parent.display()))?;
    Ok(parent)
}

/// Writes whatever `fill` writes to `path`, atomically.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    let parent = parent_dir(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(".part")
        .tempfile_in(parent)
        .with_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    share_readable(tmp.as_file())?;
    fill(tmp.as_file_mut()).with_context(|| format!("while writing {}", path.display()))?;
    tmp.as_file_mut().flush()?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot move the finished file to {}", path.display()))?;
    Ok(())
}

/// Temporary files are created private (0600); outputs are datasets and reports meant to be
/// shared, so they get the usual 0644.
pub fn share_readable(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    let _ = file;
    Ok(())
}

/// Writes `bytes` to `path`, atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |f| Ok(f.write_all(bytes)?))
}

/// Encodes an 8-bit image as PNG with fast compression (dataset generation is bound by PNG
/// encoding otherwise) and writes it atomically.
pub fn save_png<P, C>(image: &image::ImageBuffer<P, C>, path: &Path) -> Result<()>
where
    P: image::PixelWithColorType,
    [P::Subpixel]: image::EncodableLayout,
    C: std::ops::Deref<Target = [P::Subpixel]>,
{
    use image::{EncodableLayout, ImageEncoder};
    let mut bytes = Vec::with_capacity(image.as_raw().len() / 2);
    image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(
        image.as_raw().as_bytes(),
        image.width(),
        image.height(),
        P::COLOR_TYPE.into(),
    )
    .with_context(|| format!("cannot encode {}", path.display()))?;
    write_bytes(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/out.txt");
        let err = write_with(&target, |f| {
            f.write_all(b"partial")?;
            anyhow::bail!("boom")
        });
        assert!(err.is_err());
        assert!(!target.exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert!(leftovers.is_empty(), "temporary file left behind");
    }

    #[test]
    fn write_replaces_existing_content() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.txt");
        write_bytes(&target, b"one").unwrap();
        write_bytes(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
    }
}
