//! The perceptual loss computes the target's VGG16 features off the autodiff tape: its value
//! and its gradient must equal those of one tracked pass over both images.

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Distribution, Tensor};
use unmask_inpaint::loss::perceptual;
use unmask_metrics::Vgg16Features;
use unmask_weights::{Asset, WeightStore};

type A = Autodiff<Flex>;

fn vgg() -> Vgg16Features<A> {
    let store = WeightStore::from_env().expect("weight store");
    let path = store.path(Asset::Vgg16Lpips).expect("VGG16 weights");
    Vgg16Features::load(&path, &Default::default()).expect("VGG16 loads")
}

/// The loss as one pass over `[a; b]`, the target half detached after the network.
fn one_pass(
    vgg: &Vgg16Features<A>,
    a: Tensor<A, 4>,
    b: Tensor<A, 4>,
    layers: usize,
) -> Tensor<A, 1> {
    let n = a.dims()[0];
    vgg.forward_upto(Tensor::cat(vec![a, b], 0), layers)
        .into_iter()
        .map(|f| {
            let [_, c, h, w] = f.dims();
            let x = f.clone().slice([0..n, 0..c, 0..h, 0..w]);
            let y = f.slice([n..2 * n, 0..c, 0..h, 0..w]).detach();
            (x - y).abs().mean()
        })
        .reduce(|a, b| a + b)
        .unwrap()
}

fn value_and_grad(loss: Tensor<A, 1>, a: &Tensor<A, 4>) -> (f32, Vec<f32>) {
    let value = loss.clone().into_scalar();
    let grads = loss.backward();
    let g = a.grad(&grads).expect("a is tracked");
    (value, g.into_data().to_vec::<f32>().unwrap())
}

#[test]
fn split_passes_give_the_one_pass_value_and_gradient() {
    let vgg = vgg();
    let device = Default::default();
    for layers in [1, 2, 3] {
        let a0 = Tensor::<A, 4>::random([2, 3, 20, 24], Distribution::Uniform(0.0, 1.0), &device);
        let b = Tensor::<A, 4>::random([2, 3, 20, 24], Distribution::Uniform(0.0, 1.0), &device);
        let a = a0.clone().require_grad();
        let (split, split_grad) =
            value_and_grad(perceptual(&vgg, a.clone(), b.clone(), layers), &a);
        let a = a0.require_grad();
        let (joint, joint_grad) = value_and_grad(one_pass(&vgg, a.clone(), b, layers), &a);
        assert!(
            split > 0.0,
            "layers {layers}: different images give a positive loss"
        );
        assert!(
            (split - joint).abs() <= 1e-5 * joint.abs(),
            "layers {layers}: value {split} vs {joint}"
        );
        let scale = joint_grad.iter().fold(0f32, |m, g| m.max(g.abs()));
        assert!(
            scale > 0.0,
            "layers {layers}: the gradient reaches the input"
        );
        for (i, (s, j)) in split_grad.iter().zip(&joint_grad).enumerate() {
            assert!(
                (s - j).abs() <= 1e-4 * scale,
                "layers {layers}: grad[{i}] {s} vs {j}"
            );
        }
    }
}

#[test]
fn identical_images_have_zero_loss() {
    let vgg = vgg();
    let x = Tensor::<A, 4>::random(
        [1, 3, 16, 16],
        Distribution::Uniform(0.0, 1.0),
        &Default::default(),
    );
    assert_eq!(perceptual(&vgg, x.clone(), x, 2).into_scalar(), 0.0);
}
