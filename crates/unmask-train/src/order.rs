//! Which samples make up each batch. The order of epoch `e` depends only on `(seed, e)`, so a
//! run resumed at any step draws exactly the batches an uninterrupted run would.

use rand::seq::SliceRandom;

/// A shuffled permutation of `0..n` for `epoch`.
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = unmask_core::rng::sample_rng(seed, "epoch-order", epoch);
    order.shuffle(&mut rng);
    order
}

/// Batches per epoch: every sample is seen once; the last batch may be smaller.
pub fn steps_per_epoch(n: usize, batch_size: usize) -> u64 {
    n.div_ceil(batch_size.max(1)) as u64
}

/// How many steps a run takes: whole epochs over `n` samples, capped by `max_steps`.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub per_epoch: u64,
    pub total: u64,
}

impl Schedule {
    pub fn new(n: usize, batch_size: usize, epochs: u64, max_steps: Option<u64>) -> Self {
        let per_epoch = steps_per_epoch(n, batch_size);
        let total = max_steps.map_or(epochs * per_epoch, |m| m.min(epochs * per_epoch));
        Self { per_epoch, total }
    }

    pub fn epoch_of(&self, step: u64) -> u64 {
        step / self.per_epoch
    }

    /// Whether `done` steps complete an epoch (or the run).
    pub fn epoch_end(&self, done: u64) -> bool {
        done % self.per_epoch == 0 || done == self.total
    }

    /// The steps this session runs: from `start` to the end, or to `stop_after`.
    pub fn session(&self, start: u64, stop_after: Option<u64>) -> std::ops::Range<u64> {
        start
            ..stop_after
                .map_or(self.total, |s| s.min(self.total))
                .max(start)
    }
}

/// The sample indices of global step `step`.
pub fn batch_indices(n: usize, batch_size: usize, seed: u64, step: u64) -> (u64, Vec<usize>) {
    let per_epoch = steps_per_epoch(n, batch_size);
    let epoch = step / per_epoch;
    let within = (step % per_epoch) as usize;
    let order = epoch_order(n, seed, epoch);
    let start = within * batch_size;
    let end = (start + batch_size).min(n);
    (epoch, order[start..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_once_per_epoch() {
        let n = 10;
        let mut seen: Vec<usize> = (0..steps_per_epoch(n, 3))
            .flat_map(|s| batch_indices(n, 3, 7, s).1)
            .collect();
        seen.sort();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn epochs_differ_and_repeat() {
        assert_ne!(epoch_order(50, 1, 0), epoch_order(50, 1, 1));
        assert_eq!(epoch_order(50, 1, 3), epoch_order(50, 1, 3));
        assert_eq!(batch_indices(10, 4, 1, 3).0, 1);
    }
}
