//! Images on disk to tensors and back. Images are `[N, 3, H, W]` in `[0, 1]`; masks are
//! `[N, 1, H, W]` with 1 inside the mask (the hole) and 0 elsewhere.

use anyhow::{anyhow, Result};
use burn::tensor::{backend::Backend, Tensor, TensorData};
use image::imageops::FilterType;
use image::{GrayImage, RgbImage};
use rayon::prelude::*;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};

/// Reads any image as RGB; the error names the file and what is wrong with it.
pub fn read_rgb(path: &Path) -> Result<RgbImage> {
    unmask_core::photo::read_image(path)
}

/// Reads a mask image: any pixel above mid-grey is inside.
pub fn read_mask(path: &Path) -> Result<GrayImage> {
    unmask_core::photo::read_mask(path)
}

/// `img` at `size`x`size` (bilinear), unchanged when it already has that size.
pub fn resized_rgb(img: RgbImage, size: u32) -> RgbImage {
    if img.width() == size && img.height() == size {
        img
    } else {
        image::imageops::resize(&img, size, size, FilterType::Triangle)
    }
}

/// `mask` at `size`x`size` (nearest, so it stays binary).
pub fn resized_mask(mask: GrayImage, size: u32) -> GrayImage {
    if mask.width() == size && mask.height() == size {
        mask
    } else {
        image::imageops::resize(&mask, size, size, FilterType::Nearest)
    }
}

/// Channel-first floats in `[0, 1]`, optionally mirrored left-right.
pub fn rgb_planes(img: &RgbImage, flip: bool) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let plane = (w * h) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (x, y, p) in img.enumerate_pixels() {
        let x = if flip { w - 1 - x } else { x };
        let i = (y * w + x) as usize;
        for c in 0..3 {
            out[c * plane + i] = p.0[c] as f32 / 255.0;
        }
    }
    out
}

/// One plane with 1.0 where the mask is set (value above 127), optionally mirrored.
pub fn mask_plane(mask: &GrayImage, flip: bool) -> Vec<f32> {
    let w = mask.width();
    let mut out = vec![0f32; (w * mask.height()) as usize];
    for (x, y, p) in mask.enumerate_pixels() {
        let x = if flip { w - 1 - x } else { x };
        out[(y * w + x) as usize] = if p.0[0] > 127 { 1.0 } else { 0.0 };
    }
    out
}

/// A batch tensor `[n, c, size, size]` from concatenated planes.
pub fn batch_tensor<B: Backend>(
    planes: Vec<f32>,
    n: usize,
    channels: usize,
    size: usize,
    device: &B::Device,
) -> Tensor<B, 4> {
    Tensor::from_data(TensorData::new(planes, [n, channels, size, size]), device)
}

/// The values of item `i` of a batch, channel-first.
fn item_values<B: Backend>(t: &Tensor<B, 4>, i: usize) -> Vec<f32> {
    t.clone()
        .slice([i..i + 1])
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 data")
}

/// Image `i` of an `[N, 3, H, W]` tensor in `[0, 1]` as an RGB image (values clamped).
pub fn tensor_to_rgb<B: Backend>(t: &Tensor<B, 4>, i: usize) -> RgbImage {
    let [_, _, h, w] = t.dims();
    let data = item_values(t, i);
    let plane = h * w;
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let k = y as usize * w + x as usize;
        let px = |c: usize| (data[c * plane + k].clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([px(0), px(1), px(2)])
    })
}

/// Plane `i` of an `[N, 1, H, W]` tensor as a grayscale image (values in `[0, 1]` to 0..255).
pub fn tensor_to_gray<B: Backend>(t: &Tensor<B, 4>, i: usize) -> GrayImage {
    let [_, _, h, w] = t.dims();
    let data = item_values(t, i);
    GrayImage::from_fn(w as u32, h as u32, |x, y| {
        let v = data[y as usize * w + x as usize];
        image::Luma([(v.clamp(0.0, 1.0) * 255.0).round() as u8])
    })
}

/// Prepares batches on a background thread (each batch decoded in parallel with rayon), at
/// most `ahead` batches in advance, so the model does not wait on PNG decoding.
pub fn prefetch<J, T, F>(jobs: Vec<J>, ahead: usize, make: F) -> Receiver<Result<T>>
where
    J: Send + 'static,
    T: Send + 'static,
    F: Fn(J) -> Result<T> + Send + 'static,
{
    let (tx, rx) = sync_channel(ahead.max(1));
    std::thread::spawn(move || {
        for job in jobs {
            if tx.send(make(job)).is_err() {
                break;
            }
        }
    });
    rx
}

/// Decodes `paths` in parallel with `decode`, keeping their order; the first failure is
/// returned with the file it came from.
pub fn decode_all<P: AsRef<Path> + Sync, T: Send>(
    paths: &[P],
    decode: impl Fn(&Path) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    paths
        .par_iter()
        .map(|p| decode(p.as_ref()))
        .collect::<Result<Vec<T>>>()
        .map_err(|e| anyhow!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_round_trip_through_tensor() {
        let img = RgbImage::from_fn(4, 4, |x, y| image::Rgb([x as u8 * 60, y as u8 * 60, 7]));
        let t = batch_tensor::<burn::backend::Flex>(
            rgb_planes(&img, false),
            1,
            3,
            4,
            &Default::default(),
        );
        assert_eq!(tensor_to_rgb(&t, 0), img);
        let flipped = rgb_planes(&img, true);
        assert_eq!(flipped[0], img.get_pixel(3, 0).0[0] as f32 / 255.0);
    }
}
