//! [`KernelBackend`] for burn-flex: our kernels (`cpu/`) on its `f32` tensors, burn's own ops
//! for every other case (other dtypes, grouped convolutions other than depthwise, transposed
//! convolutions whose kernel is not their stride) and in reference mode.

use burn::backend::Flex;
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions, FloatTensor, ModuleOps};
use burn::tensor::{DType, TensorData, TensorMetadata};
use burn_flex::FlexTensor;

use crate::cpu::{conv, conv::ConvGeometry, depthwise, pool, transpose};
use crate::{burn_ops, reference, KernelBackend, Pool};

/// A contiguous `f32` view of `t` with its dims, or `None` for other dtypes.
fn values(t: &FlexTensor) -> Option<(FlexTensor, Vec<usize>)> {
    (t.dtype() == DType::F32).then(|| (t.to_contiguous(), t.shape().as_slice().to_vec()))
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
    if burn_ops() || x.len() != 4 || weight.len() != 4 {
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
    (!burn_ops() && plain).then(|| transpose::Blocks {
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
        let (Some((xc, xd)), Some((wc, wd))) = (values(&x), values(&weight)) else {
            return reference::conv2d::<Self>(x, weight, bias, options);
        };
        let Some(kernel) = conv_kernel(&xd, &wd, &options) else {
            return reference::conv2d::<Self>(x, weight, bias, options);
        };
        let bias = bias.map(|b| b.to_contiguous());
        let b = bias.as_ref().map(slice);
        let (data, g) = match kernel {
            ConvKernel::Dense(g) => (conv::forward(&g, slice(&xc), slice(&wc), b), g),
            // burn-flex's depthwise forward (a direct SIMD loop) wins on small or strided
            // kernels (MobileNet's 3x3); ours on the imputation's 5x5 (1.4x in the benches).
            ConvKernel::Depthwise(g) if g.stride != [1, 1] || g.kh * g.kw <= 9 => {
                return reference::conv2d::<Self>(x, weight, bias, options)
            }
            ConvKernel::Depthwise(g) => (depthwise::forward(&g, slice(&xc), slice(&wc), b), g),
        };
        tensor(data, vec![g.batch, g.cout, g.oh, g.ow])
    }

    fn conv2d_x_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let (Some((_, xd)), Some((wc, wd)), Some((gc, _))) =
            (values(&x), values(&weight), values(&grad))
        else {
            return Self::conv2d_x_backward(x, weight, grad, options);
        };
        match conv_kernel(&xd, &wd, &options) {
            Some(ConvKernel::Dense(g)) => tensor(conv::input_grad(&g, slice(&wc), slice(&gc)), xd),
            Some(ConvKernel::Depthwise(g)) => {
                tensor(depthwise::input_grad(&g, slice(&wc), slice(&gc)), xd)
            }
            None => Self::conv2d_x_backward(x, weight, grad, options),
        }
    }

    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let (Some((xc, xd)), Some((_, wd)), Some((gc, _))) =
            (values(&x), values(&weight), values(&grad))
        else {
            return Self::conv2d_weight_backward(x, weight, grad, options);
        };
        match conv_kernel(&xd, &wd, &options) {
            Some(ConvKernel::Dense(g)) => tensor(conv::weight_grad(&g, slice(&xc), slice(&gc)), wd),
            Some(ConvKernel::Depthwise(g)) => {
                tensor(depthwise::weight_grad(&g, slice(&xc), slice(&gc)), wd)
            }
            None => Self::conv2d_weight_backward(x, weight, grad, options),
        }
    }

    fn conv2d_bias_grad(
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        match values(&grad) {
            Some((gc, gd)) if !burn_ops() && gd.len() == 4 => tensor(
                conv::bias_grad(gd[0], gd[1], gd[2] * gd[3], slice(&gc)),
                vec![gd[1]],
            ),
            _ => Self::conv2d_bias_backward(x, bias, grad),
        }
    }

    fn conv_transpose2d_op(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        let (Some((xc, xd)), Some((wc, wd))) = (values(&x), values(&weight)) else {
            return Self::conv_transpose2d(x, weight, bias, options);
        };
        let Some(s) = blocks(&xd, &wd, &options) else {
            return Self::conv_transpose2d(x, weight, bias, options);
        };
        let bias = bias.map(|b| b.to_contiguous());
        let data = transpose::forward(&s, slice(&xc), slice(&wc), bias.as_ref().map(slice));
        tensor(data, vec![s.batch, s.cout, s.h * s.k, s.w * s.k])
    }

    fn conv_transpose2d_x_grad(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        let (Some((wc, wd)), Some((gc, gd))) = (values(&weight), values(&grad)) else {
            return Self::conv_transpose2d_x_backward(weight, grad, options);
        };
        let k = wd[2].max(1);
        let xd = [gd[0], wd[0], gd[2] / k, gd[3] / k];
        match blocks(&xd, &wd, &options).filter(|s| s.h * k == gd[2] && s.w * k == gd[3]) {
            Some(s) => tensor(
                transpose::input_grad(&s, slice(&wc), slice(&gc)),
                xd.to_vec(),
            ),
            None => Self::conv_transpose2d_x_backward(weight, grad, options),
        }
    }

    fn conv_transpose2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        let (Some((xc, xd)), Some((_, wd)), Some((gc, _))) =
            (values(&x), values(&weight), values(&grad))
        else {
            return Self::conv_transpose2d_weight_backward(x, weight, grad, options);
        };
        match blocks(&xd, &wd, &options) {
            Some(s) => tensor(transpose::weight_grad(&s, slice(&xc), slice(&gc)), wd),
            None => Self::conv_transpose2d_weight_backward(x, weight, grad, options),
        }
    }

    fn conv_transpose2d_bias_grad(
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::conv2d_bias_grad(x, bias, grad)
    }

    fn avg_pool2d_op(x: FloatTensor<Self>, p: Pool) -> FloatTensor<Self> {
        match values(&x) {
            Some((xc, xd)) if !burn_ops() => {
                let win = window(&xd, &p);
                let (oh, ow) = win.out();
                let data = pool::avg_forward(&win, xd[0] * xd[1], slice(&xc), p.count_include_pad);
                tensor(data, vec![xd[0], xd[1], oh, ow])
            }
            _ => Self::avg_pool2d(x, p.kernel, p.stride, p.padding, p.count_include_pad, false),
        }
    }

    fn avg_pool2d_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        p: Pool,
    ) -> FloatTensor<Self> {
        match (values(&x), values(&grad)) {
            (Some((_, xd)), Some((gc, _))) if !burn_ops() => {
                let win = window(&xd, &p);
                let data = pool::avg_backward(&win, xd[0] * xd[1], slice(&gc), p.count_include_pad);
                tensor(data, xd)
            }
            _ => Self::avg_pool2d_backward(
                x,
                grad,
                p.kernel,
                p.stride,
                p.padding,
                p.count_include_pad,
                false,
            ),
        }
    }

    fn max_pool2d_op(x: FloatTensor<Self>, p: Pool) -> FloatTensor<Self> {
        match values(&x) {
            Some((xc, xd)) if !burn_ops() && p.padding == [0, 0] => {
                let win = window(&xd, &p);
                let (oh, ow) = win.out();
                tensor(
                    pool::max_forward(&win, xd[0] * xd[1], slice(&xc)),
                    vec![xd[0], xd[1], oh, ow],
                )
            }
            _ => Self::max_pool2d(x, p.kernel, p.stride, [0, 0], [1, 1], false),
        }
    }

    fn max_pool2d_grad(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        p: Pool,
    ) -> FloatTensor<Self> {
        match (values(&x), values(&grad)) {
            (Some((xc, xd)), Some((gc, _))) if !burn_ops() && p.padding == [0, 0] => {
                let win = window(&xd, &p);
                tensor(
                    pool::max_backward(&win, xd[0] * xd[1], slice(&xc), slice(&gc)),
                    xd,
                )
            }
            _ => reference::max_pool2d_grad::<Self>(x, grad, p),
        }
    }

    fn upsample2x_op(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match values(&x) {
            Some((xc, d)) if !burn_ops() => tensor(
                pool::upsample2x(d[0] * d[1], d[2], d[3], slice(&xc)),
                vec![d[0], d[1], 2 * d[2], 2 * d[3]],
            ),
            _ => reference::upsample2x::<Self>(x),
        }
    }

    fn upsample2x_grad(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        match (values(&x), values(&grad)) {
            (Some((_, d)), Some((gc, _))) if !burn_ops() => tensor(
                pool::upsample2x_backward(d[0] * d[1], d[2], d[3], slice(&gc)),
                d,
            ),
            _ => reference::upsample2x_grad::<Self>(x, grad),
        }
    }
}
