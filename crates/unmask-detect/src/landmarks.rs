//! face-api's 68-point landmark net (`FaceLandmark68Net`): four dense blocks of depthwise
//! separable convolutions on a 112x112 crop, a global average pool and a linear layer to 68
//! (x, y) pairs, mapped back to image pixels exactly as face-api maps them.

use crate::detector::FaceBox;
use crate::input::resize_legacy_bilinear;
use anyhow::{Context, Result};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use image::RgbImage;
use std::path::Path;
use unmask_kernels::conv2d_with as conv2d;
use unmask_kernels::KernelBackend;
use unmask_kernels::WeightFile;

/// The crop side the net sees.
pub const LANDMARK_INPUT: usize = 112;
/// Per-channel means (R, G, B) face-api subtracts before the landmark net.
pub const LANDMARK_MEAN: [f32; 3] = [122.782, 117.001, 104.298];
/// Output channels of the four dense blocks.
const BLOCKS: [usize; 4] = [32, 64, 128, 256];

/// 68 points in image pixels, in the iBUG-300W order (jaw, brows, nose, eyes, mouth).
pub type Landmarks68 = [[f64; 2]; 68];

#[derive(Debug, Clone)]
struct Conv<B: Backend> {
    /// Depthwise `[C, 1, 3, 3]` for a separable convolution; none for the plain first one.
    depthwise: Option<Tensor<B, 4>>,
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
}

impl<B: KernelBackend> Conv<B> {
    /// 3x3 'same' convolution (separable or not); stride 2 pads one cell at the bottom and
    /// right only, as TensorFlow does for even maps.
    fn forward(&self, x: Tensor<B, 4>, stride: usize) -> Tensor<B, 4> {
        let x = if stride == 2 {
            let [n, c, h, w] = x.dims();
            let device = x.device();
            let x = Tensor::cat(vec![x, Tensor::zeros([n, c, 1, w], &device)], 2);
            Tensor::cat(vec![x, Tensor::zeros([n, c, h + 1, 1], &device)], 3)
        } else {
            x
        };
        let pad = if stride == 2 { 0 } else { 1 };
        match &self.depthwise {
            Some(dw) => {
                let channels = dw.dims()[0];
                let x = conv2d(
                    x,
                    dw.clone(),
                    None,
                    ConvOptions::new([stride, stride], [pad, pad], [1, 1], channels),
                );
                conv2d(
                    x,
                    self.weight.clone(),
                    Some(self.bias.clone()),
                    ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
                )
            }
            None => conv2d(
                x,
                self.weight.clone(),
                Some(self.bias.clone()),
                ConvOptions::new([stride, stride], [pad, pad], [1, 1], 1),
            ),
        }
    }
}

/// The landmark net with its weights on `B`.
#[derive(Debug, Clone)]
pub struct LandmarkNet<B: Backend> {
    blocks: Vec<[Conv<B>; 4]>,
    fc_weight: Tensor<B, 2>,
    fc_bias: Tensor<B, 1>,
    device: B::Device,
}

impl<B: KernelBackend> LandmarkNet<B> {
    /// Loads the converted weights (`unmask_weights::Asset::FaceLandmark68`).
    pub fn load(path: &Path, device: &B::Device) -> Result<Self> {
        let file = WeightFile::open(path)
            .with_context(|| format!("loading the landmark net from {}", path.display()))?;
        let mut blocks = Vec::new();
        let mut cin = 3;
        for (b, &cout) in BLOCKS.iter().enumerate() {
            let conv = |k: usize, cin: usize| -> Result<Conv<B>> {
                let name = |part: &str| format!("dense{b}/conv{k}/{part}");
                let bias = file.tensor::<B, 1>(&name("bias"), [cout], device)?;
                if b == 0 && k == 0 {
                    let tf = file.tensor::<B, 4>(&name("filters"), [3, 3, cin, cout], device)?;
                    let weight = crate::burn_kernel(tf, false);
                    return Ok(Conv {
                        depthwise: None,
                        weight,
                        bias,
                    });
                }
                let depthwise = crate::burn_kernel(
                    file.tensor::<B, 4>(&name("depthwise_filter"), [3, 3, cin, 1], device)?,
                    true,
                );
                let weight = crate::burn_kernel(
                    file.tensor::<B, 4>(&name("pointwise_filter"), [1, 1, cin, cout], device)?,
                    false,
                );
                Ok(Conv {
                    depthwise: Some(depthwise),
                    weight,
                    bias,
                })
            };
            blocks.push([
                conv(0, cin)?,
                conv(1, cout)?,
                conv(2, cout)?,
                conv(3, cout)?,
            ]);
            cin = cout;
        }
        Ok(Self {
            blocks,
            fc_weight: file.tensor::<B, 2>("fc/weights", [cin, 136], device)?,
            fc_bias: file.tensor::<B, 1>("fc/bias", [136], device)?,
            device: device.clone(),
        })
    }

    /// The raw output `[N, 136]` (x, y interleaved, relative to the padded square) for
    /// prepared crops `[N, 3, 112, 112]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let mut x = x;
        for [c0, c1, c2, c3] in &self.blocks {
            let out1 = relu(c0.forward(x, 2));
            let out2 = c1.forward(out1.clone(), 1);
            let in3 = relu(out1.clone() + out2.clone());
            let out3 = c2.forward(in3, 1);
            let in4 = relu(out1.clone() + out2.clone() + out3.clone());
            let out4 = c3.forward(in4, 1);
            x = relu(out1 + out2 + out3 + out4);
        }
        let [n, c, h, w] = x.dims();
        let pooled = x.reshape([n, c, h * w]).mean_dim(2).reshape([n, c]);
        pooled.matmul(self.fc_weight.clone()) + self.fc_bias.clone().unsqueeze()
    }

    /// The raw outputs, 136 per input (x, y interleaved, shares of the input's side), of
    /// inputs given as [`LANDMARK_INPUT`]-square channel planes, run as one batch.
    pub(crate) fn raw_outputs(&self, inputs: impl Iterator<Item = Vec<f32>>) -> Result<Vec<f32>> {
        let mut planes = Vec::new();
        let mut n = 0;
        for input in inputs {
            planes.extend(input);
            n += 1;
        }
        let x = Tensor::<B, 4>::from_data(
            TensorData::new(planes, [n, 3, LANDMARK_INPUT, LANDMARK_INPUT]),
            &self.device,
        );
        crate::values(self.forward(x), "landmark")
    }

    /// The landmarks of each detected face in `img`.
    pub fn landmarks(&self, img: &RgbImage, faces: &[FaceBox]) -> Result<Vec<Landmarks68>> {
        let crops: Vec<Crop> = faces.iter().filter_map(|f| Crop::of(img, f)).collect();
        anyhow::ensure!(
            crops.len() == faces.len(),
            "a face box lies outside the image"
        );
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let out = self.raw_outputs(
            crops
                .iter()
                .map(|c| c.planes(img, LANDMARK_INPUT, LANDMARK_MEAN)),
        )?;
        Ok(crops
            .iter()
            .zip(faces)
            .enumerate()
            .map(|(i, (crop, face))| crop.to_image(&out[i * 136..(i + 1) * 136], face))
            .collect())
    }
}

/// A face's crop: the box clipped to the image and floored, as face-api cuts it.
pub(crate) struct Crop {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Whether `face` has at least a pixel inside `img` in both directions (what the landmark
/// net needs to look at).
pub(crate) fn lies_in(img: &RgbImage, face: &FaceBox) -> bool {
    Crop::of(img, face).is_some()
}

impl Crop {
    pub fn of(img: &RgbImage, f: &FaceBox) -> Option<Self> {
        Self::of_rect(img, f.x, f.y, f.width, f.height)
    }

    /// The rectangle `(x, y, width, height)` clipped to `img` and floored (face-api's
    /// `clipAtImageBorders`); `None` when nothing of it is inside.
    pub fn of_rect(img: &RgbImage, x: f64, y: f64, width: f64, height: f64) -> Option<Self> {
        let (iw, ih) = (img.width() as f64, img.height() as f64);
        let (x0, y0) = (x.max(0.0), y.max(0.0));
        let w = (x + width - x0).min(iw - x0).floor();
        let h = (y + height - y0).min(ih - y0).floor();
        (w >= 1.0 && h >= 1.0).then(|| Self {
            x: x0.floor() as u32,
            y: y0.floor() as u32,
            w: w as u32,
            h: h as u32,
        })
    }

    /// The crop padded to a centred square (the extra cell after), resized to `size` and
    /// normalised by `mean`, as channel planes: how face-api feeds both its landmark and its
    /// recognition net.
    pub fn planes(&self, img: &RgbImage, size: usize, mean: [f32; 3]) -> Vec<f32> {
        let (w, h) = (self.w as usize, self.h as usize);
        let side = w.max(h);
        let diff = side - w.min(h);
        let before = diff - diff.div_ceil(2);
        let (left, top) = if h > w { (before, 0) } else { (0, before) };
        let iw = img.width() as usize;
        let pixels = img.as_raw();
        let resized = resize_legacy_bilinear(side, size, |x, y, c| {
            let (sx, sy) = (x.wrapping_sub(left), y.wrapping_sub(top));
            if sx < w && sy < h {
                let (px, py) = (self.x as usize + sx, self.y as usize + sy);
                pixels[(py * iw + px) * 3 + c] as f64
            } else {
                0.0
            }
        });
        resized.normalised(mean)
    }

    /// Raw outputs to image pixels: face-api's post-processing assumes half the padding on
    /// each side and shifts by the detection box's own (unclipped) origin.
    fn to_image(&self, out: &[f32], face: &FaceBox) -> Landmarks68 {
        let (w, h) = (self.w as f64, self.h as f64);
        let side = w.max(h);
        let pad_x = if w < h { (h - w) / 2.0 } else { 0.0 };
        let pad_y = if h < w { (w - h) / 2.0 } else { 0.0 };
        let mut points = [[0.0; 2]; 68];
        for (k, p) in points.iter_mut().enumerate() {
            p[0] = out[2 * k] as f64 * side - pad_x + face.x;
            p[1] = out[2 * k + 1] as f64 * side - pad_y + face.y;
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f64, y: f64, width: f64, height: f64) -> FaceBox {
        FaceBox::at(x, y, width, height)
    }

    #[test]
    fn a_box_needs_a_pixel_inside_the_photo() {
        let img = RgbImage::new(200, 100);
        assert!(lies_in(&img, &face(10.0, 10.0, 50.0, 50.0)));
        // Partly outside: the inside part is enough.
        assert!(lies_in(&img, &face(-20.0, 80.0, 50.0, 50.0)));
        // In the padding below a landscape photo, or thinner than a pixel.
        assert!(!lies_in(&img, &face(10.0, 120.0, 50.0, 50.0)));
        assert!(!lies_in(&img, &face(10.0, 10.0, 0.5, 50.0)));
        assert!(!lies_in(&img, &face(10.0, 10.0, 50.0, -5.0)));
    }
}
