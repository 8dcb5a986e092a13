//! One autodiff user at a time per process.
//!
//! burn 0.21's autodiff keeps every graph in one process-wide registry, and each `backward()`
//! ends by sweeping that registry for steps nothing uses any more. A step that another thread
//! is still registering (a `cat` on a leaf that went through an earlier backward) can look
//! unused at that moment and is freed; that thread's leaf then silently gets no gradient
//! (tracel-ai/burn#5573, fixed after 0.21). Two trainings in one process, as the tests run
//! them, would then learn different weights from run to run, so each holds this turn.

use std::sync::{Mutex, MutexGuard};

static TURN: Mutex<()> = Mutex::new(());

/// Waits for the process's autodiff turn and holds it until the guard drops. Not re-entrant:
/// code holding it must not ask again.
pub fn exclusive() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceKind, TrainJob};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use unmask_kernels::TrainingBackend;

    struct MarkRan(Arc<AtomicBool>);

    impl TrainJob for MarkRan {
        type Output = ();
        fn run<B: TrainingBackend>(self, _device: B::Device) -> anyhow::Result<()> {
            self.0.store(true, Ordering::SeqCst);
            Ok(())
        }
    }

    /// A training launched while another holds the turn starts only once the turn is free.
    #[test]
    fn a_launched_training_waits_for_the_turn() {
        let tmp = tempfile::tempdir().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let turn = exclusive();
        let job = MarkRan(ran.clone());
        let out = tmp.path().to_path_buf();
        let training =
            std::thread::spawn(move || crate::trainer::launch(DeviceKind::Cpu, &out, job));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            !ran.load(Ordering::SeqCst),
            "the job ran while the turn was held"
        );
        drop(turn);
        training.join().unwrap().unwrap();
        assert!(ran.load(Ordering::SeqCst));
    }
}
