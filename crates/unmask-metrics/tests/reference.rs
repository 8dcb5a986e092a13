//! unmask-metrics against the numpy reference (`tests/reference/make_reference.py`).

mod common;

use burn::tensor::Tensor;
use common::*;
use unmask_metrics::{l1, psnr, ssim, to_vec, Lpips, LpipsNet};
use unmask_weights::Asset;

const TOL: f64 = 1e-4;

/// All reference pairs as two batches, and the reference rows.
fn pairs() -> (Tensor<B, 4>, Tensor<B, 4>, Vec<serde_json::Value>) {
    let reference = reference();
    let rows = reference["pairs"].as_array().expect("pairs").clone();
    assert!(rows.len() >= 5, "reference.json has {} pairs", rows.len());
    let a = rows
        .iter()
        .map(|r| load_png(r["a"].as_str().unwrap()))
        .collect();
    let b = rows
        .iter()
        .map(|r| load_png(r["b"].as_str().unwrap()))
        .collect();
    (Tensor::cat(a, 0), Tensor::cat(b, 0), rows)
}

fn compare(metric: &str, ours: &[f32], rows: &[serde_json::Value], tol: f64) -> f64 {
    let mut max_diff = 0f64;
    for (v, r) in ours.iter().zip(rows) {
        let name = format!("{} vs {}", r["a"], r["b"]);
        let Some(expected) = r[metric].as_f64() else {
            assert!(v.is_infinite(), "{metric} {name}: expected inf, got {v}");
            continue;
        };
        let diff = (*v as f64 - expected).abs();
        println!("{metric:>10} {name:<32} ours {v:.6} reference {expected:.6} diff {diff:.2e}");
        assert!(
            diff <= tol,
            "{metric} {name}: ours {v}, reference {expected}, diff {diff}"
        );
        max_diff = max_diff.max(diff);
    }
    println!("{metric}: max abs diff {max_diff:.3e}");
    max_diff
}

#[test]
fn ssim_matches_skimage_reference() {
    let (a, b, rows) = pairs();
    compare("ssim", &to_vec(ssim(a, b)), &rows, TOL);
}

#[test]
fn l1_and_psnr_match_reference() {
    let (a, b, rows) = pairs();
    compare("l1", &to_vec(l1(a.clone(), b.clone())), &rows, 1e-6);
    compare("psnr", &to_vec(psnr(a, b)), &rows, 1e-3);
}

/// Both ways `Lpips` computes on the CPU: its own kernels and burn's convolutions.
fn lpips_matches_reference(net: LpipsNet, asset: Asset, metric: &str) {
    let (a, b, rows) = pairs();
    let lpips = Lpips::<B>::load(net, &weights(asset), &Default::default()).expect("weights load");
    compare(
        metric,
        &to_vec(lpips.distance(a.clone(), b.clone())),
        &rows,
        TOL,
    );
    let burn = lpips
        .with_burn_convolutions(&Default::default())
        .expect("weights load");
    compare(metric, &to_vec(burn.distance(a, b)), &rows, TOL);
}

#[test]
fn lpips_alex_matches_reference() {
    lpips_matches_reference(LpipsNet::Alex, Asset::AlexNetLpips, "lpips_alex");
}

#[test]
fn lpips_vgg_matches_reference() {
    lpips_matches_reference(LpipsNet::Vgg, Asset::Vgg16Lpips, "lpips_vgg");
}
