//! GAN speed on the CPU (burn flex): generator + discriminator training steps per second at
//! 128 and 256 px for the default width (32), and generator inference latency at 256 px for
//! widths 8, 16 and 32 (the latency/quality trade-off).

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use unmask_inpaint::discriminator::{Discriminator, DiscriminatorConfig};
use unmask_inpaint::loss::{hinge_discriminator, hinge_generator, weighted_l1};
use unmask_inpaint::{GeneratorConfig, InpaintNet};

type A = Autodiff<Flex>;

/// A box hole over the lower middle, like a face mask.
fn hole<B: burn::tensor::backend::Backend>(n: usize, s: usize, device: &B::Device) -> Tensor<B, 4> {
    let m = Tensor::<B, 4>::zeros([n, 1, s, s], device);
    let ones = Tensor::<B, 4>::ones([n, 1, s / 2 - s / 16, s / 2], device);
    m.slice_assign([0..n, 0..1, s / 2..s - s / 16, s / 4..3 * s / 4], ones)
}

fn train_steps(c: &mut Criterion) {
    let device = Default::default();
    let mut group = c.benchmark_group("gan_train_step");
    group.sample_size(10);
    for size in [128usize, 256] {
        let batch = 1;
        let config = GeneratorConfig {
            image_size: size,
            ..Default::default()
        };
        let mut net: InpaintNet<A> = config.init(&device);
        let mut disc: Discriminator<A> = DiscriminatorConfig::default().init(&device);
        let (mut og, mut od) = (
            AdamConfig::new().init::<A, InpaintNet<A>>(),
            AdamConfig::new().init::<A, Discriminator<A>>(),
        );
        let target = Tensor::<A, 4>::random([batch, 3, size, size], Distribution::Default, &device);
        let h = hole::<A>(batch, size, &device);
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(
            BenchmarkId::new("width32", format!("{size}px_batch{batch}")),
            |b| {
                b.iter(|| {
                    let out = net.forward(target.clone(), h.clone());
                    let d = hinge_discriminator(
                        disc.forward(target.clone(), h.clone()),
                        disc.forward(out.fin.clone().detach(), h.clone()),
                    );
                    let grads = GradientsParams::from_grads(d.backward(), &disc);
                    disc = od.step(1e-3, disc.clone(), grads);
                    let g = weighted_l1(out.coarse, target.clone(), h.clone(), 5.0)
                        + weighted_l1(out.refine, target.clone(), h.clone(), 5.0)
                        + hinge_generator(disc.forward(out.fin, h.clone())).mul_scalar(0.01);
                    let grads = GradientsParams::from_grads(g.backward(), &net);
                    net = og.step(1e-3, net.clone(), grads);
                })
            },
        );
    }
    group.finish();
}

fn inference(c: &mut Criterion) {
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
            b.iter(|| net.forward(image.clone(), h.clone()).fin.into_data())
        });
    }
    group.finish();
}

criterion_group!(benches, inference, train_steps);
criterion_main!(benches);
