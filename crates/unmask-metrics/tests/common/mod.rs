//! Shared helpers: the reference fixtures and the weights.
#![allow(dead_code)]

use std::path::PathBuf;

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use unmask_weights::{Asset, WeightStore};

pub type B = Flex;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/fixtures")
}

/// A PNG as `[1, 3, H, W]` in `[0, 1]` (pixel / 255).
pub fn load_png(name: &str) -> Tensor<B, 4> {
    let path = fixtures().join(name);
    let img = image::open(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
        .to_rgb8();
    let (w, h) = img.dimensions();
    let (w, h) = (w as usize, h as usize);
    let mut v = vec![0f32; 3 * h * w];
    for (x, y, p) in img.enumerate_pixels() {
        for c in 0..3 {
            v[c * h * w + y as usize * w + x as usize] = p[c] as f32 / 255.0;
        }
    }
    Tensor::from_data(
        TensorData::new(v, [1, 3, h, w]),
        &burn::backend::flex::FlexDevice,
    )
}

pub fn reference() -> serde_json::Value {
    let path = fixtures().join("reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("reference.json parses")
}

/// The converted weights of `asset`, fetched into the cache when missing (`UNMASK_CACHE`).
pub fn weights(asset: Asset) -> PathBuf {
    let store = WeightStore::from_env()
        .unwrap_or_else(|e| panic!("LPIPS tests need the weight store (set UNMASK_CACHE): {e}"));
    store.path(asset).unwrap_or_else(|e| {
        panic!(
            "LPIPS tests need the {asset:?} weights: they are not cached in {} and could not be \
             fetched: {e}",
            store.root().display()
        )
    })
}

/// A deterministic pseudo-random image batch `[n, 3, h, w]` in `[0, 1]`.
pub fn random_images(n: usize, h: usize, w: usize, seed: u64) -> Tensor<B, 4> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let v: Vec<f32> = (0..n * 3 * h * w)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    Tensor::from_data(
        TensorData::new(v, [n, 3, h, w]),
        &burn::backend::flex::FlexDevice,
    )
}
