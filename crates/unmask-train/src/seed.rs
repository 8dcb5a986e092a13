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

/// Runs `f` holding the lock [`seeded`] holds, without seeding: for work whose draws from the
/// backend generator are thrown away, but would otherwise land inside another thread's seeded
/// initialisation and change its weights. Loading a record is such work: burn's
/// `Option<Module>::load_record` counts the parameters first, which draws every lazy weight
/// that the record then replaces.
pub fn without_seeding<R>(f: impl FnOnce() -> R) -> R {
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f()
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

    /// Loading a module waits while a seeded initialisation holds the lock: its throwaway
    /// draws would otherwise shift that initialisation's.
    #[test]
    fn loading_waits_for_a_seeded_initialisation() {
        let tmp = tempfile::tempdir().unwrap();
        let device = Default::default();
        let layer = || burn::nn::conv::Conv2dConfig::new([2, 2], [3, 3]).init::<B>(&device);
        let saved = seeded::<B, _>(&device, 3, layer);
        let bytes = crate::checkpoint::record_bytes::<B, _>(saved.clone().into_record()).unwrap();
        std::fs::write(tmp.path().join("w.bin"), bytes).unwrap();

        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let held = INIT.lock().unwrap();
        let loading = {
            let (done, dir) = (done.clone(), tmp.path().to_path_buf());
            std::thread::spawn(move || {
                let device = Default::default();
                let module = burn::nn::conv::Conv2dConfig::new([2, 2], [3, 3]).init::<B>(&device);
                let loaded = crate::models::load_weights(module, &dir, "w.bin", &device).unwrap();
                done.store(true, std::sync::atomic::Ordering::SeqCst);
                loaded
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            !done.load(std::sync::atomic::Ordering::SeqCst),
            "loaded while a seeded init ran"
        );
        drop(held);
        let loaded = loading.join().unwrap();
        assert_eq!(
            loaded.weight.val().into_data().to_vec::<f32>().unwrap(),
            saved.weight.val().into_data().to_vec::<f32>().unwrap()
        );
    }
}
