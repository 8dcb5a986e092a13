//! Transposed 2-D convolution whose kernel equals its stride (no padding, dilation or groups),
//! the UNet's 2x2 / stride-2 upsampling: every input pixel paints its own `k x k` output block,
//! so the op is one GEMM per sample plus a scatter, and its gradients a gather plus one GEMM.
//! `x [b, cin, h, w]`, `weight [cin, cout, k, k]`, `y [b, cout, h k, w k]`.

use rayon::prelude::*;

use super::conv::sum_in_order;
use super::gemm::{gemm, Threads, View};

#[derive(Clone, Copy, Debug)]
pub struct Blocks {
    pub batch: usize,
    pub cin: usize,
    pub cout: usize,
    pub h: usize,
    pub w: usize,
    pub k: usize,
}

impl Blocks {
    fn cols(&self) -> usize {
        self.cout * self.k * self.k
    }
    fn out_plane(&self) -> usize {
        self.h * self.w * self.k * self.k
    }
}

/// Scatters `t [cout*k*k x h*w]` (row `(co, ky, kx)`) into `y [cout, h k, w k]`.
fn scatter(s: &Blocks, t: &[f32], y: &mut [f32], bias: Option<&[f32]>) {
    let (k, hw) = (s.k, s.h * s.w);
    let ow = s.w * k;
    y.par_chunks_mut(s.out_plane())
        .enumerate()
        .for_each(|(co, plane)| {
            let b = bias.map_or(0.0, |b| b[co]);
            for ky in 0..k {
                for kx in 0..k {
                    let src = &t[((co * k + ky) * k + kx) * hw..][..hw];
                    for i in 0..s.h {
                        let row = &mut plane[(i * k + ky) * ow..][..ow];
                        for j in 0..s.w {
                            row[j * k + kx] = src[i * s.w + j] + b;
                        }
                    }
                }
            }
        });
}

/// The transpose of [`scatter`]: `dy [cout, h k, w k]` to `g [cout*k*k x h*w]`.
fn gather(s: &Blocks, dy: &[f32]) -> Vec<f32> {
    let (k, hw) = (s.k, s.h * s.w);
    let ow = s.w * k;
    let mut g = vec![0f32; s.cols() * hw];
    g.par_chunks_mut(hw).enumerate().for_each(|(r, dst)| {
        let (co, ky, kx) = (r / (k * k), (r / k) % k, r % k);
        let plane = &dy[co * s.out_plane()..][..s.out_plane()];
        for i in 0..s.h {
            let row = &plane[(i * k + ky) * ow..][..ow];
            for j in 0..s.w {
                dst[i * s.w + j] = row[j * k + kx];
            }
        }
    });
    g
}

pub fn forward(s: &Blocks, x: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let hw = s.h * s.w;
    let mut y = vec![0f32; s.batch * s.cout * s.out_plane()];
    let mut t = vec![0f32; s.cols() * hw];
    for (b, out) in y.chunks_mut(s.cout * s.out_plane()).enumerate() {
        // t = weight^T [cout*k*k x cin] x x_b [cin x hw]
        gemm(
            &mut t,
            hw,
            View::transposed(weight, s.cols()),
            View::rows(&x[b * s.cin * hw..][..s.cin * hw], hw),
            s.cols(),
            s.cin,
            hw,
            false,
            Threads::All,
        );
        scatter(s, &t, out, bias);
    }
    y
}

pub fn input_grad(s: &Blocks, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let hw = s.h * s.w;
    let mut dx = vec![0f32; s.batch * s.cin * hw];
    for (b, out) in dx.chunks_mut(s.cin * hw).enumerate() {
        let g = gather(
            s,
            &dy[b * s.cout * s.out_plane()..][..s.cout * s.out_plane()],
        );
        // dx_b = weight [cin x cout*k*k] x g [cout*k*k x hw]
        gemm(
            out,
            hw,
            View::rows(weight, s.cols()),
            View::rows(&g, hw),
            s.cin,
            s.cols(),
            hw,
            false,
            Threads::All,
        );
    }
    dx
}

pub fn weight_grad(s: &Blocks, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let hw = s.h * s.w;
    let parts: Vec<Vec<f32>> = (0..s.batch)
        .map(|b| {
            let g = gather(
                s,
                &dy[b * s.cout * s.out_plane()..][..s.cout * s.out_plane()],
            );
            let mut dw = vec![0f32; s.cin * s.cols()];
            // dw += x_b [cin x hw] x g^T [hw x cout*k*k]
            gemm(
                &mut dw,
                s.cols(),
                View::rows(&x[b * s.cin * hw..][..s.cin * hw], hw),
                View::transposed(&g, hw),
                s.cin,
                hw,
                s.cols(),
                false,
                Threads::All,
            );
            dw
        })
        .collect();
    sum_in_order(parts)
}
