//! How the learning rate moves over a run, for every model's training.

use serde::{Deserialize, Serialize};

/// `constant` (the report) or `cosine`: from `lr` down to 1% of it over the run, which
/// settles a model trained on varied samples instead of leaving it at a noisy step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    #[default]
    Constant,
    Cosine,
}

impl LrSchedule {
    /// The rate at optimizer step `step` (from 0) of `total`.
    pub fn at(self, lr: f64, step: u64, total: u64) -> f64 {
        match self {
            Self::Constant => lr,
            Self::Cosine => {
                let t = step as f64 / total.max(1) as f64;
                let floor = 0.01 * lr;
                floor + (lr - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
            }
        }
    }

    /// Whether the rates depend on the run's length, so that another length is another run
    /// and a checkpoint of one cannot be continued as the other.
    pub fn depends_on_length(self) -> bool {
        self != Self::Constant
    }
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    #[test]
    fn cosine_falls_from_the_rate_to_one_percent_of_it() {
        let at = |step| LrSchedule::Cosine.at(0.002, step, 100);
        assert_eq!(at(0), 0.002);
        assert!((at(50) - 0.00101).abs() < 1e-12, "{}", at(50));
        assert!((at(100) - 0.00002).abs() < 1e-12);
        assert!((1..100).all(|s| at(s) < at(s - 1)));
        assert_eq!(LrSchedule::Constant.at(0.002, 70, 100), 0.002);
    }
}
