//! Depthwise 2-D convolution (groups = channels, one `kh x kw` filter per channel) on NCHW
//! `f32` data and its gradients, directly: one task per (sample, channel) plane, or per
//! channel for the weight gradient, each summing in a fixed order.

use rayon::prelude::*;

use super::conv::ConvGeometry;

/// One kernel tap `(ky, kx)`: the `(output row, input row)` pairs inside the image, the
/// output columns `lo..hi` whose input column is inside it, and the tap's column offset.
type Tap = (usize, usize, Vec<(usize, usize)>, usize, usize, usize);

fn taps(g: &ConvGeometry) -> Vec<Tap> {
    let mut out = Vec::new();
    for ky in 0..g.kh {
        for kx in 0..g.kw {
            let rows: Vec<(usize, usize)> = (0..g.oh)
                .filter_map(|oy| {
                    let iy =
                        (oy * g.stride[0] + ky * g.dilation[0]) as isize - g.padding[0] as isize;
                    (0..g.h as isize).contains(&iy).then_some((oy, iy as usize))
                })
                .collect();
            let off = kx * g.dilation[1];
            let lo = g.padding[1].saturating_sub(off).div_ceil(g.stride[1]);
            let hi = if g.w + g.padding[1] > off {
                (g.w + g.padding[1] - off).div_ceil(g.stride[1]).min(g.ow)
            } else {
                0
            };
            out.push((ky, kx, rows, lo.min(hi), hi, off));
        }
    }
    out
}

/// `y [b, c, oh, ow]` from `x [b, c, h, w]`, `weight [c, 1, kh, kw]`.
pub fn forward(g: &ConvGeometry, x: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (plane_in, plane_out, c) = (g.h * g.w, g.oh * g.ow, g.cin);
    let taps = taps(g);
    let mut y = vec![0f32; g.batch * c * plane_out];
    y.par_chunks_mut(plane_out.max(1))
        .enumerate()
        .for_each(|(bc, out)| {
            let ch = bc % c;
            let src = &x[bc * plane_in..][..plane_in];
            let filter = &weight[ch * g.kh * g.kw..][..g.kh * g.kw];
            out.fill(bias.map_or(0.0, |b| b[ch]));
            for (ky, kx, rows, lo, hi, off) in &taps {
                let w = filter[ky * g.kw + kx];
                for &(oy, iy) in rows {
                    let row = &src[iy * g.w..][..g.w];
                    let dst = &mut out[oy * g.ow..][..g.ow];
                    if *lo >= *hi {
                        continue;
                    }
                    let first = *lo * g.stride[1] + off - g.padding[1];
                    if g.stride[1] == 1 {
                        axpy(&mut dst[*lo..*hi], &row[first..first + (*hi - *lo)], w);
                    } else {
                        for (o, d) in dst[*lo..*hi].iter_mut().enumerate() {
                            *d += w * row[first + o * g.stride[1]];
                        }
                    }
                }
            }
        });
    y
}

/// `dx [b, c, h, w]` from `dy [b, c, oh, ow]`.
pub fn input_grad(g: &ConvGeometry, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let (plane_in, plane_out, c) = (g.h * g.w, g.oh * g.ow, g.cin);
    let taps = taps(g);
    let mut dx = vec![0f32; g.batch * c * plane_in];
    dx.par_chunks_mut(plane_in.max(1))
        .enumerate()
        .for_each(|(bc, out)| {
            let ch = bc % c;
            let grad = &dy[bc * plane_out..][..plane_out];
            let filter = &weight[ch * g.kh * g.kw..][..g.kh * g.kw];
            for (ky, kx, rows, lo, hi, off) in &taps {
                let w = filter[ky * g.kw + kx];
                for &(oy, iy) in rows {
                    let src = &grad[oy * g.ow..][..g.ow];
                    let dst = &mut out[iy * g.w..][..g.w];
                    if *lo >= *hi {
                        continue;
                    }
                    let first = *lo * g.stride[1] + off - g.padding[1];
                    if g.stride[1] == 1 {
                        axpy(&mut dst[first..first + (*hi - *lo)], &src[*lo..*hi], w);
                    } else {
                        for (o, v) in src[*lo..*hi].iter().enumerate() {
                            dst[first + o * g.stride[1]] += w * v;
                        }
                    }
                }
            }
        });
    dx
}

/// `dweight [c, 1, kh, kw]`.
pub fn weight_grad(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (plane_in, plane_out, c) = (g.h * g.w, g.oh * g.ow, g.cin);
    let taps = taps(g);
    let mut dw = vec![0f32; c * g.kh * g.kw];
    dw.par_chunks_mut(g.kh * g.kw)
        .enumerate()
        .for_each(|(ch, filter)| {
            for b in 0..g.batch {
                let src = &x[(b * c + ch) * plane_in..][..plane_in];
                let grad = &dy[(b * c + ch) * plane_out..][..plane_out];
                for (ky, kx, rows, lo, hi, off) in &taps {
                    let mut sum = 0f32;
                    for &(oy, iy) in rows {
                        let row = &src[iy * g.w..][..g.w];
                        let gr = &grad[oy * g.ow..][..g.ow];
                        for ox in *lo..*hi {
                            sum += gr[ox] * row[ox * g.stride[1] + off - g.padding[1]];
                        }
                    }
                    filter[ky * g.kw + kx] += sum;
                }
            }
        });
    dw
}

/// `dst += w * src`, element by element (a loop the compiler vectorises).
fn axpy(dst: &mut [f32], src: &[f32], w: f32) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += w * s;
    }
}
