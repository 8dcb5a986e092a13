//! The ops at burn's `Tensor` level, and burn's own `Conv2d` / `ConvTranspose2d` modules run
//! through them: what model code calls. A module configuration our kernels cannot express
//! (asymmetric padding) runs the module's own `forward`.

use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::PaddingConfig2d;
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Tensor, TensorPrimitive};

use crate::{KernelBackend, Pool};

fn float<B: KernelBackend, const D: usize>(t: Tensor<B, D>) -> burn::tensor::ops::FloatTensor<B> {
    t.into_primitive().tensor()
}

fn wrap<B: KernelBackend, const D: usize>(t: burn::tensor::ops::FloatTensor<B>) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}

/// `conv2d` of `x [N, C_in, H, W]` with `weight [C_out, C_in / groups, kh, kw]` and
/// `bias [C_out]`: `[N, C_out, H', W']`.
pub fn conv2d_with<B: KernelBackend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    options: ConvOptions<2>,
) -> Tensor<B, 4> {
    wrap(B::conv2d_op(
        float(x),
        float(weight),
        bias.map(float),
        options,
    ))
}

/// [`conv2d_with`] followed by a clamp to `range` (`[min, max]`), fused on Flex: ReLU6 after
/// a convolution is `range = [0.0, 6.0]`.
pub fn conv2d_clamped_with<B: KernelBackend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    options: ConvOptions<2>,
    range: [f32; 2],
) -> Tensor<B, 4> {
    wrap(B::conv2d_clamped_op(
        float(x),
        float(weight),
        bias.map(float),
        options,
        range,
    ))
}

/// `x [N, C, H, W]` with `[(top, bottom), (left, right)]` rows and columns of zeros around
/// it: `[N, C, H + top + bottom, W + left + right]`.
pub fn pad_zeros<B: KernelBackend>(x: Tensor<B, 4>, padding: [(usize, usize); 2]) -> Tensor<B, 4> {
    wrap(B::pad_zeros_op(float(x), padding))
}

/// The symmetric padding `[top = bottom, left = right]` of a `Conv2d` on an `h x w` input.
fn symmetric_padding(
    padding: &PaddingConfig2d,
    h: usize,
    w: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Option<[usize; 2]> {
    let same = |k: usize, s: usize, size: usize| {
        let out = size.div_ceil(s);
        let total = ((out.max(1) - 1) * s + k).saturating_sub(size);
        (total / 2, total - total / 2)
    };
    let ((top, bottom), (left, right)) = match padding {
        PaddingConfig2d::Valid => ((0, 0), (0, 0)),
        PaddingConfig2d::Same => (same(kernel[0], stride[0], h), same(kernel[1], stride[1], w)),
        PaddingConfig2d::Explicit(top, left, bottom, right) => ((*top, *bottom), (*left, *right)),
    };
    (top == bottom && left == right).then_some([top, left])
}

/// `conv.forward(x)` on our ops: `x [N, C_in, H, W]` to `[N, C_out, H', W']`.
pub fn conv2d<B: KernelBackend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [_, _, h, w] = x.dims();
    let Some(padding) = symmetric_padding(&conv.padding, h, w, conv.kernel_size, conv.stride)
    else {
        return conv.forward(x);
    };
    let options = ConvOptions::new(conv.stride, padding, conv.dilation, conv.groups);
    conv2d_with(
        x,
        conv.weight.val(),
        conv.bias.as_ref().map(|b| b.val()),
        options,
    )
}

/// `conv.forward(x)` on our ops: `x [N, C_in, H, W]` to `[N, C_out, H', W']`.
pub fn conv_transpose2d<B: KernelBackend>(
    conv: &ConvTranspose2d<B>,
    x: Tensor<B, 4>,
) -> Tensor<B, 4> {
    let options = ConvTransposeOptions::new(
        conv.stride,
        conv.padding,
        conv.padding_out,
        conv.dilation,
        conv.groups,
    );
    let bias = conv.bias.as_ref().map(|b| float(b.val()));
    wrap(B::conv_transpose2d_op(
        float(x),
        float(conv.weight.val()),
        bias,
        options,
    ))
}

/// Average pooling of `[N, C, H, W]` with zero padding.
pub fn avg_pool2d<B: KernelBackend>(
    x: Tensor<B, 4>,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    count_include_pad: bool,
) -> Tensor<B, 4> {
    let pool = Pool {
        kernel,
        stride,
        padding,
        count_include_pad,
    };
    wrap(B::avg_pool2d_op(float(x), pool))
}

/// Max pooling of `[N, C, H, W]`, no padding.
pub fn max_pool2d<B: KernelBackend>(
    x: Tensor<B, 4>,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Tensor<B, 4> {
    let pool = Pool {
        kernel,
        stride,
        padding: [0, 0],
        count_include_pad: false,
    };
    wrap(B::max_pool2d_op(float(x), pool))
}

/// `[N, C, H, W]` to `[N, C, 2H, 2W]`, nearest neighbour.
pub fn upsample_nearest2x<B: KernelBackend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    wrap(B::upsample2x_op(float(x)))
}
