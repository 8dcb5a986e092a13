//! burn draws initial weights from a process-wide generator per backend. Seeding it and
//! initialising must happen as one step, or two trainings in one process (tests, the ablation)
//! would interleave their draws.

use burn::tensor::backend::Backend;
use std::sync::Mutex;

static INIT: Mutex<()> = Mutex::new(());

/// Runs `init` with the backend generator seeded to `seed`, exclusively.
pub fn seeded<B: Backend, T>(device: &B::Device, seed: u64, init: impl FnOnce() -> T) -> T {
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    B::seed(device, seed);
    init()
}
