//! Options every command that runs trained models shares.

use std::path::PathBuf;
use unmask_train::DeviceKind;

#[derive(clap::Args, Clone, Debug)]
pub struct ModelOptions {
    /// Where pipelines write their runs (for the default models).
    #[arg(long, env = "UNMASK_RUNS", default_value = "runs")]
    pub runs: PathBuf,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceKind,
    /// Print JSON (sizes, areas, time per stage) instead of a sentence.
    #[arg(long)]
    pub json: bool,
}
