//! face-api's SSD MobileNet v1 face detector: MobileNet v1 at 512x512 (a 3x3 convolution and
//! 13 depthwise separable blocks, batch norm folded into the depthwise kernels, ReLU6), SSD's
//! eight extra layers, and six box predictors over 5,118 anchors (3 per cell of the 32x32 map,
//! 6 per cell of the 16x16 ... 1x1 maps). Boxes are decoded against the anchors and kept by
//! non-maximum suppression at IoU 0.5, as `SsdMobilenetv1.locateFaces` does. Slower than the
//! tiny detector, but it finds more of the faces that wear masks.

use crate::detector::FaceBox;
use crate::input::{padding_stretch, ssd_planes};
use anyhow::{Context, Result};
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use image::RgbImage;
use std::path::Path;
use unmask_kernels::KernelBackend;
use unmask_kernels::WeightFile;
use unmask_kernels::{conv2d_clamped_with as conv2d_clamped, conv2d_with as conv2d, pad_zeros};

/// The side of the square the network sees.
pub const SSD_INPUT_SIZE: usize = 512;
/// face-api's default `minConfidence` (kept boxes score strictly above it).
pub const SSD_DEFAULT_MIN_CONFIDENCE: f64 = 0.5;
/// Boxes overlapping a kept one by more than this IoU are dropped.
const NMS_IOU: f64 = 0.5;
/// face-api's default `maxResults`.
const MAX_RESULTS: usize = 100;
/// tfjs' batch-norm epsilon (0.001 as an f32).
const BN_EPSILON: f64 = 0.0010000000474974513;

/// Output channels of MobileNet's first convolution and its 13 separable blocks.
const BACKBONE_CHANNELS: [usize; 14] = [
    32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024,
];
/// The separable blocks whose depthwise convolution has stride 2.
const STRIDE_2_BLOCKS: [usize; 4] = [2, 4, 6, 12];
/// The block whose output feeds the first box predictor.
const FIRST_PREDICTOR_BLOCK: usize = 11;
/// SSD's extra layers after MobileNet: (kernel, in, out); the 3x3 ones have stride 2.
const EXTRA_LAYERS: [(usize, usize, usize); 8] = [
    (1, 1024, 256),
    (3, 256, 512),
    (1, 512, 128),
    (3, 128, 256),
    (1, 256, 128),
    (3, 128, 256),
    (1, 256, 64),
    (3, 64, 128),
];
/// The box predictors: input channels and anchors per cell.
const PREDICTORS: [(usize, usize); 6] =
    [(512, 3), (1024, 6), (512, 6), (256, 6), (256, 6), (128, 6)];
const ANCHORS: usize = 5118;

/// A convolution with TensorFlow's "same" padding (the extra row or column, when the total
/// is odd, goes at the bottom or right) and a bias.
#[derive(Debug, Clone)]
struct Conv<B: Backend> {
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
    stride: usize,
    groups: usize,
}

/// TF "same" padding of one axis: (before, after).
fn same_padding(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

/// ReLU6's range: every activation of MobileNet and SSD's extra layers.
const RELU6: [f32; 2] = [0.0, 6.0];

impl<B: KernelBackend> Conv<B> {
    /// The convolution alone (the box predictors).
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let (x, opts) = self.padded(x);
        conv2d(x, self.weight.clone(), Some(self.bias.clone()), opts)
    }

    /// The convolution and ReLU6, fused.
    fn forward_relu6(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let (x, opts) = self.padded(x);
        conv2d_clamped(x, self.weight.clone(), Some(self.bias.clone()), opts, RELU6)
    }

    /// `x` padded where TF's "same" padding is asymmetric (burn's options are symmetric),
    /// and the options that pad the rest.
    fn padded(&self, x: Tensor<B, 4>) -> (Tensor<B, 4>, ConvOptions<2>) {
        let [_, _, h, w] = x.dims();
        let k = self.weight.dims()[2];
        let (top, bottom) = same_padding(h, k, self.stride);
        let (left, right) = same_padding(w, k, self.stride);
        let (x, pad) = if top == bottom && left == right {
            (x, [top, left])
        } else {
            let padding = [(top, bottom), (left, right)];
            (pad_zeros(x, padding), [0, 0])
        };
        let opts = ConvOptions::new([self.stride, self.stride], pad, [1, 1], self.groups);
        (x, opts)
    }
}

/// The detector with its weights on `B`.
#[derive(Debug, Clone)]
pub struct SsdMobilenetV1<B: Backend> {
    first: Conv<B>,
    /// (depthwise, pointwise) per separable block.
    blocks: Vec<(Conv<B>, Conv<B>)>,
    extra: Vec<Conv<B>>,
    /// (box encodings, class scores) per predictor.
    predictors: Vec<(Conv<B>, Conv<B>)>,
    /// `[ymin, xmin, ymax, xmax]` per anchor, relative to the input square.
    anchors: Vec<f32>,
    device: B::Device,
}

/// Reads the converted weights: TF layouts in, burn layouts out.
struct Weights<'a, B: Backend> {
    file: &'a WeightFile,
    device: &'a B::Device,
}

impl<B: KernelBackend> Weights<'_, B> {
    fn tensor<const D: usize>(&self, values: Vec<f32>, shape: [usize; D]) -> Tensor<B, D> {
        Tensor::from_data(TensorData::new(values, shape), self.device)
    }

    /// A `[k, k, in, out]` convolution and its bias.
    fn conv(
        &self,
        prefix: &str,
        bias: &str,
        k: usize,
        cin: usize,
        cout: usize,
        stride: usize,
    ) -> Result<Conv<B>> {
        let weight = self
            .file
            .values(&format!("{prefix}/weights"), &[k, k, cin, cout])?;
        let bias = self.file.values(&format!("{prefix}/{bias}"), &[cout])?;
        Ok(Conv {
            weight: crate::burn_kernel(self.tensor(weight, [k, k, cin, cout]), false),
            bias: self.tensor(bias, [cout]),
            stride,
            groups: 1,
        })
    }

    /// A 3x3 depthwise convolution with its batch norm folded in:
    /// `gamma * (conv(x) - mean) / sqrt(var + eps) + beta`.
    fn depthwise(&self, prefix: &str, channels: usize, stride: usize) -> Result<Conv<B>> {
        let stat = |name: &str| {
            self.file
                .values(&format!("{prefix}/BatchNorm/{name}"), &[channels])
        };
        let (gamma, beta) = (stat("gamma")?, stat("beta")?);
        let (mean, variance) = (stat("moving_mean")?, stat("moving_variance")?);
        let scale: Vec<f64> = gamma
            .iter()
            .zip(&variance)
            .map(|(&g, &v)| g as f64 / (v as f64 + BN_EPSILON).sqrt())
            .collect();
        // `[3, 3, C, 1]`, channel fastest.
        let mut weight = self
            .file
            .values(&format!("{prefix}/depthwise_weights"), &[3, 3, channels, 1])?;
        for (i, w) in weight.iter_mut().enumerate() {
            *w = (*w as f64 * scale[i % channels]) as f32;
        }
        let bias = (0..channels)
            .map(|c| (beta[c] as f64 - mean[c] as f64 * scale[c]) as f32)
            .collect();
        Ok(Conv {
            weight: crate::burn_kernel(self.tensor(weight, [3, 3, channels, 1]), true),
            bias: self.tensor(bias, [channels]),
            stride,
            groups: channels,
        })
    }
}

impl<B: KernelBackend> SsdMobilenetV1<B> {
    /// Loads the converted weights (`unmask_weights::Asset::SsdMobilenetV1`).
    pub fn load(path: &Path, device: &B::Device) -> Result<Self> {
        let context = || format!("loading the SSD face detector from {}", path.display());
        let file = WeightFile::open(path).with_context(context)?;
        Self::from_file(&file, device).with_context(context)
    }

    fn from_file(file: &WeightFile, device: &B::Device) -> Result<Self> {
        let w = Weights::<B> { file, device };
        let bn_offset = "convolution_bn_offset";
        let first = w.conv("MobilenetV1/Conv2d_0_pointwise", bn_offset, 3, 3, 32, 2)?;
        let blocks = (1..BACKBONE_CHANNELS.len())
            .map(|k| {
                let (cin, cout) = (BACKBONE_CHANNELS[k - 1], BACKBONE_CHANNELS[k]);
                let stride = if STRIDE_2_BLOCKS.contains(&k) { 2 } else { 1 };
                Ok((
                    w.depthwise(&format!("MobilenetV1/Conv2d_{k}_depthwise"), cin, stride)?,
                    w.conv(
                        &format!("MobilenetV1/Conv2d_{k}_pointwise"),
                        bn_offset,
                        1,
                        cin,
                        cout,
                        1,
                    )?,
                ))
            })
            .collect::<Result<_>>()?;
        let extra = EXTRA_LAYERS
            .iter()
            .enumerate()
            .map(|(i, &(k, cin, cout))| {
                let stride = if k == 3 { 2 } else { 1 };
                w.conv(
                    &format!("Prediction/Conv2d_{i}_pointwise"),
                    bn_offset,
                    k,
                    cin,
                    cout,
                    stride,
                )
            })
            .collect::<Result<_>>()?;
        let predictors = PREDICTORS
            .iter()
            .enumerate()
            .map(|(i, &(cin, anchors))| {
                let prefix = format!("Prediction/BoxPredictor_{i}");
                Ok((
                    w.conv(
                        &format!("{prefix}/BoxEncodingPredictor"),
                        "biases",
                        1,
                        cin,
                        anchors * 4,
                        1,
                    )?,
                    w.conv(
                        &format!("{prefix}/ClassPredictor"),
                        "biases",
                        1,
                        cin,
                        anchors * 3,
                        1,
                    )?,
                ))
            })
            .collect::<Result<_>>()?;
        let anchors = file.values("Output/extra_dim", &[1, ANCHORS, 4])?;
        Ok(Self {
            first,
            blocks,
            extra,
            predictors,
            anchors,
            device: device.clone(),
        })
    }

    /// Per anchor, in face-api's order: the box encodings `[ty, tx, th, tw]` (`[5118 * 4]`)
    /// and the class logits `[background, face, other]` (`[5118 * 3]`), for a prepared input
    /// `[1, 3, 512, 512]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Result<(Vec<f32>, Vec<f32>)> {
        let mut x = self.first.forward_relu6(x);
        let mut maps = Vec::with_capacity(PREDICTORS.len());
        for (k, (depthwise, pointwise)) in self.blocks.iter().enumerate() {
            x = pointwise.forward_relu6(depthwise.forward_relu6(x));
            if k + 1 == FIRST_PREDICTOR_BLOCK {
                maps.push(x.clone());
            }
        }
        maps.push(x.clone());
        for (i, conv) in self.extra.iter().enumerate() {
            x = conv.forward_relu6(x);
            if i % 2 == 1 {
                maps.push(x.clone());
            }
        }
        let (mut boxes, mut classes) = (Vec::new(), Vec::new());
        for (map, (box_conv, class_conv)) in maps.into_iter().zip(&self.predictors) {
            boxes.extend(anchor_major(box_conv.forward(map.clone()))?);
            classes.extend(anchor_major(class_conv.forward(map))?);
        }
        anyhow::ensure!(
            boxes.len() == ANCHORS * 4 && classes.len() == ANCHORS * 3,
            "the SSD heads gave {} box values and {} class values for {ANCHORS} anchors",
            boxes.len(),
            classes.len()
        );
        Ok((boxes, classes))
    }

    /// Faces in `img` scoring above `min_confidence`, best first, in image pixels, as
    /// face-api finds them with `SsdMobilenetv1Options { minConfidence }`.
    pub fn detect(&self, img: &RgbImage, min_confidence: f64) -> Result<Vec<FaceBox>> {
        anyhow::ensure!(img.width() > 0 && img.height() > 0, "the image is empty");
        let size = SSD_INPUT_SIZE;
        let x = Tensor::<B, 4>::from_data(
            TensorData::new(ssd_planes(img, size), [1, 3, size, size]),
            &self.device,
        );
        let (encodings, logits) = self.forward(x)?;
        let boxes: Vec<[f64; 4]> = encodings
            .chunks_exact(4)
            .zip(self.anchors.chunks_exact(4))
            .map(|(t, anchor)| decode_box(t, anchor))
            .collect();
        let scores: Vec<f64> = logits
            .chunks_exact(3)
            .map(|c| 1.0 / (1.0 + (-(c[1] as f64)).exp()))
            .collect();
        let kept = suppress(&boxes, &scores, min_confidence);
        Ok(kept
            .into_iter()
            .map(|i| {
                to_pixels(
                    &boxes[i],
                    scores[i],
                    img.width() as f64,
                    img.height() as f64,
                )
            })
            .collect())
    }
}

/// A predictor's output `[1, A * n, H, W]` (n values per anchor) as face-api flattens its
/// NHWC tensor: cell by cell (row-major), then channel by channel, i.e. anchor by anchor.
fn anchor_major<B: Backend>(t: Tensor<B, 4>) -> Result<Vec<f32>> {
    let [_, channels, h, w] = t.dims();
    let v = crate::values(t, "SSD predictor")?;
    let mut out = Vec::with_capacity(v.len());
    for cell in 0..h * w {
        for channel in 0..channels {
            out.push(v[channel * h * w + cell]);
        }
    }
    Ok(out)
}

/// The box `[ymin, xmin, ymax, xmax]` (relative to the square) that encoding `t` gives
/// against `anchor` (SSD's centre/size coding with scales 10, 10, 5, 5).
fn decode_box(t: &[f32], anchor: &[f32]) -> [f64; 4] {
    let [a0, a1, a2, a3] = [anchor[0], anchor[1], anchor[2], anchor[3]].map(f64::from);
    let (size_y, size_x) = (a2 - a0, a3 - a1);
    let (centre_y, centre_x) = (a0 + size_y / 2.0, a1 + size_x / 2.0);
    let [ty, tx, th, tw] = [t[0], t[1], t[2], t[3]].map(f64::from);
    let half_h = (th / 5.0).exp() * size_y / 2.0;
    let half_w = (tw / 5.0).exp() * size_x / 2.0;
    let cy = ty / 10.0 * size_y + centre_y;
    let cx = tx / 10.0 * size_x + centre_x;
    [cy - half_h, cx - half_w, cy + half_h, cx + half_w]
}

/// face-api's IoU of two `[ymin, xmin, ymax, xmax]` boxes (0 for empty ones).
fn box_iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let norm = |b: &[f64; 4]| {
        [
            b[0].min(b[2]),
            b[1].min(b[3]),
            b[0].max(b[2]),
            b[1].max(b[3]),
        ]
    };
    let (a, b) = (norm(a), norm(b));
    let area = |b: &[f64; 4]| (b[2] - b[0]) * (b[3] - b[1]);
    if area(&a) <= 0.0 || area(&b) <= 0.0 {
        return 0.0;
    }
    let ih = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iw = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ih * iw;
    inter / (area(&a) + area(&b) - inter)
}

/// face-api's `nonMaxSuppression`: candidates above `min_confidence`, best first (ties in
/// anchor order), each kept unless it overlaps a kept one by more than IoU 0.5; at most 100.
fn suppress(boxes: &[[f64; 4]], scores: &[f64], min_confidence: f64) -> Vec<usize> {
    let mut candidates: Vec<usize> = (0..scores.len())
        .filter(|&i| scores[i] > min_confidence)
        .collect();
    candidates.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut kept: Vec<usize> = Vec::new();
    for i in candidates {
        if kept.len() >= MAX_RESULTS.min(boxes.len()) {
            break;
        }
        if kept
            .iter()
            .all(|&j| box_iou(&boxes[i], &boxes[j]) <= NMS_IOU)
        {
            kept.push(i);
        }
    }
    kept
}

/// A relative box in image pixels: clipped to the square, stretched back from the padding
/// (face-api's `padX`/`padY`), scaled by the image size.
fn to_pixels(b: &[f64; 4], score: f64, width: f64, height: f64) -> FaceBox {
    let (pad_x, pad_y) = padding_stretch(width, height, SSD_INPUT_SIZE);
    let (top, bottom) = (b[0].max(0.0) * pad_y, b[2].min(1.0) * pad_y);
    let (left, right) = (b[1].max(0.0) * pad_x, b[3].min(1.0) * pad_x);
    FaceBox {
        x: left * width,
        y: top * height,
        width: (right - left) * width,
        height: (bottom - top) * height,
        score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_pixel_after() {
        assert_eq!(same_padding(512, 3, 2), (0, 1));
        assert_eq!(same_padding(2, 3, 2), (0, 1));
        assert_eq!(same_padding(32, 3, 1), (1, 1));
        assert_eq!(same_padding(16, 1, 1), (0, 0));
        assert_eq!(same_padding(7, 3, 2), (1, 1));
    }

    #[test]
    fn zero_encoding_gives_the_anchor() {
        let anchor = [0.1f32, 0.2, 0.5, 0.4];
        let b = decode_box(&[0.0; 4], &anchor);
        for (got, want) in b.iter().zip(anchor) {
            assert!((got - want as f64).abs() < 1e-7, "{b:?}");
        }
        // th = 5 ln 2 doubles the height about the same centre.
        let b = decode_box(&[0.0, 0.0, 5.0 * 2f32.ln(), 0.0], &anchor);
        assert!((b[2] - b[0] - 0.8).abs() < 1e-6 && ((b[0] + b[2]) / 2.0 - 0.3).abs() < 1e-7);
    }

    #[test]
    fn suppression_keeps_the_best_and_drops_overlaps_above_one_half() {
        let boxes = [
            [0.0, 0.0, 1.0, 1.0],
            [0.0, 0.0, 1.0, 0.9], // IoU 0.9 with the first
            [0.0, 0.0, 1.0, 0.4], // IoU 0.4: kept
            [2.0, 2.0, 3.0, 3.0], // scores too low
        ];
        let kept = suppress(&boxes, &[0.8, 0.9, 0.7, 0.5], 0.5);
        assert_eq!(kept, vec![1, 2]);
    }

    #[test]
    fn pixel_boxes_undo_the_padding() {
        // A 200x100 photo: the square's lower half is padding, so y is stretched by 2.
        let b = to_pixels(&[0.1, 0.25, 0.3, 0.75], 0.9, 200.0, 100.0);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(b.x, 50.0) && close(b.width, 100.0), "{b:?}");
        assert!(close(b.y, 20.0) && close(b.height, 40.0), "{b:?}");
    }
}
