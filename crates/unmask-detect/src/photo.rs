//! Reading photos as the detector needs them: upright (EXIF orientation applied), 8-bit RGB
//! whatever the file holds (grayscale, RGBA, 16-bit), with clear errors for files that are
//! cut off, not images, or too large to decode.

use anyhow::{bail, Context, Result};
use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};
use std::path::Path;

/// Photos above this many pixels are refused (a decoded 50 MP photo is 150 MB of RGB).
pub const MAX_PIXELS: u64 = 50_000_000;

/// Decodes a photo upright (EXIF orientation applied) as 8-bit RGB, refusing huge ones
/// before decoding them.
pub fn read_photo(path: &Path) -> Result<RgbImage> {
    let reader = ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if reader.format() == Some(image::ImageFormat::Jpeg) {
        // The JPEG decoder fills a cut-off file with grey instead of failing.
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let end = bytes
            .iter()
            .rposition(|&b| b != 0 && !b.is_ascii_whitespace())
            .unwrap_or(0);
        if end < 1 || bytes[end - 1..=end] != [0xFF, 0xD9] {
            bail!(
                "{}: truncated JPEG (no end-of-image marker)",
                path.display()
            );
        }
    }
    let mut decoder = reader
        .into_decoder()
        .with_context(|| format!("{}: not an image this tool reads", path.display()))?;
    let (w, h) = decoder.dimensions();
    if w as u64 * h as u64 > MAX_PIXELS {
        bail!(
            "{}: {w}x{h} is {:.1} megapixels, more than the {} allowed",
            path.display(),
            (w as u64 * h as u64) as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        );
    }
    let orientation = decoder
        .orientation()
        .with_context(|| format!("{}: unreadable orientation", path.display()))?;
    let mut img = DynamicImage::from_decoder(decoder)
        .with_context(|| format!("{}: truncated or corrupt image", path.display()))?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
}
