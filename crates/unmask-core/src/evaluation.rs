//! What an inpainting evaluation stage writes beside its scores for the stages that read it
//! (the ablation report, the nightly check): which holes it filled and what it scored, as
//! `eval.json`. It lives here rather than in the model crate so that readers need no model.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const EVAL_INFO: &str = "eval.json";

/// The name the Telea baseline's evaluation records as its method; the report pairs every
/// row against it.
pub const TELEA: &str = "telea";

/// The methods an evaluation of StyleGAN2 + pSp records: its raw output, and that output
/// pasted into the known pixels.
pub const PSP_RAW: &str = "psp-raw";
pub const PSP_COMPOSITE: &str = "psp-composite";

/// The name of the mean-colour baseline's method.
pub const MEAN_FILL: &str = "mean-fill";

/// Which holes the GAN is trained and scored on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskSource {
    /// The exact masks of mask synthesis.
    #[default]
    Truth,
    /// The trained segmenter's masks (needs a `train-seg` stage).
    Segmenter,
}

/// What an evaluation scored, written next to its tables as [`EVAL_INFO`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalInfo {
    /// `gan`, or a baseline's name ([`MEAN_FILL`], [`TELEA`]).
    pub method: String,
    pub model: Option<PathBuf>,
    pub masks: MaskSource,
    pub segmenter: Option<PathBuf>,
    pub split: String,
    pub image_size: usize,
    /// The share of the side by which the holes grew before they were filled.
    #[serde(default)]
    pub hole_dilation: f32,
    pub count: usize,
}

impl EvalInfo {
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(EVAL_INFO);
        let text =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a valid evaluation description", path.display()))
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        crate::atomic::write_bytes(&dir.join(EVAL_INFO), &serde_json::to_vec_pretty(self)?)
    }
}
