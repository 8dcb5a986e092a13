//! Means with percentile-bootstrap confidence intervals. Each interval draws from its own
//! named random stream, so a table is the same whatever order or thread computes it.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A mean and its confidence interval (NaN when there were no finite values).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    pub const NAN: Interval = Interval {
        mean: f64::NAN,
        lo: f64::NAN,
        hi: f64::NAN,
    };

    pub fn is_finite(&self) -> bool {
        self.mean.is_finite()
    }
}

/// Checks interval settings: a confidence strictly inside (0, 1), and enough resamples (with
/// too few every interval shrinks to a point and any change looks significant).
pub fn check_settings(resamples: usize, confidence: f64) -> anyhow::Result<()> {
    anyhow::ensure!(
        confidence > 0.0 && confidence < 1.0,
        "confidence must be between 0 and 1, got {confidence}"
    );
    anyhow::ensure!(
        resamples >= 100,
        "resamples must be at least 100, got {resamples}"
    );
    Ok(())
}

/// The mean of `values` (non-finite ones left out) with a `confidence` percentile-bootstrap
/// interval from `resamples` resamples drawn from the stream `(seed, stream)`.
pub fn mean_interval(
    values: &[f64],
    resamples: usize,
    confidence: f64,
    seed: u64,
    stream: &str,
) -> Interval {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Interval::NAN;
    }
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 || resamples == 0 {
        return Interval {
            mean,
            lo: mean,
            hi: mean,
        };
    }
    let mut rng = crate::rng::sample_rng(seed, &format!("bootstrap:{stream}"), 0);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| v[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence.clamp(0.0, 1.0)) / 2.0;
    let at = |q: f64| means[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Interval {
        mean,
        lo: at(tail),
        hi: at(1.0 - tail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_brackets_the_mean_and_narrows_with_more_data() {
        let noisy: Vec<f64> = (0..40).map(|i| ((i * 37) % 11) as f64 / 10.0).collect();
        let small = mean_interval(&noisy[..10], 1000, 0.95, 0, "x");
        let large = mean_interval(&noisy, 1000, 0.95, 0, "x");
        for i in [small, large] {
            assert!(i.lo < i.mean && i.mean < i.hi, "{i:?}");
        }
        assert!(large.hi - large.lo < small.hi - small.lo);
        // The same stream gives the same interval; another stream another one.
        assert_eq!(mean_interval(&noisy, 1000, 0.95, 0, "x"), large);
        assert_ne!(mean_interval(&noisy, 1000, 0.95, 0, "y"), large);
    }

    #[test]
    fn constant_values_and_nans() {
        let i = mean_interval(&[0.5, 0.5, f64::NAN, 0.5], 200, 0.95, 1, "c");
        assert_eq!((i.mean, i.lo, i.hi), (0.5, 0.5, 0.5));
        assert!(!mean_interval(&[f64::NAN], 200, 0.95, 1, "c").is_finite());
    }
}
