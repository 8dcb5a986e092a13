//! face-api's face recognition net (`FaceRecognitionNet`, dlib's ResNet): a 128-d descriptor
//! of a 150x150 face, for identity checks. Two faces of one person lie within about 0.6 of
//! each other (face-api's `FaceMatcher` threshold).
//!
//! Every layer is a convolution, its bias, a per-channel scale and shift (dlib's folded batch
//! norm) and mostly a ReLU; stride-2 convolutions use TF's 'valid' padding, stride-1 ones
//! 'same'. Residual blocks that halve the map take a 2x2 average pool of the input as the
//! shortcut, with zero channels appended, and (face-api's quirk where 'valid' loses a cell)
//! a zero row and column appended to the convolution's output.

use crate::detector::FaceBox;
use crate::landmarks::{Crop, Landmarks68, LANDMARK_MEAN};
use anyhow::{Context, Result};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use image::RgbImage;
use std::path::Path;
use unmask_kernels::conv2d_with as conv2d;
use unmask_kernels::{avg_pool2d, max_pool2d, KernelBackend, WeightFile};

/// The side of the square the net sees.
pub const RECOGNITION_INPUT: usize = 150;
/// The length of a descriptor.
pub const DESCRIPTOR_LEN: usize = 128;
/// face-api's distance under which two descriptors are the same person.
pub const SAME_PERSON_DISTANCE: f32 = 0.6;

pub type Descriptor = [f32; DESCRIPTOR_LEN];

/// Convolution, bias, per-channel scale and shift.
#[derive(Debug, Clone)]
struct ConvLayer<B: Backend> {
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
    /// `[1, C, 1, 1]`.
    scale: Tensor<B, 4>,
    shift: Tensor<B, 4>,
}

impl<B: KernelBackend> ConvLayer<B> {
    fn load(
        file: &WeightFile,
        prefix: &str,
        k: usize,
        cin: usize,
        cout: usize,
        device: &B::Device,
    ) -> Result<Self> {
        let filters =
            file.tensor::<B, 4>(&format!("{prefix}/conv/filters"), [k, k, cin, cout], device)?;
        let channel = |name: &str| -> Result<Tensor<B, 4>> {
            Ok(file
                .tensor::<B, 1>(&format!("{prefix}/scale/{name}"), [cout], device)?
                .reshape([1, cout, 1, 1]))
        };
        Ok(Self {
            weight: crate::burn_kernel(filters, false),
            bias: file.tensor::<B, 1>(&format!("{prefix}/conv/bias"), [cout], device)?,
            scale: channel("weights")?,
            shift: channel("biases")?,
        })
    }

    /// Stride 1 pads 'same'; stride 2 is 'valid'.
    fn forward(&self, x: Tensor<B, 4>, stride: usize, with_relu: bool) -> Tensor<B, 4> {
        let k = self.weight.dims()[2];
        let pad = if stride == 1 { k / 2 } else { 0 };
        let out = conv2d(
            x,
            self.weight.clone(),
            Some(self.bias.clone()),
            ConvOptions::new([stride, stride], [pad, pad], [1, 1], 1),
        );
        let out = out * self.scale.clone() + self.shift.clone();
        if with_relu {
            relu(out)
        } else {
            out
        }
    }
}

/// Two 3x3 layers and a shortcut; `down` halves the map (stride 2) and may widen it.
#[derive(Debug, Clone)]
struct Residual<B: Backend> {
    conv1: ConvLayer<B>,
    conv2: ConvLayer<B>,
    down: bool,
}

impl<B: KernelBackend> Residual<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let stride = if self.down { 2 } else { 1 };
        let out = self.conv1.forward(x.clone(), stride, true);
        let mut out = self.conv2.forward(out, 1, false);
        let shortcut = if self.down {
            avg_pool2d(x, [2, 2], [2, 2], [0, 0], false)
        } else {
            x
        };
        let [n, c, h, w] = shortcut.dims();
        let device = shortcut.device();
        let [_, co, ho, wo] = out.dims();
        if (ho, wo) != (h, w) {
            // face-api appends one zero row and column where 'valid' lost a cell.
            out = Tensor::cat(vec![out, Tensor::zeros([n, co, 1, wo], &device)], 2);
            out = Tensor::cat(vec![out, Tensor::zeros([n, co, ho + 1, 1], &device)], 3);
        }
        let shortcut = if co != c {
            Tensor::cat(
                vec![shortcut.clone(), Tensor::zeros([n, co - c, h, w], &device)],
                1,
            )
        } else {
            shortcut
        };
        relu(out + shortcut)
    }
}

/// The recognition net with its weights on `B`.
#[derive(Debug, Clone)]
pub struct FaceRecognitionNet<B: Backend> {
    stem: ConvLayer<B>,
    blocks: Vec<Residual<B>>,
    /// `[256, 128]`.
    fc: Tensor<B, 2>,
    device: B::Device,
}

/// The residual blocks: name, output channels, whether it halves the map.
const BLOCKS: [(&str, usize, bool); 14] = [
    ("conv32_1", 32, false),
    ("conv32_2", 32, false),
    ("conv32_3", 32, false),
    ("conv64_down", 64, true),
    ("conv64_1", 64, false),
    ("conv64_2", 64, false),
    ("conv64_3", 64, false),
    ("conv128_down", 128, true),
    ("conv128_1", 128, false),
    ("conv128_2", 128, false),
    ("conv256_down", 256, true),
    ("conv256_1", 256, false),
    ("conv256_2", 256, false),
    ("conv256_down_out", 256, true),
];

impl<B: KernelBackend> FaceRecognitionNet<B> {
    /// Loads the converted weights (`unmask_weights::Asset::FaceRecognition`).
    pub fn load(path: &Path, device: &B::Device) -> Result<Self> {
        let file = WeightFile::open(path)
            .with_context(|| format!("loading the face recognition net from {}", path.display()))?;
        let stem = ConvLayer::load(&file, "conv32_down", 7, 3, 32, device)?;
        let mut blocks = Vec::new();
        let mut cin = 32;
        for &(name, cout, down) in BLOCKS.iter() {
            blocks.push(Residual {
                conv1: ConvLayer::load(&file, &format!("{name}/conv1"), 3, cin, cout, device)?,
                conv2: ConvLayer::load(&file, &format!("{name}/conv2"), 3, cout, cout, device)?,
                down,
            });
            cin = cout;
        }
        Ok(Self {
            stem,
            blocks,
            fc: file.tensor::<B, 2>("fc", [cin, DESCRIPTOR_LEN], device)?,
            device: device.clone(),
        })
    }

    /// Descriptors `[N, 128]` of prepared faces `[N, 3, 150, 150]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.stem.forward(x, 2, true);
        let mut x = max_pool2d(x, [3, 3], [2, 2]);
        for block in &self.blocks {
            x = block.forward(x);
        }
        let [n, c, h, w] = x.dims();
        let pooled = x.reshape([n, c, h * w]).mean_dim(2).reshape([n, c]);
        pooled.matmul(self.fc.clone())
    }

    /// The descriptor of each of `faces` of `img` (their 68 landmarks, and the detection
    /// boxes the landmarks were found in), cut as face-api cuts them: dlib's axis-aligned
    /// square around the eyes and mouth.
    pub fn descriptors(
        &self,
        img: &RgbImage,
        faces: &[(FaceBox, Landmarks68)],
    ) -> Result<Vec<Descriptor>> {
        let rects = faces
            .iter()
            .map(|(face, landmarks)| dlib_square(landmarks, img, face))
            .collect::<Option<Vec<_>>>()
            .context("a face box lies outside the image")?;
        self.descriptors_of_rects(img, &rects)
    }

    /// The descriptor of each rectangle `[x, y, width, height]` of `img`, clipped to it and
    /// padded to a centred square.
    pub fn descriptors_of_rects(
        &self,
        img: &RgbImage,
        rects: &[[f64; 4]],
    ) -> Result<Vec<Descriptor>> {
        let crops = rects
            .iter()
            .map(|&[x, y, w, h]| Crop::of_rect(img, x, y, w, h).map(|c| (img, c)))
            .collect::<Option<Vec<_>>>()
            .context("a face's recognition crop lies outside the image")?;
        self.of_crops(&crops)
    }

    /// The descriptor of a whole image (e.g. an aligned face crop), padded to a square.
    pub fn descriptor_of_image(&self, img: &RgbImage) -> Result<Descriptor> {
        Ok(self.descriptors_of_images(std::slice::from_ref(img))?[0])
    }

    /// [`Self::descriptor_of_image`] of each of `imgs`, in one batch.
    pub fn descriptors_of_images(&self, imgs: &[RgbImage]) -> Result<Vec<Descriptor>> {
        let crops = imgs
            .iter()
            .map(|img| {
                let whole = Crop::of_rect(img, 0.0, 0.0, img.width() as f64, img.height() as f64);
                whole.map(|c| (img, c))
            })
            .collect::<Option<Vec<_>>>()
            .context("an empty image has no descriptor")?;
        self.of_crops(&crops)
    }

    fn of_crops(&self, crops: &[(&RgbImage, Crop)]) -> Result<Vec<Descriptor>> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let side = RECOGNITION_INPUT;
        let mut planes = Vec::with_capacity(crops.len() * 3 * side * side);
        for (img, c) in crops {
            planes.extend(c.planes(img, side, LANDMARK_MEAN));
        }
        let x = Tensor::<B, 4>::from_data(
            TensorData::new(planes, [crops.len(), 3, side, side]),
            &self.device,
        );
        let out = crate::values(self.forward(x), "descriptor")?;
        Ok(out
            .chunks_exact(DESCRIPTOR_LEN)
            .map(|d| d.try_into().expect("chunks of DESCRIPTOR_LEN"))
            .collect())
    }
}

/// face-api's `alignDlib`: a square of side `floor(mean eye-to-mouth distance / 0.45)`
/// placed at 0.5 across and 0.43 down around the mean of the eye and mouth centres, its
/// corner clamped at 0 and floored; width and height are capped by the landmark crop's size
/// plus the corner (face-api keeps that crop's dimensions with the landmarks).
/// `[x, y, width, height]`; `None` without a crop.
pub fn dlib_square(landmarks: &Landmarks68, img: &RgbImage, face: &FaceBox) -> Option<[f64; 4]> {
    let crop = Crop::of(img, face)?;
    let centre = |range: std::ops::Range<usize>| {
        let n = range.len() as f64;
        let (sx, sy) = landmarks[range]
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
        [sx / n, sy / n]
    };
    let (left, right, mouth) = (centre(36..42), centre(42..48), centre(48..68));
    let to_mouth = |p: [f64; 2]| (mouth[0] - p[0]).hypot(mouth[1] - p[1]);
    let size = ((to_mouth(left) + to_mouth(right)) / 2.0 / 0.45).floor();
    let reference = [
        (left[0] + right[0] + mouth[0]) / 3.0,
        (left[1] + right[1] + mouth[1]) / 3.0,
    ];
    let x = (reference[0] - 0.5 * size).max(0.0).floor();
    let y = (reference[1] - 0.43 * size).max(0.0).floor();
    Some([
        x,
        y,
        size.min(crop.w as f64 + x),
        size.min(crop.h as f64 + y),
    ])
}

/// The cosine of the angle between two descriptors (1 for the same direction): the
/// identity-similarity metric.
pub fn cosine_similarity(a: &Descriptor, b: &Descriptor) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let norm = |v: &Descriptor| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b)).max(1e-12)
}

/// The euclidean distance face-api compares descriptors by.
pub fn distance(a: &Descriptor, b: &Descriptor) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_and_distance_of_simple_descriptors() {
        let mut a = [0.0; DESCRIPTOR_LEN];
        let mut b = [0.0; DESCRIPTOR_LEN];
        a[0] = 1.0;
        b[0] = 2.0;
        assert!((cosine_similarity(&a, &b) - 1.0).abs() < 1e-12);
        assert!((distance(&a, &b) - 1.0).abs() < 1e-12);
        b[0] = 0.0;
        b[1] = 3.0;
        assert!(cosine_similarity(&a, &b).abs() < 1e-12);
        assert!((distance(&a, &b) - 10f64.sqrt()).abs() < 1e-12);
    }
}
