//! LPIPS-alex on 256x256 image pairs, batch of 8, burn Flex (CPU): on the crate's CPU kernels
//! (what `Lpips::distance` runs on Flex) and on burn's own convolutions. Needs the alexnet
//! weights (UNMASK_CACHE). Throughput is reported in pairs per second.

// The test helpers make the same deterministic image batches the tests use.
#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use unmask_metrics::{to_vec, Lpips, LpipsNet};
use unmask_weights::{Asset, WeightStore};

const BATCH: usize = 8;
const SIZE: usize = 256;

fn bench(c: &mut Criterion) {
    // The allocator as the binaries set it up, so figures match what a run sees.
    unmask_core::malloc::keep_freed_buffers();
    let store = WeightStore::from_env().expect("weight store (set UNMASK_CACHE)");
    let path = store
        .path(Asset::AlexNetLpips)
        .expect("alexnet LPIPS weights");
    let lpips =
        Lpips::<common::B>::load(LpipsNet::Alex, &path, &Default::default()).expect("loads");
    let (a, b) = (
        common::random_images(BATCH, SIZE, SIZE, 1),
        common::random_images(BATCH, SIZE, SIZE, 2),
    );
    let mut group = c.benchmark_group("lpips_alex");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    group.bench_function("256x256_batch8", |bench| {
        bench.iter(|| to_vec(lpips.distance(a.clone(), b.clone())))
    });
    let burn = lpips
        .with_burn_convolutions(&Default::default())
        .expect("weights load");
    group.bench_function("256x256_batch8_burn_convolutions", |bench| {
        bench.iter(|| to_vec(burn.distance(a.clone(), b.clone())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
