//! LPIPS-alex on 256x256 image pairs, batch of 8, burn Flex (CPU). Needs the alexnet weights
//! (UNMASK_CACHE). Throughput is reported in pairs per second.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use unmask_metrics::{to_vec, Lpips, LpipsNet};
use unmask_weights::{Asset, WeightStore};

const BATCH: usize = 8;
const SIZE: usize = 256;

fn images(seed: u64) -> Tensor<Flex, 4> {
    let mut s = seed;
    let v: Vec<f32> = (0..BATCH * 3 * SIZE * SIZE)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    Tensor::from_data(
        TensorData::new(v, [BATCH, 3, SIZE, SIZE]),
        &burn::backend::flex::FlexDevice,
    )
}

fn bench(c: &mut Criterion) {
    let store = WeightStore::from_env().expect("weight store (set UNMASK_CACHE)");
    let path = store
        .path(Asset::AlexNetLpips)
        .expect("alexnet LPIPS weights");
    let lpips = Lpips::<Flex>::load(LpipsNet::Alex, &path, &Default::default()).expect("loads");
    let (a, b) = (images(1), images(2));
    let mut group = c.benchmark_group("lpips_alex");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    group.bench_function("256x256_batch8", |bench| {
        bench.iter(|| to_vec(lpips.distance(a.clone(), b.clone())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
