//! Identical images: LPIPS exactly 0, SSIM exactly 1; pixel metrics on small examples.

mod common;

use burn::tensor::{Tensor, TensorData};
use common::*;
use unmask_metrics::{
    dice, hole_l1, iou, l1, pixel_accuracy, ssim, to_vec, Lpips, LpipsNet, Vgg16Features,
};
use unmask_weights::Asset;

#[test]
fn lpips_alex_of_identical_images_is_exactly_zero() {
    let device = Default::default();
    let lpips = Lpips::<B>::load(LpipsNet::Alex, &weights(Asset::AlexNetLpips), &device)
        .expect("alexnet weights load");
    let x = random_images(3, 70, 90, 7);
    let d = to_vec(lpips.distance(x.clone(), x));
    assert_eq!(d, vec![0.0; 3]);
    let base = load_png("base.png");
    assert_eq!(to_vec(lpips.distance(base.clone(), base)), vec![0.0]);
    // The smallest accepted size.
    let min = LpipsNet::Alex.min_size();
    let small = random_images(1, min, min, 9);
    assert_eq!(to_vec(lpips.distance(small.clone(), small)), vec![0.0]);
}

#[test]
fn ssim_of_identical_images_is_one() {
    let x = random_images(2, 32, 40, 3);
    assert_eq!(to_vec(ssim(x.clone(), x)), vec![1.0, 1.0]);
    let base = load_png("base.png");
    assert_eq!(to_vec(ssim(base.clone(), base)), vec![1.0]);
}

#[test]
fn ssim_is_symmetric_and_below_one() {
    let x = random_images(2, 24, 24, 1);
    let y = random_images(2, 24, 24, 2);
    let s1 = to_vec(ssim(x.clone(), y.clone()));
    let s2 = to_vec(ssim(y, x));
    for (a, b) in s1.iter().zip(&s2) {
        assert!((a - b).abs() < 1e-6 && *a < 0.5, "{a} {b}");
    }
}

fn t(v: Vec<f32>, shape: [usize; 4]) -> Tensor<B, 4> {
    Tensor::from_data(TensorData::new(v, shape), &burn::backend::flex::FlexDevice)
}

#[test]
fn l1_and_hole_l1() {
    // 1 image, 3 channels, 1x2: difference 0.5 at pixel 0 (all channels), 0.1 at pixel 1.
    let a = t(vec![0.5, 0.1, 0.5, 0.1, 0.5, 0.1], [1, 3, 1, 2]);
    let b = t(vec![0.0; 6], [1, 3, 1, 2]);
    assert!((to_vec(l1(a.clone(), b.clone()))[0] - 0.3).abs() < 1e-6);
    let mask = t(vec![1.0, 0.0], [1, 1, 1, 2]);
    assert!((to_vec(hole_l1(a.clone(), b.clone(), mask))[0] - 0.5).abs() < 1e-6);
    let empty = t(vec![0.0, 0.0], [1, 1, 1, 2]);
    assert!(to_vec(hole_l1(a, b, empty))[0].is_nan());
}

#[test]
fn mask_overlap_metrics() {
    // pred 1 1 0 0, target 1 0 1 0: inter 1, |P| 2, |T| 2, union 3, agree 2 of 4.
    let p = t(vec![1.0, 0.9, 0.2, 0.0], [1, 1, 2, 2]);
    let g = t(vec![1.0, 0.0, 1.0, 0.0], [1, 1, 2, 2]);
    assert!((to_vec(dice(p.clone(), g.clone()))[0] - 0.5).abs() < 1e-6);
    assert!((to_vec(iou(p.clone(), g.clone()))[0] - 1.0 / 3.0).abs() < 1e-6);
    assert!((to_vec(pixel_accuracy(p, g))[0] - 0.5).abs() < 1e-6);
    let z = t(vec![0.0; 4], [1, 1, 2, 2]);
    assert_eq!(to_vec(dice(z.clone(), z.clone())), vec![1.0]);
    assert_eq!(to_vec(iou(z.clone(), z.clone())), vec![1.0]);
    assert_eq!(to_vec(pixel_accuracy(z.clone(), z)), vec![1.0]);
}

#[test]
fn vgg16_feature_shapes() {
    let device = Default::default();
    let vgg = Vgg16Features::<B>::load(&weights(Asset::Vgg16Lpips), &device).expect("vgg16 loads");
    let f = vgg.forward(random_images(2, 64, 48, 5));
    let dims: Vec<[usize; 4]> = f.iter().map(|t| t.dims()).collect();
    assert_eq!(
        dims,
        vec![
            [2, 64, 64, 48],
            [2, 128, 32, 24],
            [2, 256, 16, 12],
            [2, 512, 8, 6],
            [2, 512, 4, 3]
        ]
    );
}
