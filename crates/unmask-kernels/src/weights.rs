//! Reading f32 tensors from a safetensors file into burn tensors: how every pretrained net
//! (LPIPS, VGG16, face-api's detectors and landmarks) loads its weights.

use std::path::{Path, PathBuf};

use burn::tensor::{backend::Backend, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

/// What can be wrong with a weights file; every variant names it.
#[derive(Debug, thiserror::Error)]
pub enum WeightFileError {
    #[error("cannot read weights file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid safetensors file: {message}")]
    Safetensors { path: PathBuf, message: String },
    #[error("{path} has no tensor named `{name}`")]
    MissingTensor { path: PathBuf, name: String },
    #[error("{path}: tensor `{name}` has dtype/shape {found}, expected f32 {expected:?}")]
    BadTensor {
        path: PathBuf,
        name: String,
        found: String,
        expected: Vec<usize>,
    },
}

type Result<T> = std::result::Result<T, WeightFileError>;

/// A safetensors file held in memory.
pub struct WeightFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl WeightFile {
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| WeightFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file = Self {
            path: path.to_path_buf(),
            bytes,
        };
        file.parse()?;
        Ok(file)
    }

    fn parse(&self) -> Result<SafeTensors<'_>> {
        SafeTensors::deserialize(&self.bytes).map_err(|e| WeightFileError::Safetensors {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }

    /// The tensor `name`, which must be f32 with exactly `shape`.
    pub fn tensor<B: Backend, const D: usize>(
        &self,
        name: &str,
        shape: [usize; D],
        device: &B::Device,
    ) -> Result<Tensor<B, D>> {
        let values = self.values(name, &shape)?;
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// The values of tensor `name` in row-major order; it must be f32 with exactly `shape`.
    pub fn values(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let st = self.parse()?;
        let view = st
            .tensor(name)
            .map_err(|_| WeightFileError::MissingTensor {
                path: self.path.clone(),
                name: name.to_string(),
            })?;
        if view.dtype() != Dtype::F32 || view.shape() != shape {
            return Err(WeightFileError::BadTensor {
                path: self.path.clone(),
                name: name.to_string(),
                found: format!("{:?} {:?}", view.dtype(), view.shape()),
                expected: shape.to_vec(),
            });
        }
        Ok(view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}
