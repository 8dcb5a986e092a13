//! Layer forms that keep burn-flex on its fast paths.
//!
//! burn-flex 0.21 runs a binary op whose operands broadcast in more than two dimensions
//! element by element on one thread (`StridedIter`), which made BatchNorm's
//! `x - mean.reshape([1, C, 1, 1])` most of a UNet training step. The same arithmetic on
//! `[N*C, H*W]` views with `[N*C, 1]` operands takes its row-wise 2-D path instead.

use burn::nn::norm::BatchNorm;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// Per-channel values `[C]` as one row per (sample, channel): `[N*C, 1]`.
pub fn channel_rows<B: Backend>(values: Tensor<B, 1>, n: usize) -> Tensor<B, 2> {
    let c = values.dims()[0];
    values.reshape([1, c]).repeat_dim(0, n).reshape([n * c, 1])
}

/// Per-(sample, channel) values `[N, C]` as `[N*C, 1]`.
fn rows_of<B: Backend>(values: Tensor<B, 2>) -> Tensor<B, 2> {
    let [n, c] = values.dims();
    values.reshape([n * c, 1])
}

/// burn's `BatchNorm::forward` for `[N, C, H, W]` (batch statistics and running-state update
/// when autodiff is on, running statistics otherwise), computed on 2-D views.
pub fn batch_norm<B: Backend>(bn: &BatchNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let device = x.device();
    let flat = x.reshape([n * c, h * w]);
    let (centered, var) = if B::ad_enabled(&device) {
        let mean = flat
            .clone()
            .mean_dim(1)
            .reshape([n, c])
            .mean_dim(0)
            .reshape([c]);
        let centered = flat - channel_rows(mean.clone(), n);
        let var = centered
            .clone()
            .square()
            .mean_dim(1)
            .reshape([n, c])
            .mean_dim(0)
            .reshape([c]);
        let m = bn.momentum;
        let running_mean = bn.running_mean.value_sync().to_device(&device);
        let running_var = bn.running_var.value_sync().to_device(&device);
        bn.running_mean
            .update((running_mean.mul_scalar(1.0 - m) + mean.detach().mul_scalar(m)).detach());
        bn.running_var.update(
            (running_var.mul_scalar(1.0 - m) + var.clone().detach().mul_scalar(m)).detach(),
        );
        (centered, var)
    } else {
        let mean = bn.running_mean.value().to_device(&device);
        let var = bn.running_var.value().to_device(&device);
        (flat - channel_rows(mean, n), var)
    };
    let scale = bn.gamma.val() / var.add_scalar(bn.epsilon).sqrt();
    (centered * channel_rows(scale, n) + channel_rows(bn.beta.val(), n)).reshape([n, c, h, w])
}

/// `x * m` for `x` `[N, C, H, W]` and a one-channel `m` `[N, 1, H, W]` (a mask applied to every
/// channel). One sample is a `[1, C, H*W]` by `[1, 1, H*W]` product, which burn-flex runs as a
/// shared-row broadcast in place; for more, `m` is materialised per channel so both operands
/// are contiguous (a batch dimension takes the broadcast off that path).
pub fn mul_mask<B: Backend>(x: Tensor<B, 4>, m: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    if n == 1 {
        return (x.reshape([1, c, h * w]) * m.reshape([1, 1, h * w])).reshape([n, c, h, w]);
    }
    x * m.repeat_dim(1, c)
}

/// Per-sample, per-channel scale and shift `[N, C]` applied to `[N, C, H, W]`.
pub fn scale_shift<B: Backend>(
    x: Tensor<B, 4>,
    scale: Tensor<B, 2>,
    shift: Tensor<B, 2>,
) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    (x.reshape([n * c, h * w]) * rows_of(scale) + rows_of(shift)).reshape([n, c, h, w])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::nn::norm::BatchNormConfig;
    use burn::tensor::{Distribution, Tolerance};

    #[test]
    fn batch_norm_matches_burn() {
        type A = Autodiff<Flex>;
        let device = Default::default();
        // Drawn under the seed lock: an unlocked draw could land inside another test's
        // seeded initialisation (`seed::without_seeding`).
        let x = crate::seed::without_seeding(|| {
            Tensor::<A, 4>::random([3, 4, 5, 6], Distribution::Normal(1.0, 2.0), &device)
        });
        let ours = BatchNormConfig::new(4).init::<A>(&device);
        let theirs = ours.clone();
        for _ in 0..2 {
            let a = batch_norm(&ours, x.clone());
            let b = theirs.forward(x.clone());
            a.into_data()
                .assert_approx_eq::<f32>(&b.into_data(), Tolerance::absolute(1e-4));
        }
        ours.running_var
            .value()
            .into_data()
            .assert_approx_eq::<f32>(
                &theirs.running_var.value().into_data(),
                Tolerance::absolute(1e-5),
            );
        // Inference uses the running statistics, like burn's.
        let xi = x.inner();
        let a = batch_norm(&burn::module::AutodiffModule::valid(&ours), xi.clone());
        let b = burn::module::AutodiffModule::valid(&theirs).forward(xi);
        a.into_data()
            .assert_approx_eq::<f32>(&b.into_data(), Tolerance::absolute(1e-4));
    }

    #[test]
    fn mul_mask_matches_a_plain_broadcast_with_gradients() {
        let _turn = crate::autodiff::exclusive();
        type A = Autodiff<Flex>;
        let device = Default::default();
        for n in [1, 3] {
            let (x, m, weights) = crate::seed::without_seeding(|| {
                let random =
                    |c| Tensor::<A, 4>::random([n, c, 5, 6], Distribution::Default, &device);
                (
                    random(4).require_grad(),
                    random(1).require_grad(),
                    random(4),
                )
            });
            let ours = mul_mask(x.clone(), m.clone());
            let theirs = x.clone() * m.clone();
            ours.to_data()
                .assert_approx_eq::<f32>(&theirs.to_data(), Tolerance::absolute(1e-6));
            let g_ours = (ours * weights.clone()).sum().backward();
            let g_theirs = (theirs * weights).sum().backward();
            for t in [&x, &m] {
                t.grad(&g_ours)
                    .unwrap()
                    .into_data()
                    .assert_approx_eq::<f32>(
                        &t.grad(&g_theirs).unwrap().into_data(),
                        Tolerance::absolute(1e-5),
                    );
            }
        }
    }
}
