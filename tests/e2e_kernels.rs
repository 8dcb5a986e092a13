//! The models train the same on our kernels as on burn's own ops, and the same on one thread
//! as on two: ten steps of the UNet and of the GAN (both generators and the discriminator),
//! from the same initial weights and data.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{Distribution, Tensor};
use unmask_inpaint::discriminator::{Discriminator, DiscriminatorConfig};
use unmask_inpaint::loss::{hinge_discriminator, hinge_generator, weighted_l1};
use unmask_inpaint::{GeneratorConfig, InpaintNet};
use unmask_kernels::with_burn_ops;
use unmask_seg::loss::segmentation_loss;
use unmask_seg::{Norm, UNet, UNetConfig};

type A = Autodiff<Flex>;

const STEPS: usize = 10;

fn unet_losses(seed: u64) -> Vec<f32> {
    let device = Default::default();
    <A as burn::tensor::backend::Backend>::seed(&device, seed);
    let cfg = UNetConfig {
        depth: 3,
        base_channels: 8,
        norm: Norm::Batch,
        image_size: 32,
    };
    let mut model: UNet<A> = cfg.init(&device);
    let images = Tensor::<A, 4>::random([4, 3, 32, 32], Distribution::Default, &device);
    let masks = images.clone().slice_dim(1, 0..1).greater_elem(0.5).float();
    let mut optim = AdamConfig::new().init::<A, UNet<A>>();
    (0..STEPS)
        .map(|_| {
            let loss = segmentation_loss(model.forward(images.clone()), masks.clone(), 0.5);
            let value = loss.clone().into_scalar();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-3, model.clone(), grads);
            value
        })
        .collect()
}

/// Generator and discriminator losses of each step, the way `train-inpaint` takes a step.
fn gan_losses(seed: u64, conv: &str) -> Vec<f32> {
    let device = Default::default();
    <A as burn::tensor::backend::Backend>::seed(&device, seed);
    let config: GeneratorConfig =
        serde_yaml::from_str(&format!("{{conv: {conv}, width: 8, image_size: 32}}")).unwrap();
    let mut net: InpaintNet<A> = config.init(&device);
    let mut disc: Discriminator<A> = DiscriminatorConfig {
        layers: 3,
        width: 8,
    }
    .init(&device);
    let (mut og, mut od) = (
        AdamConfig::new().init::<A, InpaintNet<A>>(),
        AdamConfig::new().init::<A, Discriminator<A>>(),
    );
    let target = Tensor::<A, 4>::random([2, 3, 32, 32], Distribution::Default, &device);
    let hole = Tensor::<A, 4>::zeros([2, 1, 32, 32], &device).slice_assign(
        [0..2, 0..1, 14..28, 8..24],
        Tensor::ones([2, 1, 14, 16], &device),
    );
    let mut losses = Vec::new();
    for _ in 0..STEPS {
        let out = net.forward(target.clone(), hole.clone(), None);
        let d = hinge_discriminator(
            disc.forward(target.clone(), hole.clone()),
            disc.forward(out.fin.clone().detach(), hole.clone()),
        );
        losses.push(d.clone().into_scalar());
        let grads = GradientsParams::from_grads(d.backward(), &disc);
        disc = od.step(1e-3, disc.clone(), grads);
        let g = weighted_l1(out.coarse, target.clone(), hole.clone(), 5.0)
            + weighted_l1(out.refine, target.clone(), hole.clone(), 5.0)
            + hinge_generator(disc.forward(out.fin, hole.clone())).mul_scalar(0.01);
        losses.push(g.clone().into_scalar());
        let grads = GradientsParams::from_grads(g.backward(), &net);
        net = og.step(1e-3, net.clone(), grads);
    }
    let _ = net.num_params();
    losses
}

fn assert_within(what: &str, ours: &[f32], burn: &[f32], tolerance: f32) {
    assert_eq!(ours.len(), burn.len());
    for (i, (a, b)) in ours.iter().zip(burn).enumerate() {
        assert!(a.is_finite(), "{what}: loss {i} is {a}");
        assert!(
            (a - b).abs() <= tolerance,
            "{what}: loss {i} is {a} on our kernels, {b} on burn's ops"
        );
    }
}

// One test, so the two runs of each model never share the process with other training (burn
// seeds one generator per backend).
#[test]
fn ten_steps_match_burns_ops_and_do_not_depend_on_the_thread_count() {
    let ours = unet_losses(7);
    let burn = with_burn_ops(|| unet_losses(7));
    assert_within("UNet", &ours, &burn, 1e-3);
    assert!(ours[STEPS - 1] < ours[0], "the UNet learns: {ours:?}");
    for conv in ["imputed", "gated"] {
        let ours = gan_losses(11, conv);
        let burn = with_burn_ops(|| gan_losses(11, conv));
        assert_within(&format!("GAN ({conv})"), &ours, &burn, 1e-3);
    }

    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| (unet_losses(3), gan_losses(5, "imputed")))
    };
    let (one, two) = (on(1), on(2));
    assert!(
        one == two,
        "losses differ between 1 and 2 threads: {one:?} vs {two:?}"
    );
}
