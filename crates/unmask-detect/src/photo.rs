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

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageEncoder;

    /// A little-endian TIFF block holding only an Orientation tag.
    fn exif_orientation(value: u8) -> Vec<u8> {
        let mut b = b"II\x2a\x00\x08\x00\x00\x00\x01\x00".to_vec();
        b.extend([
            0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, value, 0, 0, 0,
        ]);
        b.extend([0, 0, 0, 0]);
        b
    }

    #[test]
    fn exif_rotation_is_applied_and_pixel_formats_become_rgb8() {
        let dir = tempfile::tempdir().unwrap();
        let wide = image::RgbImage::from_fn(40, 20, |x, _| image::Rgb([(x * 6) as u8, 0, 0]));
        let path = dir.path().join("turned.jpg");
        let mut bytes = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
        enc.set_exif_metadata(exif_orientation(6)).unwrap();
        enc.write_image(wide.as_raw(), 40, 20, image::ExtendedColorType::Rgb8)
            .unwrap();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_photo(&path).unwrap().dimensions(), (20, 40));

        let gray16 =
            image::ImageBuffer::<image::Luma<u16>, _>::from_pixel(8, 4, image::Luma([65535]));
        let p16 = dir.path().join("gray16.png");
        gray16.save(&p16).unwrap();
        let rgb = read_photo(&p16).unwrap();
        assert_eq!(rgb.get_pixel(3, 2).0, [255, 255, 255]);

        let rgba = image::RgbaImage::from_pixel(5, 5, image::Rgba([10, 20, 30, 0]));
        let pa = dir.path().join("rgba.png");
        rgba.save(&pa).unwrap();
        assert_eq!(read_photo(&pa).unwrap().get_pixel(0, 0).0, [10, 20, 30]);

        let cut = dir.path().join("cut.jpg");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_photo(&cut).unwrap_err().to_string();
        assert!(
            err.contains("cut.jpg") && err.contains("truncated"),
            "{err}"
        );
    }
}
