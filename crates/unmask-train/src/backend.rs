//! The backend a run uses is a config value (`device: cpu | cuda`); the model code is generic
//! over burn's `Backend`, and these dispatchers pick the concrete type once.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use unmask_kernels::{KernelBackend, TrainingBackend};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// burn's `flex` backend on the CPU cores.
    #[default]
    Cpu,
    /// burn-cuda on the first NVIDIA GPU; needs a build with `--features cuda`.
    Cuda,
}

impl std::str::FromStr for DeviceKind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => bail!("unknown device `{other}`: expected `cpu` or `cuda`"),
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        })
    }
}

pub type CpuBackend = burn::backend::Flex;
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda;

/// Work that trains: generic over an autodiff backend whose ops include our kernels'.
pub trait TrainJob {
    type Output;
    fn run<B: TrainingBackend>(self, device: B::Device) -> Result<Self::Output>;
}

/// Work that only evaluates: generic over a plain backend with our kernels' ops.
pub trait InferJob {
    type Output;
    fn run<B: KernelBackend>(self, device: B::Device) -> Result<Self::Output>;
}

#[cfg(not(feature = "cuda"))]
fn no_cuda() -> anyhow::Error {
    anyhow::anyhow!(
        "`device: cuda` needs a build with CUDA support: rebuild with `--features cuda` \
         (e.g. `cargo run -p xtask --features cuda -- run NAME` or `cargo build --release -p unmask-cli --features cuda`)"
    )
}

pub fn train_on<J: TrainJob>(device: DeviceKind, job: J) -> Result<J::Output> {
    match device {
        DeviceKind::Cpu => job.run::<burn::backend::Autodiff<CpuBackend>>(Default::default()),
        #[cfg(feature = "cuda")]
        DeviceKind::Cuda => job.run::<burn::backend::Autodiff<CudaBackend>>(Default::default()),
        #[cfg(not(feature = "cuda"))]
        DeviceKind::Cuda => Err(no_cuda()),
    }
}

pub fn infer_on<J: InferJob>(device: DeviceKind, job: J) -> Result<J::Output> {
    match device {
        DeviceKind::Cpu => job.run::<CpuBackend>(Default::default()),
        #[cfg(feature = "cuda")]
        DeviceKind::Cuda => job.run::<CudaBackend>(Default::default()),
        #[cfg(not(feature = "cuda"))]
        DeviceKind::Cuda => Err(no_cuda()),
    }
}
