//! StyleGAN2's validation row. An unconditional GAN has no target to compare with, and FID
//! needs Inception weights that no registry ships; what is logged per epoch instead is the
//! discriminator's mean logit on held-out faces, on as many training faces and on as many of
//! the average generator's faces. A widening gap between the training and held-out logits is
//! the discriminator overfitting (the signal StyleGAN2-ADA adapts to).

use unmask_train::scores::{markdown_rows, Group};
use unmask_train::ScoreRow;

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StyleScores {
    /// Mean logit on validation faces.
    pub d_val_real: f64,
    /// Mean logit on the same number of training faces.
    pub d_train_real: f64,
    /// Mean logit on the EMA generator's faces.
    pub d_fake: f64,
}

impl ScoreRow for StyleScores {
    const NAMES: &'static [&'static str] = &["d_val_real", "d_train_real", "d_fake"];
    const DECIMALS: &'static [usize] = &[3, 3, 3];

    fn values(&self) -> Vec<f64> {
        vec![self.d_val_real, self.d_train_real, self.d_fake]
    }

    fn from_values(v: &[f64]) -> Self {
        Self {
            d_val_real: v[0],
            d_train_real: v[1],
            d_fake: v[2],
        }
    }

    fn describe(&self) -> String {
        format!(
            "D logit: val faces {:.3}, train faces {:.3}, generated {:.3}",
            self.d_val_real, self.d_train_real, self.d_fake
        )
    }

    fn markdown(split: &str, groups: &[Group]) -> String {
        format!(
            "# StyleGAN2 discriminator logits ({split})\n\n| group | faces | val | train | generated |\n|---|---:|---:|---:|---:|\n{}",
            markdown_rows(groups, Self::DECIMALS)
        )
    }
}
