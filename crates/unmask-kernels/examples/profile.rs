use std::time::Instant;
use unmask_kernels::cpu::conv::{self, ConvGeometry};
fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (b, cin, h, cout, k, d) = (args[0], args[1], args[2], args[3], args[4], args[5]);
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
    use unmask_kernels::cpu::gemm::{gemm, Threads, View};
    for (m, kk, n, th) in [
        (32usize, 288usize, 1820usize, Threads::One),
        (1820, 288, 32, Threads::One),
        (288, 1820, 32, Threads::One),
        (32, 1820, 288, Threads::One),
        (288, 32, 1820, Threads::One),
        (1820, 32, 288, Threads::One),
        (1820, 288, 32, Threads::All),
    ] {
        let a = vec![0.5f32; m * kk];
        let bb = vec![0.25f32; kk * n];
        let mut c = vec![0f32; m * n];
        let t = Instant::now();
        for _ in 0..20 {
            gemm(
                &mut c,
                n,
                View::rows(&a, kk),
                View::rows(&bb, n),
                m,
                kk,
                n,
                false,
                th,
            );
        }
        let e = t.elapsed().as_secs_f64() / 20.0;
        println!(
            "gemm {m}x{kk}x{n}: {:.0} GFLOP/s",
            2.0 * (m * kk * n) as f64 / e / 1e9
        );
    }
    {
        let (m, kk, n) = (1820usize, 288usize, 32usize);
        let a = vec![0.5f32; m * kk];
        let bb = vec![0.25f32; kk * n];
        let t = Instant::now();
        rayon::join(
            || {
                let mut c = vec![0f32; m * n];
                for _ in 0..40 {
                    gemm(
                        &mut c,
                        n,
                        View::rows(&a, kk),
                        View::rows(&bb, n),
                        m,
                        kk,
                        n,
                        false,
                        Threads::One,
                    );
                }
            },
            || {
                let mut c = vec![0f32; m * n];
                for _ in 0..40 {
                    gemm(
                        &mut c,
                        n,
                        View::rows(&a, kk),
                        View::rows(&bb, n),
                        m,
                        kk,
                        n,
                        false,
                        Threads::One,
                    );
                }
            },
        );
        let e = t.elapsed().as_secs_f64() / 80.0;
        println!(
            "two concurrent gemm {m}x{kk}x{n}: {:.0} GFLOP/s total",
            2.0 * (m * kk * n) as f64 / e / 1e9
        );
    }
    for _ in 0..2 {
        let t = Instant::now();
        let n = 5;
        for _ in 0..n {
            std::hint::black_box(conv::forward(&g, &x, &w, None));
        }
        let f = t.elapsed().as_secs_f64() / n as f64;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(conv::input_grad(&g, &w, &dy));
        }
        let xi = t.elapsed().as_secs_f64() / n as f64;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(conv::weight_grad(&g, &x, &dy));
        }
        let wg = t.elapsed().as_secs_f64() / n as f64;
        println!("forward {:.1} ms ({:.0} GFLOP/s)  input grad {:.1} ms ({:.0})  weight grad {:.1} ms ({:.0})",
            f * 1e3, flops / f / 1e9, xi * 1e3, flops / xi / 1e9, wg * 1e3, flops / wg / 1e9);
    }
}
#[allow(dead_code)]
fn unused() {}
