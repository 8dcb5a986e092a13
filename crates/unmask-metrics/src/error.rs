//! The crate's error type; every variant names the weights file involved.

pub type Result<T, E = MetricsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(transparent)]
    Weights(#[from] unmask_weights::WeightsError),
    #[error(transparent)]
    WeightFile(#[from] unmask_kernels::WeightFileError),
}
