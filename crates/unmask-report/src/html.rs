//! Pieces of self-contained HTML pages: escaped text, inline PNG images, tables.

use anyhow::Result;
use base64::Engine;
use image::{DynamicImage, ImageFormat};
use std::io::Cursor;

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An `<img>` carrying the picture as a base64 PNG data URL, shown at `width` CSS pixels.
pub fn inline_png(img: &DynamicImage, width: u32, alt: &str) -> Result<String> {
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)?;
    Ok(format!(
        "<img src=\"data:image/png;base64,{}\" width=\"{width}\" alt=\"{}\">",
        base64::engine::general_purpose::STANDARD.encode(bytes),
        escape(alt)
    ))
}

/// A page with the shared style around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n",
        escape(title)
    )
}

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:14px}\
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th:first-child,td:first-child,td.text{text-align:left}\
td.best{font-weight:bold;background:#e3f6e3}\
tr.baseline td{color:#555;font-style:italic}\
img{image-rendering:pixelated;display:block}\
.grid td{padding:2px;border:none;text-align:center;font-size:12px}\
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}";

/// `<table>` from a header and rows of ready HTML cells.
pub fn table(header: &[String], rows: &[Vec<String>], class: &str) -> String {
    let mut out = format!("<table class=\"{class}\"><tr>");
    for h in header {
        out.push_str(&format!("<th>{h}</th>"));
    }
    out.push_str("</tr>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            out.push_str(&format!("<td>{c}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_inline_and_text_is_escaped() {
        let img = DynamicImage::new_rgb8(4, 4);
        let tag = inline_png(&img, 32, "a<b").unwrap();
        assert!(
            tag.starts_with("<img src=\"data:image/png;base64,iVBOR"),
            "{tag}"
        );
        assert!(tag.contains("alt=\"a&lt;b\""));
        assert!(page("x & y", "<p>hi</p>").contains("<title>x &amp; y</title>"));
    }
}
