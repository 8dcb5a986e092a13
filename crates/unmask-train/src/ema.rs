//! The exponential moving average of a generator's weights (StyleGAN's `G_ema`): the
//! average of the last steps' weights draws better than the last step's, which a GAN's
//! adversarial updates leave noisy. StyleGAN2's samples, evaluation and pSp use it, and the
//! inpainting GAN can (`ema_images`).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// The decay per step: the average's half-life is `half_life_images` images, shortened to
/// `rampup * images_seen` early in training (StyleGAN2's `ema_kimg` and `ema_rampup`).
pub fn decay(batch: usize, images_seen: u64, half_life_images: f64, rampup: Option<f64>) -> f64 {
    let mut half_life = half_life_images;
    if let Some(r) = rampup {
        half_life = half_life.min(images_seen as f64 * r);
    }
    0.5f64.powf(batch as f64 / half_life.max(1e-8))
}

/// Every float parameter of a module, flattened, in visiting order.
struct Collect<B: Backend> {
    values: Vec<Tensor<B, 1>>,
}

impl<B: Backend> ModuleVisitor<B> for Collect<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        let count = value.shape().num_elements();
        self.values.push(value.reshape([count]));
    }
}

/// `beta * average + (1 - beta) * current`, parameter by parameter in visiting order.
struct Blend<B: Backend> {
    current: std::vec::IntoIter<Tensor<B, 1>>,
    beta: f64,
}

impl<B: Backend> ModuleMapper<B> for Blend<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, average, mapper) = param.consume();
        let current = self
            .current
            .next()
            .expect("the average and the current module have the same parameters");
        let blended = average.clone().mul_scalar(self.beta)
            + current.reshape(average.shape()).mul_scalar(1.0 - self.beta);
        Param::from_mapped_value(id, blended, mapper)
    }
}

/// `average` moved towards `current` (a module of the same structure) with decay `beta`.
pub fn update<B: Backend, M: Module<B>>(average: M, current: &M, beta: f64) -> M {
    let mut collect = Collect { values: Vec::new() };
    current.visit(&mut collect);
    let mut blend = Blend {
        current: collect.values.into_iter(),
        beta,
    };
    average.map(&mut blend)
}

#[cfg(test)]
mod tests {
    use super::{decay, update};
    use burn::module::{Module, Param};
    use burn::tensor::{Tensor, TensorData};

    type B = burn::backend::Flex;

    #[derive(Module, Debug)]
    struct Pair<B: burn::tensor::backend::Backend> {
        a: Param<Tensor<B, 1>>,
        b: Param<Tensor<B, 2>>,
    }

    fn pair(a: [f32; 2], b: [f32; 4]) -> Pair<B> {
        let device = Default::default();
        Pair {
            a: Param::from_tensor(Tensor::from_data(TensorData::from(a), &device)),
            b: Param::from_tensor(
                Tensor::<B, 1>::from_data(TensorData::from(b), &device).reshape([2, 2]),
            ),
        }
    }

    #[test]
    fn update_blends_every_parameter_by_beta() {
        let average = pair([1.0, 2.0], [0.0, 0.0, 4.0, 8.0]);
        let current = pair([3.0, 2.0], [4.0, 4.0, 0.0, 8.0]);
        let blended = update(average, &current, 0.75);
        let a = blended.a.val().into_data().to_vec::<f32>().unwrap();
        let b = blended.b.val().into_data().to_vec::<f32>().unwrap();
        assert_eq!(a, vec![1.5, 2.0]);
        assert_eq!(b, vec![1.0, 1.0, 3.0, 8.0]);
    }

    #[test]
    fn the_half_life_halves_the_old_weights_and_ramps_up() {
        // 125 steps of 8 images over a half-life of 1,000 images leave half the old weights.
        let beta = decay(8, 1_000_000, 1000.0, None);
        assert!((beta.powi(125) - 0.5).abs() < 1e-12, "{beta}");
        // Early on, a 0.1 ramp-up caps the half-life at a tenth of the images seen.
        assert_eq!(
            decay(8, 800, 1000.0, Some(0.1)),
            decay(8, 1_000_000, 80.0, None)
        );
        assert!(decay(8, 80, 1000.0, Some(0.1)) < decay(8, 800, 1000.0, Some(0.1)));
    }
}
