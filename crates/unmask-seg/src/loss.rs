//! The segmentation loss: the report's Dice loss (eq. 1), optionally plus binary cross-entropy.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// Keeps an empty prediction on an empty target from dividing by zero.
pub const DICE_EPS: f32 = 1e-6;

/// Dice loss of eq. 1, `D = 1 - 2 Σ p t / (Σ p² + Σ t² + ε)`, computed per image over its
/// pixels and averaged over the batch. `probs` and `target` are `[N, 1, H, W]`.
pub fn dice_loss<B: Backend>(probs: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    let n = probs.dims()[0];
    let p = probs.reshape([n as i32, -1]);
    let t = target.reshape([n as i32, -1]);
    let overlap = (p.clone() * t.clone()).sum_dim(1);
    let denom = (p.clone() * p).sum_dim(1) + (t.clone() * t).sum_dim(1);
    let dice = overlap.mul_scalar(2.0) / denom.add_scalar(DICE_EPS);
    dice.neg().add_scalar(1.0).mean()
}

/// Binary cross-entropy on logits, averaged over all pixels; stable for large logits.
pub fn bce_with_logits<B: Backend>(logits: Tensor<B, 4>, target: Tensor<B, 4>) -> Tensor<B, 1> {
    // max(x, 0) - x t + log(1 + e^-|x|)
    let positive = logits.clone().clamp_min(0.0);
    let soft = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    (positive - logits * target + soft).mean()
}

/// The training objective: Dice loss plus `bce_weight` times BCE.
pub fn segmentation_loss<B: Backend>(
    logits: Tensor<B, 4>,
    target: Tensor<B, 4>,
    bce_weight: f32,
) -> Tensor<B, 1> {
    let probs = burn::tensor::activation::sigmoid(logits.clone());
    let dice = dice_loss(probs, target.clone());
    if bce_weight > 0.0 {
        dice + bce_with_logits(logits, target).mul_scalar(bce_weight)
    } else {
        dice
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    fn t(v: Vec<f32>) -> Tensor<Flex, 4> {
        Tensor::from_data(TensorData::new(v, [1, 1, 2, 2]), &Default::default())
    }

    #[test]
    fn dice_loss_matches_hand_computation() {
        // p = [0.9, 0.2, 0.6, 0.0], t = [1, 0, 1, 0]
        // Σpt = 1.5, Σp² = 0.81 + 0.04 + 0.36 = 1.21, Σt² = 2
        // D = 1 - 3 / 3.21 = 0.065420560...
        let d = dice_loss(t(vec![0.9, 0.2, 0.6, 0.0]), t(vec![1.0, 0.0, 1.0, 0.0]));
        let got = d.into_scalar();
        assert!((got - (1.0 - 3.0 / 3.21)).abs() < 1e-5, "{got}");
    }

    #[test]
    fn perfect_prediction_has_zero_loss() {
        let m = vec![1.0, 0.0, 1.0, 1.0];
        assert!(dice_loss(t(m.clone()), t(m)).into_scalar().abs() < 1e-5);
    }

    #[test]
    fn bce_matches_formula() {
        let logits = t(vec![2.0, -1.0, 0.0, 30.0]);
        let target = t(vec![1.0, 0.0, 1.0, 1.0]);
        let sig = |x: f32| 1.0 / (1.0 + (-x).exp());
        let expect = [(2.0, 1.0), (-1.0, 0.0), (0.0, 1.0), (30.0, 1.0)]
            .iter()
            .map(|&(x, y): &(f32, f32)| {
                -(y * sig(x).ln() + (1.0 - y) * (1.0 - sig(x)).max(1e-30).ln())
            })
            .sum::<f32>()
            / 4.0;
        let got = bce_with_logits(logits, target).into_scalar();
        assert!((got - expect).abs() < 1e-4, "{got} vs {expect}");
    }
}
