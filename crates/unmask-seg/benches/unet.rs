//! Segmenter speed on the CPU (burn flex): training images per second at 128 and 256 px for the
//! default UNet (depth 4, 32 channels, batch norm) and the quickstart preset, and inference
//! latency at 256 px. Each case runs on our kernels (`unmask-kernels`) and, as `..._burn_ops`,
//! on burn-flex's own ops in the same run.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use unmask_kernels::with_burn_ops;
use unmask_seg::loss::segmentation_loss;
use unmask_seg::{Norm, UNet, UNetConfig};

type A = Autodiff<Flex>;

fn config(size: usize, depth: usize, base: usize) -> UNetConfig {
    UNetConfig {
        depth,
        base_channels: base,
        norm: Norm::Batch,
        image_size: size,
    }
}

fn train_steps(c: &mut Criterion) {
    // The allocator as the binaries set it up, so figures match what a run sees.
    unmask_core::malloc::keep_freed_buffers();
    let device = Default::default();
    let mut group = c.benchmark_group("unet_train_step");
    group.sample_size(10);
    for (name, cfg, batch) in [
        ("quickstart_96", config(96, 3, 8), 8),
        ("default_128", config(128, 4, 32), 8),
        ("default_256", config(256, 4, 32), 4),
    ] {
        let images = Tensor::<A, 4>::random(
            [batch, 3, cfg.image_size, cfg.image_size],
            Distribution::Default,
            &device,
        );
        let masks = images.clone().slice_dim(1, 0..1).greater_elem(0.5).float();
        for reference in [false, true] {
            let mut model: UNet<A> = cfg.init(&device);
            let mut optim = AdamConfig::new().init::<A, UNet<A>>();
            let suffix = if reference { "_burn_ops" } else { "" };
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(
                BenchmarkId::new(name, format!("batch{batch}{suffix}")),
                |b| {
                    let mut step = || {
                        let loss =
                            segmentation_loss(model.forward(images.clone()), masks.clone(), 0.0);
                        let grads = GradientsParams::from_grads(loss.backward(), &model);
                        model = optim.step(1e-3, model.clone(), grads);
                    };
                    if reference {
                        with_burn_ops(|| b.iter(&mut step))
                    } else {
                        b.iter(&mut step)
                    }
                },
            );
        }
    }
    group.finish();
}

fn inference(c: &mut Criterion) {
    // The allocator as the binaries set it up, so figures match what a run sees.
    unmask_core::malloc::keep_freed_buffers();
    let device = Default::default();
    let cfg = config(256, 4, 32);
    let model: UNet<Flex> = cfg.init(&device);
    eprintln!("default UNet: {} parameters", model.num_params());
    let image = Tensor::<Flex, 4>::random([1, 3, 256, 256], Distribution::Default, &device);
    let mut group = c.benchmark_group("unet_inference");
    group.sample_size(10);
    group.bench_function("default_256_batch1", |b| {
        b.iter(|| model.probabilities(image.clone()).into_data())
    });
    group.bench_function("default_256_batch1_burn_ops", |b| {
        with_burn_ops(|| b.iter(|| model.probabilities(image.clone()).into_data()))
    });
    group.finish();
}

criterion_group!(benches, train_steps, inference);
criterion_main!(benches);
