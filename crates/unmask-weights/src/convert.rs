//! Raw file bytes -> safetensors bytes, for each [`Format`].

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};

use crate::assets::{AssetSpec, Format};
use crate::error::{Result, WeightsError};
use crate::{pickle, tfjs};

/// Bump when the conversion's output changes: cached files with another version are redone.
pub const CONVERTER_VERSION: u32 = 1;

/// A converted float32 tensor, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct F32Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    /// Little-endian float32 bytes, C order.
    pub data: Vec<u8>,
}

/// Permutes a flax/TF conv kernel `[h, w, in, out]` (HWIO) into PyTorch/burn's
/// `[out, in, h, w]` (OIHW). `data` is little-endian float32 in C order.
pub fn hwio_to_oihw(shape: [usize; 4], data: &[u8]) -> Vec<u8> {
    let [kh, kw, ci, co] = shape;
    let mut out = vec![0u8; data.len()];
    for h in 0..kh {
        for w in 0..kw {
            for i in 0..ci {
                for o in 0..co {
                    let src = ((h * kw + w) * ci + i) * co + o;
                    let dst = ((o * ci + i) * kh + h) * kw + w;
                    out[dst * 4..dst * 4 + 4].copy_from_slice(&data[src * 4..src * 4 + 4]);
                }
            }
        }
    }
    out
}

/// Converts the raw files of `spec` (`raw[k]` is the content of `spec.files[k]`, whose name is
/// `names[k]` for messages) into tensors. LPIPS pickles: dotted names, 4-D kernels to OIHW.
/// TF.js: manifest names and shapes, dequantized.
pub fn to_tensors(spec: &AssetSpec, raw: &[Vec<u8>], paths: &[&Path]) -> Result<Vec<F32Tensor>> {
    let fmt_err = |k: usize, message: String| WeightsError::Format {
        file: paths.get(k).map(|p| p.to_path_buf()).unwrap_or_default(),
        message,
    };
    match spec.format {
        Format::LpipsPickle => {
            let bytes = raw
                .first()
                .ok_or_else(|| fmt_err(0, "no raw file".into()))?;
            let arrays = pickle::read_arrays(bytes).map_err(|m| fmt_err(0, m))?;
            if arrays.is_empty() {
                return Err(fmt_err(0, "the pickle holds no arrays".into()));
            }
            Ok(arrays
                .into_iter()
                .map(|a| match a.shape[..] {
                    [kh, kw, ci, co] => F32Tensor {
                        name: a.name,
                        shape: vec![co, ci, kh, kw],
                        data: hwio_to_oihw([kh, kw, ci, co], a.data),
                    },
                    _ => F32Tensor {
                        name: a.name,
                        shape: a.shape,
                        data: a.data.to_vec(),
                    },
                })
                .collect())
        }
        Format::TfjsManifest => {
            let (Some(bin), Some(manifest)) = (raw.first(), raw.get(1)) else {
                return Err(fmt_err(0, "TF.js needs a .bin and a manifest".into()));
            };
            let bin_name = spec.files[0].file_name();
            let tensors = tfjs::read_tensors(manifest, bin_name, bin).map_err(|m| fmt_err(1, m))?;
            Ok(tensors
                .into_iter()
                .map(|t| F32Tensor {
                    name: t.name,
                    shape: t.shape,
                    data: t.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                })
                .collect())
        }
    }
}

/// Serialises tensors to safetensors bytes, with metadata saying where they came from and in
/// which layout, so a file found on disk explains itself.
pub fn to_safetensors(spec: &AssetSpec, tensors: &[F32Tensor], out: &Path) -> Result<Vec<u8>> {
    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(Dtype::F32, t.shape.clone(), &t.data)
                .map(|v| (t.name.clone(), v))
                .map_err(|e| WeightsError::Format {
                    file: out.to_path_buf(),
                    message: format!("{}: {e}", t.name),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let layout = match spec.format {
        Format::LpipsPickle => "conv kernels OIHW (converted from flax HWIO)",
        Format::TfjsManifest => {
            "TF.js manifest layouts (conv HWIO, depthwise HW-in-mult, dense in-out)"
        }
    };
    let metadata = HashMap::from([
        ("source".to_string(), spec.package.spec()),
        ("file".to_string(), spec.files[0].archive_path.to_string()),
        ("sha256".to_string(), spec.files[0].sha256.to_string()),
        ("layout".to_string(), layout.to_string()),
        (
            "converter".to_string(),
            format!("unmask-weights v{CONVERTER_VERSION}"),
        ),
    ]);
    safetensors::serialize(views, Some(metadata)).map_err(|e| WeightsError::Format {
        file: out.to_path_buf(),
        message: e.to_string(),
    })
}
