//! Preview grids: a few samples side by side in one PNG so a person can see what a stage made.

use image::{imageops, Rgb, RgbImage};

/// Lays `images` out `columns` wide, each resized to `cell` x `cell`, with a 2 px grey gutter.
pub fn grid(images: &[RgbImage], columns: usize, cell: u32) -> RgbImage {
    let columns = columns.max(1);
    let rows = images.len().div_ceil(columns).max(1);
    let gutter = 2;
    let w = columns as u32 * (cell + gutter) + gutter;
    let h = rows as u32 * (cell + gutter) + gutter;
    let mut out = RgbImage::from_pixel(w, h, Rgb([40, 40, 40]));
    for (i, img) in images.iter().enumerate() {
        let tile = if img.width() == cell && img.height() == cell {
            img.clone()
        } else {
            imageops::resize(img, cell, cell, imageops::FilterType::Triangle)
        };
        let x = gutter + (i % columns) as u32 * (cell + gutter);
        let y = gutter + (i / columns) as u32 * (cell + gutter);
        imageops::replace(&mut out, &tile, x as i64, y as i64);
    }
    out
}

/// Marks each point with a small cross, clipped to the image.
pub fn draw_points(img: &mut RgbImage, points: &[crate::Point], color: Rgb<u8>) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for p in points {
        if !(p[0].is_finite() && p[1].is_finite()) {
            continue;
        }
        let (cx, cy) = (p[0].floor() as i64, p[1].floor() as i64);
        for (dx, dy) in [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)] {
            let (x, y) = (cx + dx, cy + dy);
            if x >= 0 && y >= 0 && x < w && y < h {
                img.put_pixel(x as u32, y as u32, color);
            }
        }
    }
}
