//! The exponential moving average of the generator's weights (StyleGAN's `G_ema`), which is
//! what samples, evaluation and pSp use.

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
