//! [`KernelBackend`] for burn-flex: our kernels (`cpu/`) on its `f32` tensors, burn's own ops
//! for every other case (other dtypes, grouped convolutions other than depthwise, transposed
//! convolutions whose kernel is not their stride, padded max pooling) and in reference mode.
//! Each op decides from shapes and dtypes first and copies a strided input to a contiguous
//! one only when our kernel reads it.

use burn::backend::Flex;
use burn::tensor::ops::{
    ConvOptions, ConvTransposeOptions, FloatTensor, FloatTensorOps, ModuleOps,
};
use burn::tensor::{DType, TensorData, TensorMetadata};
use burn_flex::FlexTensor;

use crate::cpu::{conv, conv::ConvGeometry, depthwise, pool, transpose};
use crate::{burn_ops, reference, KernelBackend, Pool};

/// Whether our kernels may serve an op on these tensors: all `f32`, and not in reference
/// mode. (Checking a tensor copies nothing.)
fn ours(tensors: &[&FlexTensor]) -> bool {
    !burn_ops() && tensors.iter().all(|t| t.dtype() == DType::F32)
}

fn dims(t: &FlexTensor) -> Vec<usize> {
    t.shape().as_slice().to_vec()
}

/// `t`'s values in row-major order (copied only if `t` is strided).
fn contiguous(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("contiguous f32 tensor")
}

fn tensor(data: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}

fn dims4(d: &[usize]) -> [usize; 4] {
    [d[0], d[1], d[2], d[3]]
}

/// Which of our kernels serves a convolution, if any.
enum ConvKernel {
    Dense(ConvGeometry),
    Depthwise(ConvGeometry),
}

fn conv_kernel(x: &[usize], weight: &[usize], options: &ConvOptions<2>) -> Option<ConvKernel> {
    if x.len() != 4 || weight.len() != 4 {
        return None;
    }
    let g = ConvGeometry::new(
        dims4(x),
        dims4(weight),
        options.stride,
        options.padding,
        options.dilation,
    );
    if options.groups == 1 && weight[1] == x[1] {
        Some(ConvKernel::Dense(g))
    } else if options.groups == x[1] && weight[0] == x[1] && weight[1] == 1 {
        Some(ConvKernel::Depthwise(g))
    } else {
        None
    }
}

/// The transposed convolutions our kernel serves: kernel = stride, nothing else.
fn blocks(x: &[usize], weight: &[usize], o: &ConvTransposeOptions<2>) -> Option<transpose::Blocks> {
    let k = weight[2];
    let plain = o.groups == 1
        && weight[3] == k
        && o.stride == [k, k]
        && o.padding == [0, 0]
        && o.padding_out == [0, 0]
        && o.dilation == [1, 1]
        && weight[0] == x[1];
    plain.then(|| transpose::Blocks {
        batch: x[0],
        cin: x[1],
        cout: weight[1],
        h: x[2],
        w: x[3],
        k,
    })
}

fn window(x: &[usize], p: &Pool) -> pool::Window {
    pool::Window {
        h: x[2],
        w: x[3],
        kernel: p.kernel,
        stride: p.stride,
        padding: p.padding,
    }
}

impl KernelBackend for Flex {
    fn conv2d_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        conv2d_clamped(x, weight, bias, options, None)
    }

    fn conv2d_clamped_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
        range: [f32; 2],
    ) -> FloatTensor<Self> {
        conv2d_clamped(x, weight, bias, options, Some(range))
    }

    fn conv2d_x_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let kernel = ours(&[&x, &weight, &grad])
            .then(|| conv_kernel(&dims(&x), &dims(&weight), &options))
            .flatten();
        let Some(kernel) = kernel else {
            return Self::conv2d_x_backward(x, weight, grad, options);
        };
        let (w, dy) = (contiguous(&weight), contiguous(&grad));
        let data = match kernel {
            ConvKernel::Dense(g) => conv::input_grad(&g, slice(&w), slice(&dy)),
            ConvKernel::Depthwise(g) => depthwise::input_grad(&g, slice(&w), slice(&dy)),
        };
        tensor(data, dims(&x))
    }

    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let kernel = ours(&[&x, &weight, &grad])
            .then(|| conv_kernel(&dims(&x), &dims(&weight), &options))
            .flatten();
        let Some(kernel) = kernel else {
            return Self::conv2d_weight_backward(x, weight, grad, options);
        };
        let (xs, dy) = (contiguous(&x), contiguous(&grad));
        let data = match kernel {
            ConvKernel::Dense(g) => conv::weight_grad(&g, slice(&xs), slice(&dy)),
            ConvKernel::Depthwise(g) => depthwise::weight_grad(&g, slice(&xs), slice(&dy)),
        };
        tensor(data, dims(&weight))
    }

    fn conv2d_bias_grad(
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let d = dims(&grad);
        if !ours(&[&grad]) || d.len() != 4 {
            return Self::conv2d_bias_backward(x, bias, grad);
        }
        let dy = contiguous(&grad);
        tensor(
            conv::bias_grad(d[0], d[1], d[2] * d[3], slice(&dy)),
            vec![d[1]],
        )
    }

    fn conv_transpose2d_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        let s = ours(&[&x, &weight])
            .then(|| blocks(&dims(&x), &dims(&weight), &options))
            .flatten();
        let Some(s) = s else {
            return Self::conv_transpose2d(x, weight, bias, options);
        };
        let (x, weight) = (contiguous(&x), contiguous(&weight));
        let bias = bias.map(|b| contiguous(&b));
        let data = transpose::forward(&s, slice(&x), slice(&weight), bias.as_ref().map(slice));
        tensor(data, vec![s.batch, s.cout, s.h * s.k, s.w * s.k])
    }

    fn conv_transpose2d_x_grad(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        let (wd, gd) = (dims(&weight), dims(&grad));
        let k = wd[2].max(1);
        let xd = [gd[0], wd[0], gd[2] / k, gd[3] / k];
        let s = ours(&[&weight, &grad])
            .then(|| blocks(&xd, &wd, &options))
            .flatten()
            .filter(|s| s.h * k == gd[2] && s.w * k == gd[3]);
        let Some(s) = s else {
            return Self::conv_transpose2d_x_backward(weight, grad, options);
        };
        let (w, dy) = (contiguous(&weight), contiguous(&grad));
        tensor(
            transpose::input_grad(&s, slice(&w), slice(&dy)),
            xd.to_vec(),
        )
    }

    fn conv_transpose2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        let s = ours(&[&x, &weight, &grad])
            .then(|| blocks(&dims(&x), &dims(&weight), &options))
            .flatten();
        let Some(s) = s else {
            return Self::conv_transpose2d_weight_backward(x, weight, grad, options);
        };
        let (xs, dy) = (contiguous(&x), contiguous(&grad));
        tensor(
            transpose::weight_grad(&s, slice(&xs), slice(&dy)),
            dims(&weight),
        )
    }

    fn conv_transpose2d_bias_grad(
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::conv2d_bias_grad(x, bias, grad)
    }

    fn avg_pool2d_op(x: FloatTensor<Self>, p: Pool) -> FloatTensor<Self> {
        if !ours(&[&x]) {
            return reference::avg_pool2d::<Self>(x, p);
        }
        let (xd, xs) = (dims(&x), contiguous(&x));
        let win = window(&xd, &p);
        let (oh, ow) = win.out();
        let data = pool::avg_forward(&win, xd[0] * xd[1], slice(&xs), p.count_include_pad);
        tensor(data, vec![xd[0], xd[1], oh, ow])
    }

    fn avg_pool2d_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        p: Pool,
    ) -> FloatTensor<Self> {
        if !ours(&[&x, &grad]) {
            return reference::avg_pool2d_grad::<Self>(x, grad, p);
        }
        let (xd, dy) = (dims(&x), contiguous(&grad));
        let win = window(&xd, &p);
        let data = pool::avg_backward(&win, xd[0] * xd[1], slice(&dy), p.count_include_pad);
        tensor(data, xd)
    }

    fn max_pool2d_op(x: FloatTensor<Self>, p: Pool) -> FloatTensor<Self> {
        if !ours(&[&x]) || p.padding != [0, 0] {
            return reference::max_pool2d::<Self>(x, p);
        }
        let (xd, xs) = (dims(&x), contiguous(&x));
        let win = window(&xd, &p);
        let (oh, ow) = win.out();
        let data = pool::max_forward(&win, xd[0] * xd[1], slice(&xs));
        tensor(data, vec![xd[0], xd[1], oh, ow])
    }

    fn max_pool2d_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        p: Pool,
    ) -> FloatTensor<Self> {
        if !ours(&[&x, &grad]) || p.padding != [0, 0] {
            return reference::max_pool2d_grad::<Self>(x, grad, p);
        }
        let (xd, xs, dy) = (dims(&x), contiguous(&x), contiguous(&grad));
        let win = window(&xd, &p);
        let data = pool::max_backward(&win, xd[0] * xd[1], slice(&xs), slice(&dy));
        tensor(data, xd)
    }

    fn upsample2x_op(x: FloatTensor<Self>) -> FloatTensor<Self> {
        if !ours(&[&x]) {
            return reference::upsample2x::<Self>(x);
        }
        let (d, xs) = (dims(&x), contiguous(&x));
        let data = pool::upsample2x(d[0] * d[1], d[2], d[3], slice(&xs));
        tensor(data, vec![d[0], d[1], 2 * d[2], 2 * d[3]])
    }

    fn pad_zeros_op(x: FloatTensor<Self>, padding: [(usize, usize); 2]) -> FloatTensor<Self> {
        let d = dims(&x);
        if !ours(&[&x]) || d.len() != 4 {
            return reference::pad_zeros::<Self>(x, padding);
        }
        let xs = contiguous(&x);
        let [(top, bottom), (left, right)] = padding;
        tensor(
            pool::pad_zeros(d[0] * d[1], d[2], d[3], padding, slice(&xs)),
            vec![d[0], d[1], d[2] + top + bottom, d[3] + left + right],
        )
    }

    fn upsample2x_grad(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        if !ours(&[&x, &grad]) {
            return reference::upsample2x_grad::<Self>(x, grad);
        }
        let (d, dy) = (dims(&x), contiguous(&grad));
        tensor(
            pool::upsample2x_backward(d[0] * d[1], d[2], d[3], slice(&dy)),
            d,
        )
    }
}

/// A convolution on our kernels where they serve it, else on burn-flex's, its output clamped
/// to `range` if given: inside the dense kernel's blocks, else in one parallel pass (burn-flex's
/// `clamp` runs on one thread).
fn conv2d_clamped(
    x: FlexTensor,
    weight: FlexTensor,
    bias: Option<FlexTensor>,
    options: ConvOptions<2>,
    range: Option<[f32; 2]>,
) -> FlexTensor {
    let kernel = ours(&[&x, &weight])
        .then(|| conv_kernel(&dims(&x), &dims(&weight), &options))
        .flatten();
    let (g, depthwise) = match kernel {
        Some(ConvKernel::Dense(g)) => (g, false),
        // burn-flex's depthwise forward (a direct SIMD loop) wins on small or strided
        // kernels (MobileNet's 3x3); ours on the imputation's 5x5 (1.4x in the benches).
        Some(ConvKernel::Depthwise(g)) if g.stride == [1, 1] && g.kh * g.kw > 9 => (g, true),
        _ => {
            let y = Flex::conv2d(x, weight, bias, options);
            return match range {
                Some(range) => clamp(y, range),
                None => y,
            };
        }
    };
    let (x, weight) = (contiguous(&x), contiguous(&weight));
    let bias = bias.map(|b| contiguous(&b));
    let (x, weight, bias) = (slice(&x), slice(&weight), bias.as_ref().map(slice));
    let data = if depthwise {
        let mut y = depthwise::forward(&g, x, weight, bias);
        if let Some(range) = range {
            conv::clamp_parallel(&mut y, range);
        }
        y
    } else {
        conv::forward_clamped(&g, x, weight, bias, range)
    };
    tensor(data, vec![g.batch, g.cout, g.oh, g.ow])
}

/// `y` clamped to `range`, in place and in parallel when `y` owns its contiguous buffer.
fn clamp(mut y: FlexTensor, range: [f32; 2]) -> FlexTensor {
    if ours(&[&y]) && y.is_contiguous() && y.layout().start_offset() == 0 {
        let n = y.layout().num_elements();
        if let Some(values) = y.try_storage_mut::<f32>() {
            conv::clamp_parallel(&mut values[..n], range);
            return y;
        }
    }
    Flex::float_clamp(y, range[0].into(), range[1].into())
}
