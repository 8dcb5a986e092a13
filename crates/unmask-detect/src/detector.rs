//! face-api's TinyFaceDetector: a 3x3 convolution, five depthwise separable convolutions with
//! 2x2 max pools, a 1x1 convolution to 5 anchors x (x, y, w, h, objectness) on a grid of
//! `input_size / 32`; leaky ReLU (0.1) between; boxes decoded as in Tiny-YOLOv2, then
//! non-maximum suppression.

use crate::input::{detector_planes, padding_stretch};
use anyhow::{Context, Result};
use burn::tensor::activation::leaky_relu;
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use image::RgbImage;
use std::path::Path;
use unmask_kernels::pool::max_pool_2x2_same;
use unmask_kernels::KernelBackend;
use unmask_kernels::WeightFile;
use unmask_kernels::{conv2d_with as conv2d, max_pool2d};

/// face-api's default input side (a multiple of 32).
pub const DEFAULT_INPUT_SIZE: usize = 416;
/// face-api's default score threshold (kept boxes score strictly above it).
pub const DEFAULT_SCORE_THRESHOLD: f64 = 0.5;
/// Boxes overlapping a better one by more than this IoU are dropped.
pub const NMS_IOU: f64 = 0.4;

/// Anchor sizes (width, height) in grid cells.
const ANCHORS: [(f64, f64); 5] = [
    (1.603231, 2.094468),
    (6.041143, 7.080126),
    (2.882459, 3.518061),
    (4.266906, 5.178857),
    (9.041765, 10.66308),
];
/// Channels after each separable convolution.
const CHANNELS: [usize; 6] = [16, 32, 64, 128, 256, 512];

/// A detected face in image pixels (not clipped to the image, as face-api).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub score: f64,
}

impl FaceBox {
    /// A box with a fixed score, for the crate's tests.
    #[cfg(test)]
    pub(crate) fn at(x: f64, y: f64, width: f64, height: f64) -> Self {
        Self {
            x,
            y,
            width,
            height,
            score: 0.9,
        }
    }

    pub fn iou(&self, other: &FaceBox) -> f64 {
        let inter = self.intersection(other);
        inter / (self.area() + other.area() - inter)
    }

    /// The area both boxes cover.
    pub fn intersection(&self, other: &FaceBox) -> f64 {
        let ix = (self.x + self.width).min(other.x + other.width) - self.x.max(other.x);
        let iy = (self.y + self.height).min(other.y + other.height) - self.y.max(other.y);
        ix.max(0.0) * iy.max(0.0)
    }

    pub fn area(&self) -> f64 {
        self.width * self.height
    }
}

/// One depthwise separable convolution (3x3 depthwise, padding 1, then 1x1 with bias).
#[derive(Debug, Clone)]
struct SeparableConv<B: Backend> {
    depthwise: Tensor<B, 4>,
    pointwise: Tensor<B, 4>,
    bias: Tensor<B, 1>,
}

impl<B: KernelBackend> SeparableConv<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let channels = self.depthwise.dims()[0];
        let x = conv2d(
            x,
            self.depthwise.clone(),
            None,
            ConvOptions::new([1, 1], [1, 1], [1, 1], channels),
        );
        conv2d(
            x,
            self.pointwise.clone(),
            Some(self.bias.clone()),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        )
    }
}

/// The detector with its weights on `B`.
#[derive(Debug, Clone)]
pub struct TinyFaceDetector<B: Backend> {
    first: (Tensor<B, 4>, Tensor<B, 1>),
    separable: Vec<SeparableConv<B>>,
    head: (Tensor<B, 4>, Tensor<B, 1>),
    device: B::Device,
}

/// A TF.js `[h, w, in, out]` kernel as burn's `[out, in, h, w]`.
fn hwio<B: Backend>(
    file: &WeightFile,
    name: &str,
    shape: [usize; 4],
    device: &B::Device,
) -> Result<Tensor<B, 4>> {
    Ok(crate::burn_kernel(
        file.tensor::<B, 4>(name, shape, device)?,
        false,
    ))
}

impl<B: KernelBackend> TinyFaceDetector<B> {
    /// Loads the converted weights (`unmask_weights::Asset::TinyFaceDetector`).
    pub fn load(path: &Path, device: &B::Device) -> Result<Self> {
        let file = WeightFile::open(path)
            .with_context(|| format!("loading the face detector from {}", path.display()))?;
        let bias = |name: &str, n: usize| -> Result<Tensor<B, 1>> {
            Ok(file.tensor::<B, 1>(name, [n], device)?)
        };
        let first = (
            hwio(&file, "conv0/filters", [3, 3, 3, CHANNELS[0]], device)?,
            bias("conv0/bias", CHANNELS[0])?,
        );
        let mut separable = Vec::new();
        for k in 1..CHANNELS.len() {
            let (cin, cout) = (CHANNELS[k - 1], CHANNELS[k]);
            separable.push(SeparableConv {
                // `[3, 3, C, 1]`: the multiplier axis becomes burn's per-group input axis.
                depthwise: crate::burn_kernel(
                    file.tensor::<B, 4>(
                        &format!("conv{k}/depthwise_filter"),
                        [3, 3, cin, 1],
                        device,
                    )?,
                    true,
                ),
                pointwise: hwio(
                    &file,
                    &format!("conv{k}/pointwise_filter"),
                    [1, 1, cin, cout],
                    device,
                )?,
                bias: bias(&format!("conv{k}/bias"), cout)?,
            });
        }
        let head = (
            hwio(&file, "conv8/filters", [1, 1, 512, 25], device)?,
            bias("conv8/bias", 25)?,
        );
        Ok(Self {
            first,
            separable,
            head,
            device: device.clone(),
        })
    }

    /// The raw output `[1, 25, S/32, S/32]` for a prepared input `[1, 3, S, S]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let leaky = |t| leaky_relu(t, 0.1);
        // The first convolution has no padding ('valid'), so the map is S - 2 wide.
        let mut x = leaky(conv2d(
            x,
            self.first.0.clone(),
            Some(self.first.1.clone()),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        ));
        x = max_pool_2x2_same(x);
        let last = self.separable.len() - 1;
        for (k, conv) in self.separable.iter().enumerate() {
            x = leaky(conv.forward(x));
            x = if k < last {
                max_pool_2x2_same(x)
            } else {
                same_pool_stride1(x)
            };
        }
        conv2d(
            x,
            self.head.0.clone(),
            Some(self.head.1.clone()),
            ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
        )
    }

    /// Faces in `img` scoring above `score_threshold`, best first, as face-api finds them
    /// with `TinyFaceDetectorOptions { inputSize, scoreThreshold }`.
    pub fn detect(
        &self,
        img: &RgbImage,
        input_size: usize,
        score_threshold: f64,
    ) -> Result<Vec<FaceBox>> {
        anyhow::ensure!(
            input_size >= 32 && input_size.is_multiple_of(32),
            "the detector's input size must be a multiple of 32, got {input_size}"
        );
        anyhow::ensure!(img.width() > 0 && img.height() > 0, "the image is empty");
        let planes = detector_planes(img, input_size);
        let x = Tensor::<B, 4>::from_data(
            TensorData::new(planes, [1, 3, input_size, input_size]),
            &self.device,
        );
        let out = crate::values(self.forward(x), "detector")?;
        let grid = input_size / 32;
        let candidates = decode(&out, grid, input_size, img, score_threshold);
        Ok(non_max_suppression(candidates, NMS_IOU))
    }
}

/// TF 'same' 2x2 max pool with stride 1: the map keeps its size; the window at the last
/// row/column sees only what exists, which repeating that row/column reproduces.
fn same_pool_stride1<B: KernelBackend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let x = Tensor::cat(vec![x.clone(), x.slice([0..n, 0..c, h - 1..h, 0..w])], 2);
    let x = Tensor::cat(
        vec![x.clone(), x.slice([0..n, 0..c, 0..h + 1, w - 1..w])],
        3,
    );
    max_pool2d(x, [2, 2], [1, 1])
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// Boxes from the raw output (`[25, grid, grid]` flattened), in image pixels. The padding to
/// a square is undone by stretching the relative coordinates (face-api's correction factors).
fn decode(
    out: &[f32],
    grid: usize,
    input_size: usize,
    img: &RgbImage,
    score_threshold: f64,
) -> Vec<FaceBox> {
    let (w, h) = (img.width() as f64, img.height() as f64);
    let (fix_x, fix_y) = padding_stretch(w, h, input_size);
    let at =
        |channel: usize, row: usize, col: usize| out[(channel * grid + row) * grid + col] as f64;
    let g = grid as f64;
    let mut boxes = Vec::new();
    for row in 0..grid {
        for col in 0..grid {
            for (a, &(aw, ah)) in ANCHORS.iter().enumerate() {
                let score = sigmoid(at(a * 5 + 4, row, col));
                if score <= score_threshold {
                    continue;
                }
                let cx = (col as f64 + sigmoid(at(a * 5, row, col))) / g * fix_x;
                let cy = (row as f64 + sigmoid(at(a * 5 + 1, row, col))) / g * fix_y;
                let bw = at(a * 5 + 2, row, col).exp() * aw / g * fix_x;
                let bh = at(a * 5 + 3, row, col).exp() * ah / g * fix_y;
                boxes.push(FaceBox {
                    x: (cx - bw / 2.0) * w,
                    y: (cy - bh / 2.0) * h,
                    width: bw * w,
                    height: bh * h,
                    score,
                });
            }
        }
    }
    boxes
}

/// Greedy non-maximum suppression: best first; a box overlapping a kept one by more than
/// `iou` is dropped. Ties keep the later candidate first, as face-api's stable ascending sort.
pub fn non_max_suppression(candidates: Vec<FaceBox>, iou: f64) -> Vec<FaceBox> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| candidates[a].score.total_cmp(&candidates[b].score));
    let mut kept: Vec<FaceBox> = Vec::new();
    while let Some(best) = order.pop() {
        let b = candidates[best];
        kept.push(b);
        order.retain(|&i| b.iou(&candidates[i]) <= iou);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fb(x: f64, score: f64) -> FaceBox {
        FaceBox {
            x,
            y: 0.0,
            width: 10.0,
            height: 10.0,
            score,
        }
    }

    #[test]
    fn suppression_keeps_the_best_of_overlapping_boxes() {
        let kept = non_max_suppression(vec![fb(0.0, 0.6), fb(1.0, 0.9), fb(30.0, 0.7)], 0.4);
        assert_eq!(kept, vec![fb(1.0, 0.9), fb(30.0, 0.7)]);
        assert!((fb(0.0, 1.0).iou(&fb(5.0, 1.0)) - 50.0 / 150.0).abs() < 1e-12);
    }
}
