//! TF.js layers/graph weights: a JSON manifest listing tensors (name, shape, dtype, optional
//! quantization) whose values are packed back to back in the `.bin` files of each group.
//!
//! face-api.js stores float32 weights uint8-quantized per tensor; TF.js dequantizes as
//! `q * scale + min` in JavaScript doubles and stores the result in a `Float32Array`, which is
//! exactly what [`read_tensors`] does. Names and shapes are kept as in the manifest (TF layouts).

use serde::Deserialize;

/// A dequantized float32 tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

#[derive(Deserialize)]
struct Group {
    paths: Vec<String>,
    weights: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    dtype: String,
    #[serde(default)]
    quantization: Option<Quantization>,
}

#[derive(Deserialize)]
struct Quantization {
    dtype: String,
    scale: Option<f64>,
    min: Option<f64>,
}

/// Reads every tensor of `manifest`. All groups must name only `bin_name` (the one verified
/// weights file); the groups' tensors are read from `bin` in manifest order. The whole file
/// must be consumed, so a manifest that does not describe `bin` exactly is an error.
pub fn read_tensors(manifest: &[u8], bin_name: &str, bin: &[u8]) -> Result<Vec<Tensor>, String> {
    let groups: Vec<Group> =
        serde_json::from_slice(manifest).map_err(|e| format!("bad manifest JSON: {e}"))?;
    let mut pos = 0usize;
    let mut out = Vec::new();
    for g in &groups {
        if let Some(p) = g
            .paths
            .iter()
            .find(|p| p.rsplit('/').next() != Some(bin_name))
        {
            return Err(format!(
                "manifest refers to weights file {p}; only {bin_name} is supported"
            ));
        }
        for w in &g.weights {
            let n = w
                .shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .ok_or_else(|| format!("{}: shape {:?} overflows", w.name, w.shape))?;
            // Integer tensors are graph constants (the SSD detector's slice sizes, its anchor
            // count): read past, not kept.
            let keep = match w.dtype.as_str() {
                "float32" => true,
                "int32" => false,
                other => return Err(format!("{}: dtype {other} is not supported", w.name)),
            };
            let (width, quant) = match &w.quantization {
                None => (4, None),
                Some(q) => {
                    let width = match q.dtype.as_str() {
                        "uint8" => 1,
                        "uint16" => 2,
                        other => {
                            return Err(format!(
                                "{}: quantization dtype {other} is not supported",
                                w.name
                            ))
                        }
                    };
                    let (Some(scale), Some(min)) = (q.scale, q.min) else {
                        return Err(format!("{}: quantization lacks scale or min", w.name));
                    };
                    (width, Some((scale, min)))
                }
            };
            let len = n
                .checked_mul(width)
                .ok_or_else(|| format!("{}: size overflows", w.name))?;
            let bytes = pos
                .checked_add(len)
                .and_then(|end| bin.get(pos..end))
                .ok_or_else(|| {
                    format!(
                        "{}: needs bytes {pos}..{} but {bin_name} has {}",
                        w.name,
                        pos.saturating_add(len),
                        bin.len()
                    )
                })?;
            pos += len;
            if !keep {
                continue;
            }
            let values: Vec<f32> = match (width, quant) {
                (1, Some((scale, min))) => bytes
                    .iter()
                    .map(|&q| (f64::from(q) * scale + min) as f32)
                    .collect(),
                (2, Some((scale, min))) => bytes
                    .chunks_exact(2)
                    .map(|c| (f64::from(u16::from_le_bytes([c[0], c[1]])) * scale + min) as f32)
                    .collect(),
                _ => bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            };
            out.push(Tensor {
                name: w.name.clone(),
                shape: w.shape.clone(),
                values,
            });
        }
    }
    if pos != bin.len() {
        return Err(format!(
            "manifest describes {pos} bytes but {bin_name} has {}",
            bin.len()
        ));
    }
    Ok(out)
}
