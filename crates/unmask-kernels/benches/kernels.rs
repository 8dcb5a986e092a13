//! Each op's training step (forward, then both gradients under a linear loss) on our kernels
//! and on burn-flex's own ops in the same run: `KIND/ours/CASE` against `KIND/burn/CASE`.

use burn::backend::{Autodiff, Flex};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use unmask_kernels::{nn, with_burn_ops};

type A = Autodiff<Flex>;

struct Case {
    name: &'static str,
    x: [usize; 4],
    cout: usize,
    k: usize,
    dilation: usize,
    groups: usize,
}

const CASES: [Case; 5] = [
    // The default UNet's second level at 128 px, batch 8.
    Case {
        name: "unet128_b8_32x32",
        x: [8, 32, 64, 64],
        cout: 32,
        k: 3,
        dilation: 1,
        groups: 1,
    },
    // The quickstart UNet's first layer at 96 px, batch 8.
    Case {
        name: "unet96_b8_3x8",
        x: [8, 3, 96, 96],
        cout: 8,
        k: 3,
        dilation: 1,
        groups: 1,
    },
    // A width-32 generator's dilated middle at 128 px, batch 1.
    Case {
        name: "gan128_b1_128x128_d4",
        x: [1, 128, 32, 32],
        cout: 128,
        k: 3,
        dilation: 4,
        groups: 1,
    },
    // A generator's 5x5 first layer at 128 px.
    Case {
        name: "gan128_b1_4x32_k5",
        x: [1, 4, 128, 128],
        cout: 32,
        k: 5,
        dilation: 1,
        groups: 1,
    },
    // The imputation's depthwise 5x5 at 64 px, batch 8.
    Case {
        name: "impute64_b8_dw32",
        x: [8, 32, 64, 64],
        cout: 32,
        k: 5,
        dilation: 1,
        groups: 32,
    },
];

fn step(case: &Case, x: &Tensor<A, 4>, w: &Tensor<A, 4>, b: &Tensor<A, 1>) {
    let pad = case.dilation * (case.k - 1) / 2;
    let options = ConvOptions::new([1, 1], [pad, pad], [case.dilation; 2], case.groups);
    let y = nn::conv2d_with(x.clone(), w.clone(), Some(b.clone()), options);
    let grads = y.sum().backward();
    let _ = (x.grad(&grads), w.grad(&grads));
}

fn conv_steps(c: &mut Criterion) {
    // The allocator as the binaries set it up, so figures match what a run sees.
    unmask_core::malloc::keep_freed_buffers();
    let device = Default::default();
    let mut group = c.benchmark_group("conv2d_train_step");
    group.sample_size(10);
    for case in &CASES {
        let x = Tensor::<A, 4>::random(case.x, Distribution::Default, &device).require_grad();
        let w = Tensor::<A, 4>::random(
            [case.cout, case.x[1] / case.groups, case.k, case.k],
            Distribution::Default,
            &device,
        )
        .require_grad();
        let b = Tensor::<A, 1>::random([case.cout], Distribution::Default, &device).require_grad();
        group.bench_function(BenchmarkId::new("ours", case.name), |bench| {
            bench.iter(|| step(case, &x, &w, &b))
        });
        group.bench_function(BenchmarkId::new("burn", case.name), |bench| {
            with_burn_ops(|| bench.iter(|| step(case, &x, &w, &b)))
        });
    }
    group.finish();
}

criterion_group!(benches, conv_steps);
criterion_main!(benches);
