//! The convolution-family ops every model here runs, behind burn's backend-extension pattern
//! (the burn book's "custom kernel" chapter):
//!
//! - [`KernelBackend`], a trait on burn's `Backend` whose default methods call burn's own ops,
//!   so burn-cuda and burn-ndarray run burn's kernels unchanged;
//! - its implementation for burn-flex (`flex.rs`), with our CPU kernels (`cpu/`): burn-flex
//!   0.21 runs these ops' gradients largely on one thread;
//! - its implementation for `Autodiff<B>` (`autodiff.rs`), which records a custom backward
//!   step that calls `B`'s gradient methods, i.e. our kernels on Flex.
//!
//! Models call the ops through the functions in [`nn`], which take burn's own modules
//! (`Conv2d`, `ConvTranspose2d`), so records keep their parameter names and shapes.
//!
//! `UNMASK_KERNELS=burn` (or [`with_burn_ops`] on one thread) makes Flex run burn's own ops
//! instead: the reference of the tests and benchmarks.

mod autodiff;
pub mod cpu;
mod flex;
pub mod nn;
pub mod pool;
mod reference;
mod weights;

use std::cell::Cell;
use std::sync::OnceLock;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions, FloatTensor};

pub use nn::{
    avg_pool2d, conv2d, conv2d_clamped_with, conv2d_with, conv_transpose2d, max_pool2d, pad_zeros,
    upsample_nearest2x,
};
pub use weights::{WeightFile, WeightFileError};

/// The ops our kernels cover. Each default method is burn's own op.
///
/// Shapes: `x [batch, channels_in, height, width]`; conv weights `[out, in / groups, kh, kw]`;
/// transposed-conv weights `[in, out / groups, kh, kw]`; biases `[out]`.
pub trait KernelBackend: Backend {
    fn conv2d_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, bias, options)
    }
    /// `conv2d_op` with its output clamped to `range` (`[min, max]`: ReLU6 is `[0, 6]`, ReLU
    /// `[0, f32::INFINITY]`). Flex clamps inside the convolution's output blocks.
    fn conv2d_clamped_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
        range: [f32; 2],
    ) -> FloatTensor<Self> {
        let y = Self::conv2d_op(x, weight, bias, options);
        Self::float_clamp(y, range[0].into(), range[1].into())
    }
    fn conv2d_x_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d_x_backward(x, weight, grad, options)
    }
    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(x, weight, grad, options)
    }
    fn conv2d_bias_grad(
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::conv2d_bias_backward(x, bias, grad)
    }

    fn conv_transpose2d_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv_transpose2d(x, weight, bias, options)
    }
    fn conv_transpose2d_x_grad(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv_transpose2d_x_backward(weight, grad, options)
    }
    fn conv_transpose2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv_transpose2d_weight_backward(x, weight, grad, options)
    }
    fn conv_transpose2d_bias_grad(
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::conv_transpose2d_bias_backward(x, bias, grad)
    }

    /// Average pooling (padding counts as zeros), `ceil_mode` off.
    fn avg_pool2d_op(x: FloatTensor<Self>, pool: Pool) -> FloatTensor<Self> {
        reference::avg_pool2d::<Self>(x, pool)
    }
    fn avg_pool2d_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        pool: Pool,
    ) -> FloatTensor<Self> {
        reference::avg_pool2d_grad::<Self>(x, grad, pool)
    }

    /// Max pooling without dilation, `ceil_mode` off (the models use no padding).
    fn max_pool2d_op(x: FloatTensor<Self>, pool: Pool) -> FloatTensor<Self> {
        reference::max_pool2d::<Self>(x, pool)
    }
    fn max_pool2d_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        pool: Pool,
    ) -> FloatTensor<Self> {
        reference::max_pool2d_grad::<Self>(x, grad, pool)
    }

    /// `x` with `[(top, bottom), (left, right)]` rows and columns of zeros around it: the
    /// asymmetric padding (TensorFlow's "same" at stride 2) that `ConvOptions` cannot express.
    fn pad_zeros_op(x: FloatTensor<Self>, padding: [(usize, usize); 2]) -> FloatTensor<Self> {
        reference::pad_zeros::<Self>(x, padding)
    }

    /// Nearest-neighbour upsampling by 2 in both directions.
    fn upsample2x_op(x: FloatTensor<Self>) -> FloatTensor<Self> {
        reference::upsample2x::<Self>(x)
    }
    fn upsample2x_grad(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        reference::upsample2x_grad::<Self>(x, grad)
    }
}

/// A pooling window. Padding counts toward average pooling's divisor when `count_include_pad`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub count_include_pad: bool,
}

/// A backend to train on: autodiff over a backend with our kernels, both implementing them.
pub trait TrainingBackend: AutodiffBackend<InnerBackend: KernelBackend> + KernelBackend {}
impl<B: AutodiffBackend<InnerBackend: KernelBackend> + KernelBackend> TrainingBackend for B {}

/// burn-cuda runs burn's own kernels (the default methods).
#[cfg(feature = "cuda")]
impl KernelBackend for burn::backend::Cuda {}

/// The tests' second CPU backend: the default methods, as on CUDA.
#[cfg(test)]
impl KernelBackend for burn_ndarray::NdArray {}

thread_local! {
    static BURN_OPS_HERE: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Runs `f` with Flex on burn's own ops on this thread (the reference for tests and benches).
pub fn with_burn_ops<R>(f: impl FnOnce() -> R) -> R {
    let before = BURN_OPS_HERE.with(|c| c.replace(Some(true)));
    struct Restore(Option<bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BURN_OPS_HERE.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(before);
    f()
}

/// Whether Flex runs burn's own ops here: [`with_burn_ops`], else `UNMASK_KERNELS=burn`.
pub fn burn_ops() -> bool {
    static FROM_ENV: OnceLock<bool> = OnceLock::new();
    BURN_OPS_HERE.with(|c| c.get()).unwrap_or_else(|| {
        *FROM_ENV.get_or_init(|| std::env::var("UNMASK_KERNELS").is_ok_and(|v| v == "burn"))
    })
}

#[cfg(test)]
mod tests;
