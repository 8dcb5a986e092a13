//! Reading the images users hand us (photos, face folders, masks) as 8-bit RGB, with errors
//! that say what the file really is: empty, another format than its name says, a format we do
//! not read, cut off, or too large to decode.

use anyhow::{bail, Result};
use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};
use std::io::Cursor;
use std::path::Path;

/// Photos above this many pixels are refused (a decoded 50 MP photo is 150 MB of RGB).
pub const MAX_PIXELS: u64 = 50_000_000;

/// The formats this tool decodes, for error messages.
pub const SUPPORTED: &str = "JPEG, PNG, WebP, BMP, TIFF";

const READABLE: [ImageFormat; 5] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::WebP,
    ImageFormat::Bmp,
    ImageFormat::Tiff,
];

/// Decodes the photo at `path` upright (EXIF orientation applied) as 8-bit RGB.
pub fn read_photo(path: &Path) -> Result<RgbImage> {
    let bytes = read_file(path)?;
    Ok(decode(&bytes, path, true)?.to_rgb8())
}

/// Decodes the image at `path` as stored (no EXIF rotation, so landmarks annotated on its
/// pixels stay on them) as 8-bit RGB.
pub fn read_image(path: &Path) -> Result<RgbImage> {
    let bytes = read_file(path)?;
    Ok(decode(&bytes, path, false)?.to_rgb8())
}

/// Decodes a mask image (white = inside) as stored, as 8-bit gray.
pub fn read_mask(path: &Path) -> Result<GrayImage> {
    decode_mask(&read_file(path)?, path)
}

/// [`read_mask`] for bytes that did not come from a file (an upload).
pub fn decode_mask(bytes: &[u8], name: &Path) -> Result<GrayImage> {
    Ok(decode(bytes, name, false)?.to_luma8())
}

/// [`read_photo`] for bytes that did not come from a file (an upload); `name` is what errors
/// call it, and its extension what the bytes claim to be.
pub fn decode_photo(bytes: &[u8], name: &Path) -> Result<RgbImage> {
    Ok(decode(bytes, name, true)?.to_rgb8())
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))
}

fn decode(bytes: &[u8], name: &Path, upright: bool) -> Result<DynamicImage> {
    let shown = name.display();
    if bytes.is_empty() {
        bail!("{shown}: empty file (0 bytes)");
    }
    let format = match image::guess_format(bytes) {
        Ok(f) => f,
        Err(_) => bail!("{shown}: {}", unknown_content(bytes, name)),
    };
    if !READABLE.contains(&format) {
        bail!(
            "{shown}: {} images are not supported; supported formats: {SUPPORTED}",
            format_name(format)
        );
    }
    if format == ImageFormat::Jpeg && !has_jpeg_end(bytes) {
        // The JPEG decoder fills a cut-off file with grey instead of failing.
        bail!("{shown}: truncated JPEG (no end-of-image marker)");
    }
    let fname = format_name(format);
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(|e| anyhow::anyhow!("{shown}: unreadable {fname} header: {e}"))?;
    let (w, h) = decoder.dimensions();
    if w as u64 * h as u64 > MAX_PIXELS {
        bail!(
            "{shown}: {w}x{h} is {:.1} megapixels, more than the {} allowed",
            (w as u64 * h as u64) as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        );
    }
    let orientation = if upright {
        Some(
            decoder
                .orientation()
                .map_err(|e| anyhow::anyhow!("{shown}: unreadable orientation: {e}"))?,
        )
    } else {
        None
    };
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| anyhow::anyhow!("{shown}: truncated or corrupt {fname}: {e}"))?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok(img)
}

fn has_jpeg_end(bytes: &[u8]) -> bool {
    let end = bytes
        .iter()
        .rposition(|&b| b != 0 && !b.is_ascii_whitespace())
        .unwrap_or(0);
    end >= 1 && bytes[end - 1..=end] == [0xFF, 0xD9]
}

/// What to say about bytes no image format claims: what the name promised, and how they
/// start.
fn unknown_content(bytes: &[u8], name: &Path) -> String {
    let head = &bytes[..bytes.len().min(8)];
    let start = if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        format!("{:?}", String::from_utf8_lossy(head))
    } else {
        head.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match ImageFormat::from_path(name) {
        Ok(claimed) => format!(
            "not a {} (starts with {start}); supported formats: {SUPPORTED}",
            format_name(claimed)
        ),
        Err(_) => format!("not an image (starts with {start}); supported formats: {SUPPORTED}"),
    }
}

fn format_name(format: ImageFormat) -> String {
    match format {
        ImageFormat::Jpeg => "JPEG".into(),
        ImageFormat::Png => "PNG".into(),
        ImageFormat::WebP => "WebP".into(),
        ImageFormat::Bmp => "BMP".into(),
        ImageFormat::Tiff => "TIFF".into(),
        ImageFormat::Gif => "GIF".into(),
        other => format!("{other:?}").to_uppercase(),
    }
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

    fn error_of(path: &Path) -> String {
        format!("{:#}", read_photo(path).unwrap_err())
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
        // As stored: not turned.
        assert_eq!(read_image(&path).unwrap().dimensions(), (40, 20));

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
        let err = error_of(&cut);
        assert!(
            err.contains("cut.jpg") && err.contains("truncated JPEG"),
            "{err}"
        );
    }

    #[test]
    fn webp_bmp_and_tiff_photos_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let img =
            image::RgbImage::from_fn(9, 7, |x, y| image::Rgb([x as u8 * 20, y as u8 * 30, 77]));
        for ext in ["webp", "bmp", "tiff"] {
            let path = dir.path().join(format!("photo.{ext}"));
            img.save(&path).unwrap();
            let back = read_photo(&path).unwrap();
            // WebP is written lossless by the image crate.
            assert_eq!(back, img, "{ext}");
        }
    }

    #[test]
    fn files_that_are_not_what_their_name_says_are_named_so() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.jpg");
        std::fs::write(&empty, b"").unwrap();
        assert!(
            error_of(&empty).contains("empty.jpg: empty file"),
            "{}",
            error_of(&empty)
        );

        let text = dir.path().join("notes.jpg");
        std::fs::write(&text, b"hello, this is text").unwrap();
        let err = error_of(&text);
        assert!(
            err.contains("not a JPEG (starts with \"hello, t\")"),
            "{err}"
        );
        assert!(!err.contains("truncated"), "{err}");

        let binary = dir.path().join("blob.png");
        std::fs::write(&binary, [0u8, 1, 2, 250, 251, 252, 253, 254, 255]).unwrap();
        let err = error_of(&binary);
        assert!(err.contains("not a PNG (starts with 00 01 02 fa"), "{err}");

        // GIF's magic, a format we do not decode.
        let gif = dir.path().join("anim.gif");
        std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap();
        let err = error_of(&gif);
        assert!(
            err.contains("GIF images are not supported") && err.contains(SUPPORTED),
            "{err}"
        );

        // A PNG named .jpg is read for what it is.
        let png_as_jpg = dir.path().join("really_png.jpg");
        let mut bytes = Vec::new();
        image::RgbImage::from_pixel(3, 3, image::Rgb([1, 2, 3]))
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        std::fs::write(&png_as_jpg, &bytes).unwrap();
        assert_eq!(read_photo(&png_as_jpg).unwrap().dimensions(), (3, 3));

        let cut_png = dir.path().join("cut.png");
        std::fs::write(&cut_png, &bytes[..bytes.len() / 2]).unwrap();
        let err = error_of(&cut_png);
        assert!(err.contains("cut.png") && err.contains("PNG"), "{err}");
    }
}
