//! pSp's validation row: its loss terms on held-out pairs, and how much the raw output
//! changes what the mask did not cover (the report's point about StyleGAN).

use unmask_train::scores::{markdown_rows, Group};
use unmask_train::ScoreRow;

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PspScores {
    /// Mean squared error of the raw output, in [-1, 1] units.
    pub l2: f64,
    /// LPIPS (AlexNet) of the raw output; NaN when the loss does not use it.
    pub lpips: f64,
    /// `1 - cos` of the recognition descriptors of output and target; NaN when unused.
    pub id_loss: f64,
    /// Mean absolute error of the raw output outside the hole, in [0, 1] units.
    pub l1_outside: f64,
    /// The weighted loss the best model is chosen by.
    pub total: f64,
}

impl ScoreRow for PspScores {
    const NAMES: &'static [&'static str] = &["l2", "lpips", "id_loss", "l1_outside", "total"];
    const DECIMALS: &'static [usize] = &[4, 4, 4, 4, 4];

    fn values(&self) -> Vec<f64> {
        vec![
            self.l2,
            self.lpips,
            self.id_loss,
            self.l1_outside,
            self.total,
        ]
    }

    fn from_values(v: &[f64]) -> Self {
        Self {
            l2: v[0],
            lpips: v[1],
            id_loss: v[2],
            l1_outside: v[3],
            total: v[4],
        }
    }

    fn describe(&self) -> String {
        format!(
            "L2 {:.4}, LPIPS {:.4}, ID loss {:.4}, L1 outside the hole {:.4} (loss {:.4})",
            self.l2, self.lpips, self.id_loss, self.l1_outside, self.total
        )
    }

    fn markdown(split: &str, groups: &[Group]) -> String {
        format!(
            "# pSp reconstruction ({split})\n\n| group | pairs | L2 | LPIPS | ID loss | L1 outside | loss |\n|---|---:|---:|---:|---:|---:|---:|\n{}",
            markdown_rows(groups, Self::DECIMALS)
        )
    }
}
