//! burn's own ops, which the trait's default methods and Flex's reference mode call.

use burn::tensor::ops::{FloatTensor, InterpolateMode, InterpolateOptions, PadMode};
use burn::tensor::{backend::Backend, Tensor, TensorMetadata, TensorPrimitive};

use crate::Pool;

pub fn avg_pool2d<B: Backend>(x: FloatTensor<B>, pool: Pool) -> FloatTensor<B> {
    B::avg_pool2d(
        x,
        pool.kernel,
        pool.stride,
        pool.padding,
        pool.count_include_pad,
        false,
    )
}

pub fn avg_pool2d_grad<B: Backend>(
    x: FloatTensor<B>,
    grad: FloatTensor<B>,
    pool: Pool,
) -> FloatTensor<B> {
    let Pool {
        kernel,
        stride,
        padding,
        count_include_pad,
    } = pool;
    B::avg_pool2d_backward(x, grad, kernel, stride, padding, count_include_pad, false)
}

pub fn max_pool2d<B: Backend>(x: FloatTensor<B>, pool: Pool) -> FloatTensor<B> {
    B::max_pool2d(x, pool.kernel, pool.stride, pool.padding, [1, 1], false)
}

pub fn max_pool2d_grad<B: Backend>(
    x: FloatTensor<B>,
    grad: FloatTensor<B>,
    pool: Pool,
) -> FloatTensor<B> {
    let indices = B::max_pool2d_with_indices(
        x.clone(),
        pool.kernel,
        pool.stride,
        pool.padding,
        [1, 1],
        false,
    )
    .indices;
    B::max_pool2d_with_indices_backward(
        x,
        pool.kernel,
        pool.stride,
        pool.padding,
        [1, 1],
        false,
        grad,
        indices,
    )
    .x_grad
}

fn doubled(x: &impl TensorMetadata) -> [usize; 2] {
    let [_, _, h, w] = x.shape().dims::<4>();
    [2 * h, 2 * w]
}

pub fn upsample2x<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let size = doubled(&x);
    B::interpolate(x, size, InterpolateOptions::new(InterpolateMode::Nearest))
}

pub fn upsample2x_grad<B: Backend>(x: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
    let size = doubled(&x);
    B::interpolate_backward(
        x,
        grad,
        size,
        InterpolateOptions::new(InterpolateMode::Nearest),
    )
}

pub fn pad_zeros<B: Backend>(x: FloatTensor<B>, padding: [(usize, usize); 2]) -> FloatTensor<B> {
    let x = Tensor::<B, 4>::from_primitive(TensorPrimitive::Float(x));
    x.pad(padding, PadMode::Constant(0.0))
        .into_primitive()
        .tensor()
}
