//! LPIPS on burn's Flex backend runs on the crate's own CPU kernels: the same values as
//! burn's convolutions, and a pair's value whatever the batch around it or the thread count.

mod common;

use common::*;
use unmask_metrics::{to_vec, Lpips, LpipsNet};
use unmask_weights::Asset;

fn load(net: LpipsNet, asset: Asset) -> Lpips<B> {
    Lpips::<B>::load(net, &weights(asset), &Default::default()).expect("weights load")
}

#[test]
fn cpu_kernels_agree_with_burns_convolutions() {
    // Odd sizes: half Winograd tiles at the edges and pooling that drops the last row.
    for (net, asset, h, w) in [
        (LpipsNet::Alex, Asset::AlexNetLpips, 67, 93),
        (LpipsNet::Vgg, Asset::Vgg16Lpips, 37, 29),
    ] {
        let (a, b) = (random_images(2, h, w, 11), random_images(2, h, w, 12));
        let lpips = load(net, asset);
        let ours = to_vec(lpips.distance(a.clone(), b.clone()));
        let burn = to_vec(
            lpips
                .with_burn_convolutions(&Default::default())
                .unwrap()
                .distance(a, b),
        );
        for (x, y) in ours.iter().zip(&burn) {
            assert!(
                *x > 0.05,
                "{net:?}: random images should be far apart, got {x}"
            );
            assert!((x - y).abs() < 1e-5, "{net:?}: cpu kernels {x}, burn {y}");
        }
    }
}

#[test]
fn a_pairs_distance_ignores_the_batch_and_the_thread_count() {
    let lpips = load(LpipsNet::Alex, Asset::AlexNetLpips);
    let (a, b) = (random_images(3, 64, 80, 21), random_images(3, 64, 80, 22));
    let batch = to_vec(lpips.distance(a.clone(), b.clone()));
    let second = to_vec(lpips.distance(a.clone().narrow(0, 1, 1), b.clone().narrow(0, 1, 1)));
    assert_eq!(second[0].to_bits(), batch[1].to_bits());
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let single: Vec<f32> = one_thread.install(|| to_vec(lpips.distance(a, b)));
    assert_eq!(
        single.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        batch.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}
