//! burn draws initial weights from a process-wide generator per backend. Seeding it and
//! drawing the weights must happen as one step, or two trainings in one process (tests, the
//! ablation) would interleave their draws.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use std::sync::Mutex;

static INIT: Mutex<()> = Mutex::new(());

/// Runs `init` with the backend generator seeded to `seed`, exclusively, and draws every
/// weight before the lock is released.
pub fn seeded<B: Backend, M: Module<B>>(
    device: &B::Device,
    seed: u64,
    init: impl FnOnce() -> M,
) -> M {
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    B::seed(device, seed);
    let module = init();
    // burn's parameters are lazy: `init` only records how to draw them, and the draw happens
    // on first use, which would be outside the lock.
    module.visit(&mut DrawWeights);
    module
}

struct DrawWeights;

impl<B: Backend> ModuleVisitor<B> for DrawWeights {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;

    type B = burn::backend::Flex;

    /// The weights come from the seed alone, even when another draw from the same generator
    /// happens between initialisation and first use.
    #[test]
    fn weights_are_drawn_inside_the_lock() {
        let device = Default::default();
        let weights = |disturb: bool| {
            let layer = seeded::<B, _>(&device, 7, || LinearConfig::new(16, 16).init(&device));
            if disturb {
                B::seed(&device, 99);
                let _ = Tensor::<B, 1>::random([64], burn::tensor::Distribution::Default, &device);
            }
            layer.weight.val().into_data().to_vec::<f32>().unwrap()
        };
        assert_eq!(weights(false), weights(true));
    }
}
