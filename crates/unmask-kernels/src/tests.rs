//! Every op's forward and both gradients against burn's own ops on Flex (relative error
//! 1e-4), the default methods on a second CPU backend (burn-ndarray, which runs the code
//! burn-cuda runs) against Flex, and thread-count independence.

use burn::backend::{Autodiff, Flex};
use burn::tensor::backend::Backend;
use burn::tensor::module;
use burn::tensor::ops::{
    ConvOptions, ConvTransposeOptions, InterpolateMode, InterpolateOptions, PadMode,
};
use burn::tensor::{Distribution, Tensor, TensorData};
use burn_ndarray::NdArray;

use crate::{nn, KernelBackend};

type A = Autodiff<Flex>;
type N = Autodiff<NdArray>;

fn random<B: Backend, const D: usize>(shape: [usize; D], seed: u64) -> Tensor<B, D> {
    // Values from a fixed generator so both backends see the same numbers.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

fn values<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Vec<f32> {
    t.to_data().convert::<f32>().to_vec().unwrap()
}

/// Max |a - b| over max |b|.
fn rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths");
    let scale = b.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    let diff = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    diff / scale
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    let err = rel_err(got, want);
    assert!(err < 1e-4, "{what}: relative error {err}");
}

/// Output, input gradient, weight gradient and bias gradient of `op` under a random linear
/// loss.
fn conv_outputs<B: KernelBackend + burn::tensor::backend::AutodiffBackend>(
    x: [usize; 4],
    w: [usize; 4],
    bias: bool,
    op: impl Fn(Tensor<B, 4>, Tensor<B, 4>, Option<Tensor<B, 1>>) -> Tensor<B, 4>,
) -> Vec<Vec<f32>> {
    let xt = random::<B, 4>(x, 1).require_grad();
    let wt = random::<B, 4>(w, 2).require_grad();
    let bt = bias.then(|| random::<B, 1>([w[0].max(w[1])], 3).require_grad());
    let y = op(xt.clone(), wt.clone(), bt.clone());
    let r = random::<B, 4>(y.dims(), 4);
    let grads = (y.clone() * r).sum().backward();
    let mut out = vec![
        values(&y),
        values(&xt.grad(&grads).unwrap()),
        values(&wt.grad(&grads).unwrap()),
    ];
    if let Some(b) = bt {
        out.push(values(&b.grad(&grads).unwrap()));
    }
    out
}

const PARTS: [&str; 4] = ["output", "input grad", "weight grad", "bias grad"];

#[allow(clippy::too_many_arguments)]
fn check_conv(
    batch: usize,
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    groups: usize,
    bias: bool,
) {
    let pad = dilation * (k - 1) / 2;
    let options = ConvOptions::new([stride, stride], [pad, pad], [dilation, dilation], groups);
    let xs = [batch, cin, h, w];
    let ws = [cout, cin / groups, k, k];
    let case = format!("{xs:?} w{ws:?} s{stride} d{dilation} g{groups} bias {bias}");
    let ours = conv_outputs::<A>(xs, ws, bias, |x, w, b| {
        nn::conv2d_with(x, w, b.map(|b| b.slice(0..cout)), options.clone())
    });
    let burn = conv_outputs::<A>(xs, ws, bias, |x, w, b| {
        module::conv2d(x, w, b.map(|b| b.slice(0..cout)), options.clone())
    });
    let other = conv_outputs::<N>(xs, ws, bias, |x, w, b| {
        nn::conv2d_with(x, w, b.map(|b| b.slice(0..cout)), options.clone())
    });
    for i in 0..ours.len() {
        assert_close(
            &format!("{case}: {} vs burn's", PARTS[i]),
            &ours[i],
            &burn[i],
        );
        assert_close(
            &format!("{case}: {} ndarray vs flex", PARTS[i]),
            &other[i],
            &ours[i],
        );
    }
}

#[test]
fn dense_convolutions_match_burn() {
    check_conv(1, 3, 8, 13, 11, 3, 1, 1, 1, true);
    check_conv(3, 5, 4, 9, 7, 3, 2, 1, 1, false);
    check_conv(3, 4, 6, 12, 10, 5, 1, 2, 1, true);
    check_conv(1, 4, 4, 40, 37, 3, 1, 16, 1, true);
    check_conv(1, 2, 3, 8, 8, 3, 1, 8, 1, false);
    check_conv(1, 2, 3, 3, 20, 5, 1, 4, 1, true); // rows where no tap lands inside the image
    check_conv(3, 6, 5, 11, 9, 1, 1, 1, 1, true);
    check_conv(1, 3, 4, 10, 10, 4, 2, 1, 1, true); // even kernel, the discriminator's shape
                                                   // Several pixel blocks per sample (a 2 MB patch matrix holds 1,820 of these patches).
    check_conv(2, 32, 8, 64, 64, 3, 1, 1, 1, true);
    check_conv(8, 3, 8, 96, 96, 3, 1, 1, 1, true); // the quickstart UNet's first layer
}

#[test]
fn depthwise_convolutions_match_burn() {
    check_conv(1, 4, 4, 13, 11, 3, 1, 1, 4, true);
    check_conv(3, 5, 5, 9, 12, 5, 1, 1, 5, false);
    check_conv(3, 3, 3, 11, 9, 3, 2, 2, 3, true);
    check_conv(1, 2, 2, 40, 36, 3, 1, 16, 2, false);
}

/// The fused convolution and clamp against burn's convolution then `clamp`, on each path:
/// dense (pointwise and strided 3x3), burn-flex's depthwise 3x3, ours 5x5; in inference on
/// Flex and on ndarray (the default method), and under autodiff with both gradients.
#[test]
fn clamped_convolutions_match_convolution_then_clamp() {
    const RANGE: [f32; 2] = [-0.5, 0.5];
    for (cin, cout, k, stride, groups) in [
        (6, 5, 1, 1, 1),
        (3, 8, 3, 2, 1),
        (4, 4, 3, 2, 4),
        (5, 5, 5, 1, 5),
    ] {
        let options = ConvOptions::new([stride; 2], [k / 2; 2], [1, 1], groups);
        let (xs, ws) = ([2, cin, 17, 13], [cout, cin / groups, k, k]);
        let case = format!("x{xs:?} w{ws:?} s{stride}");
        let inputs = || {
            (
                random::<Flex, 4>(xs, 1),
                random::<Flex, 4>(ws, 2),
                random::<Flex, 1>([cout], 3),
            )
        };
        let (x, w, b) = inputs();
        let want = module::conv2d(x, w, Some(b), options.clone()).clamp(RANGE[0], RANGE[1]);
        let want = values(&want);
        let clamped = |v: f32| want.iter().filter(|&&x| x == v).count();
        assert!(
            clamped(RANGE[0]) > 0 && clamped(RANGE[1]) > 0,
            "{case}: the clamp must bite at both ends"
        );
        let (x, w, b) = inputs();
        let got = nn::conv2d_clamped_with(x, w, Some(b), options.clone(), RANGE);
        assert_close(&format!("{case}: flex"), &values(&got), &want);
        let other = nn::conv2d_clamped_with(
            random::<NdArray, 4>(xs, 1),
            random::<NdArray, 4>(ws, 2),
            Some(random::<NdArray, 1>([cout], 3)),
            options.clone(),
            RANGE,
        );
        assert_close(&format!("{case}: ndarray"), &values(&other), &want);

        let bias = |b: Option<Tensor<A, 1>>| b.map(|b| b.slice(0..cout));
        let ours = conv_outputs::<A>(xs, ws, true, |x, w, b| {
            nn::conv2d_clamped_with(x, w, bias(b), options.clone(), RANGE)
        });
        let burn = conv_outputs::<A>(xs, ws, true, |x, w, b| {
            module::conv2d(x, w, bias(b), options.clone()).clamp(RANGE[0], RANGE[1])
        });
        for i in 0..ours.len() {
            assert_close(
                &format!("{case}: autodiff {}", PARTS[i]),
                &ours[i],
                &burn[i],
            );
        }
    }
}

#[test]
fn zero_padding_matches_burn() {
    for (shape, padding) in [
        ([1, 3, 8, 6], [(0, 1), (0, 1)]),
        ([2, 2, 5, 7], [(2, 0), (1, 3)]),
        ([1, 1, 1, 1], [(0, 0), (0, 0)]),
    ] {
        let want = random::<Flex, 4>(shape, 5).pad(padding, PadMode::Constant(0.0));
        let got = nn::pad_zeros(random::<Flex, 4>(shape, 5), padding);
        assert_eq!(got.dims(), want.dims(), "{shape:?} {padding:?}");
        assert_eq!(values(&got), values(&want), "{shape:?} {padding:?}");
        let other = nn::pad_zeros(random::<NdArray, 4>(shape, 5), padding);
        assert_eq!(
            values(&other),
            values(&want),
            "{shape:?} {padding:?}: ndarray"
        );
    }
}

fn check_transpose(
    batch: usize,
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    k: usize,
    bias: bool,
) {
    let options = ConvTransposeOptions::new([k, k], [0, 0], [0, 0], [1, 1], 1);
    let xs = [batch, cin, h, w];
    let ws = [cin, cout, k, k];
    let case = format!("transposed {xs:?} w{ws:?} bias {bias}");
    let run_ours = |x: Tensor<_, 4>, w, b: Option<Tensor<_, 1>>| {
        let float = |t: Tensor<_, 4>| t.into_primitive().tensor();
        Tensor::from_primitive(burn::tensor::TensorPrimitive::Float(
            <A as KernelBackend>::conv_transpose2d_op(
                float(x),
                float(w),
                b.map(|b: Tensor<A, 1>| b.slice(0..cout).into_primitive().tensor()),
                options.clone(),
            ),
        ))
    };
    let ours = conv_outputs::<A>(xs, ws, bias, run_ours);
    let burn = conv_outputs::<A>(xs, ws, bias, |x, w, b| {
        module::conv_transpose2d(x, w, b.map(|b| b.slice(0..cout)), options.clone())
    });
    for i in 0..ours.len() {
        assert_close(
            &format!("{case}: {} vs burn's", PARTS[i]),
            &ours[i],
            &burn[i],
        );
    }
}

#[test]
fn transposed_convolutions_match_burn() {
    check_transpose(1, 8, 4, 5, 7, 2, true);
    check_transpose(3, 3, 6, 6, 6, 2, false);
    check_transpose(2, 4, 2, 3, 5, 3, true);
}

/// Output and input gradient of a one-input op under a random linear loss.
fn unary_outputs<B: burn::tensor::backend::AutodiffBackend>(
    x: [usize; 4],
    op: impl Fn(Tensor<B, 4>) -> Tensor<B, 4>,
) -> Vec<Vec<f32>> {
    let xt = random::<B, 4>(x, 7).require_grad();
    let y = op(xt.clone());
    let r = random::<B, 4>(y.dims(), 8);
    let grads = (y.clone() * r).sum().backward();
    vec![values(&y), values(&xt.grad(&grads).unwrap())]
}

fn check_unary(
    case: &str,
    x: [usize; 4],
    ours: impl Fn(Tensor<A, 4>) -> Tensor<A, 4>,
    burn: impl Fn(Tensor<A, 4>) -> Tensor<A, 4>,
    other: impl Fn(Tensor<N, 4>) -> Tensor<N, 4>,
) {
    let (o, b, n) = (
        unary_outputs(x, ours),
        unary_outputs(x, burn),
        unary_outputs(x, other),
    );
    for i in 0..2 {
        assert_close(
            &format!("{case} {x:?}: {} vs burn's", PARTS[i]),
            &o[i],
            &b[i],
        );
        assert_close(
            &format!("{case} {x:?}: {} ndarray vs flex", PARTS[i]),
            &n[i],
            &o[i],
        );
    }
}

#[test]
fn pools_and_upsampling_match_burn() {
    // One plane too: the imputation's mask at batch 1.
    for x in [[1, 3, 9, 7], [3, 2, 8, 12], [1, 1, 6, 11]] {
        for (k, s, p, include) in [
            (3, 1, 1, true),
            (2, 2, 0, true),
            (5, 1, 2, true),
            (3, 2, 1, false),
        ] {
            check_unary(
                &format!("avg k{k} s{s} p{p} include {include}"),
                x,
                |t| nn::avg_pool2d(t, [k, k], [s, s], [p, p], include),
                |t| module::avg_pool2d(t, [k, k], [s, s], [p, p], include, false),
                |t| nn::avg_pool2d(t, [k, k], [s, s], [p, p], include),
            );
        }
        check_unary(
            "max 2x2",
            x,
            |t| nn::max_pool2d(t, [2, 2], [2, 2]),
            |t| module::max_pool2d(t, [2, 2], [2, 2], [0, 0], [1, 1], false),
            |t| nn::max_pool2d(t, [2, 2], [2, 2]),
        );
        let [_, _, h, w] = x;
        check_unary(
            "nearest 2x",
            x,
            nn::upsample_nearest2x,
            |t| {
                module::interpolate(
                    t,
                    [2 * h, 2 * w],
                    InterpolateOptions::new(InterpolateMode::Nearest),
                )
            },
            nn::upsample_nearest2x,
        );
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
            let mut all = conv_outputs::<A>([3, 16, 48, 40], [24, 16, 3, 3], true, |x, w, b| {
                nn::conv2d_with(x, w, b, options.clone())
            });
            let dw = ConvOptions::new([1, 1], [2, 2], [1, 1], 16);
            all.extend(conv_outputs::<A>(
                [3, 16, 20, 20],
                [16, 1, 5, 5],
                true,
                |x, w, b| nn::conv2d_with(x, w, b, dw.clone()),
            ));
            all
        })
    };
    let (one, two) = (run(1), run(2));
    for (i, (a, b)) in one.iter().zip(&two).enumerate() {
        assert!(a == b, "part {i} differs between 1 and 2 threads");
    }
}

#[test]
fn reference_mode_runs_burns_ops() {
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let op = |x, w, b| nn::conv2d_with(x, w, b, options.clone());
    let reference =
        crate::with_burn_ops(|| conv_outputs::<A>([1, 3, 8, 8], [4, 3, 3, 3], true, op));
    let burn = conv_outputs::<A>([1, 3, 8, 8], [4, 3, 3, 3], true, |x, w, b| {
        module::conv2d(x, w, b, options.clone())
    });
    assert_eq!(
        reference, burn,
        "reference mode is bit-identical to burn's ops"
    );
    let _ = Distribution::Default;
}
