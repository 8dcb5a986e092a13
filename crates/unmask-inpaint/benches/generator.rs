//! GAN speed on the CPU (burn flex): generator + discriminator training steps per second at
//! 128 and 256 px for the default width (32), and generator inference latency at 256 px for
//! widths 8, 16 and 32 (the latency/quality trade-off), and the quickstart preset's step (width
//! 8, 64 px, batch 8, discriminator 3 x 16). Each case runs on our kernels (`unmask-kernels`)
//! and, as `..._burn_ops`, on burn-flex's own ops in the same run.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use unmask_inpaint::discriminator::{Discriminator, DiscriminatorConfig};
use unmask_inpaint::loss::{hinge_discriminator, hinge_generator, weighted_l1};
use unmask_inpaint::{GeneratorConfig, InpaintNet};
use unmask_kernels::with_burn_ops;

type A = Autodiff<Flex>;

/// A box hole over the lower middle, like a face mask.
fn hole<B: burn::tensor::backend::Backend>(n: usize, s: usize, device: &B::Device) -> Tensor<B, 4> {
    let m = Tensor::<B, 4>::zeros([n, 1, s, s], device);
    let ones = Tensor::<B, 4>::ones([n, 1, s / 2 - s / 16, s / 2], device);
    m.slice_assign([0..n, 0..1, s / 2..s - s / 16, s / 4..3 * s / 4], ones)
}

/// One GAN step as `train-inpaint` takes it: discriminator, then both generators.
struct GanStep {
    net: InpaintNet<A>,
    disc: Discriminator<A>,
    og: burn::optim::adaptor::OptimizerAdaptor<burn::optim::Adam, InpaintNet<A>, A>,
    od: burn::optim::adaptor::OptimizerAdaptor<burn::optim::Adam, Discriminator<A>, A>,
    target: Tensor<A, 4>,
    hole: Tensor<A, 4>,
}

impl GanStep {
    fn new(width: usize, size: usize, batch: usize, disc: DiscriminatorConfig) -> Self {
        let device = Default::default();
        let config = GeneratorConfig {
            width,
            image_size: size,
            ..Default::default()
        };
        Self {
            net: config.init(&device),
            disc: disc.init(&device),
            og: AdamConfig::new().init::<A, InpaintNet<A>>(),
            od: AdamConfig::new().init::<A, Discriminator<A>>(),
            target: Tensor::<A, 4>::random([batch, 3, size, size], Distribution::Default, &device),
            hole: hole::<A>(batch, size, &device),
        }
    }

    fn run(&mut self) {
        let (target, h) = (&self.target, &self.hole);
        let out = self.net.forward(target.clone(), h.clone(), None);
        let d = hinge_discriminator(
            self.disc.forward(target.clone(), h.clone()),
            self.disc.forward(out.fin.clone().detach(), h.clone()),
        );
        let grads = GradientsParams::from_grads(d.backward(), &self.disc);
        self.disc = self.od.step(1e-3, self.disc.clone(), grads);
        let g = weighted_l1(out.coarse, target.clone(), h.clone(), 5.0)
            + weighted_l1(out.refine, target.clone(), h.clone(), 5.0)
            + hinge_generator(self.disc.forward(out.fin, h.clone())).mul_scalar(0.01);
        let grads = GradientsParams::from_grads(g.backward(), &self.net);
        self.net = self.og.step(1e-3, self.net.clone(), grads);
    }
}

fn train_steps(c: &mut Criterion) {
    // The allocator as the binaries set it up, so figures match what a run sees.
    unmask_core::malloc::keep_freed_buffers();
    let mut group = c.benchmark_group("gan_train_step");
    group.sample_size(10);
    let quickstart = DiscriminatorConfig {
        layers: 3,
        width: 16,
    };
    let cases = [
        ("width8", 64, 8, quickstart),
        ("width32", 128, 1, DiscriminatorConfig::default()),
        ("width32", 256, 1, DiscriminatorConfig::default()),
    ];
    for (name, size, batch, disc) in cases {
        for reference in [false, true] {
            let mut step = GanStep::new(
                if name == "width8" { 8 } else { 32 },
                size,
                batch,
                disc.clone(),
            );
            let suffix = if reference { "_burn_ops" } else { "" };
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(
                BenchmarkId::new(name, format!("{size}px_batch{batch}{suffix}")),
                |b| {
                    if reference {
                        with_burn_ops(|| b.iter(|| step.run()))
                    } else {
                        b.iter(|| step.run())
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
    let mut group = c.benchmark_group("gan_inference_256");
    group.sample_size(10);
    let image = Tensor::<Flex, 4>::random([1, 3, 256, 256], Distribution::Default, &device);
    let h = hole::<Flex>(1, 256, &device);
    for width in [8usize, 16, 32] {
        let net: InpaintNet<Flex> = GeneratorConfig {
            width,
            image_size: 256,
            ..Default::default()
        }
        .init(&device);
        eprintln!(
            "generator width {width}: {} parameters (coarse + refine)",
            net.num_params()
        );
        group.bench_function(BenchmarkId::new("width", width), |b| {
            b.iter(|| net.forward(image.clone(), h.clone(), None).fin.into_data())
        });
        group.bench_function(
            BenchmarkId::new("width", format!("{width}_burn_ops")),
            |b| {
                with_burn_ops(|| {
                    b.iter(|| net.forward(image.clone(), h.clone(), None).fin.into_data())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, inference, train_steps);
criterion_main!(benches);
