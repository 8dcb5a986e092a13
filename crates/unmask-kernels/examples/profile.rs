//! GFLOP/s of the dense convolution kernels for one shape, to find where a step's time goes:
//! `cargo run --profile dev -p unmask-kernels --example profile -- BATCH CIN SIZE COUT K DILATION`
//! (stride 1, "same" padding). Benchmarks with burn's ops beside them are in `benches/`.

use std::time::Instant;
use unmask_kernels::cpu::conv::{self, ConvGeometry};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse()
                .expect("six whole numbers: BATCH CIN SIZE COUT K DILATION")
        })
        .collect();
    let [b, cin, h, cout, k, d] = args[..] else {
        panic!("usage: profile BATCH CIN SIZE COUT K DILATION");
    };
    let g = ConvGeometry::new(
        [b, cin, h, h],
        [cout, cin, k, k],
        [1, 1],
        [d * (k - 1) / 2; 2],
        [d, d],
    );
    let x: Vec<f32> = (0..b * cin * h * h).map(|i| (i % 7) as f32 * 0.1).collect();
    let w: Vec<f32> = (0..cout * cin * k * k)
        .map(|i| (i % 5) as f32 * 0.1)
        .collect();
    let dy: Vec<f32> = (0..b * cout * g.oh * g.ow)
        .map(|i| (i % 3) as f32 * 0.1)
        .collect();
    let flops = 2.0 * (b * cout * g.oh * g.ow * cin * k * k) as f64;
    let time = |f: &dyn Fn()| {
        f();
        let start = Instant::now();
        for _ in 0..5 {
            f();
        }
        start.elapsed().as_secs_f64() / 5.0
    };
    let forward = time(&|| drop(std::hint::black_box(conv::forward(&g, &x, &w, None))));
    let input = time(&|| drop(std::hint::black_box(conv::input_grad(&g, &w, &dy))));
    let weight = time(&|| drop(std::hint::black_box(conv::weight_grad(&g, &x, &dy))));
    for (name, t) in [
        ("forward", forward),
        ("input grad", input),
        ("weight grad", weight),
    ] {
        println!("{name}: {:.1} ms ({:.0} GFLOP/s)", t * 1e3, flops / t / 1e9);
    }
}
