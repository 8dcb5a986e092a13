//! Face generation throughput: rendering alone, and the dataset stage end to end (PNG writes
//! and manifest included). The goal: 10,000 faces at 256x256 in at most 60 s on 2 cores.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use unmask_faces::synthetic::generate_face;
use unmask_faces::{generate, FacesConfig};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("faces");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    g.bench_function("render_one_256", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            generate_face(0, i, 256)
        })
    });
    let n = 500;
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("dataset_500_at_256_with_png_writes", |b| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = FacesConfig {
            count: n,
            size: 256,
            preview_count: 8,
            ..Default::default()
        };
        b.iter(|| generate(&cfg, dir.path()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
