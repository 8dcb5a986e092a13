//! Average pooling, max pooling and nearest 2x upsampling on NCHW `f32` planes, with their
//! gradients: one task per (sample, channel) plane.

use rayon::prelude::*;

/// A pooling window: `kernel`, `stride`, zero `padding` (average pooling only), no dilation.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub h: usize,
    pub w: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl Window {
    pub fn out(&self) -> (usize, usize) {
        let o = |size: usize, i: usize| {
            (size + 2 * self.padding[i] - self.kernel[i]) / self.stride[i] + 1
        };
        (o(self.h, 0), o(self.w, 1))
    }

    /// Input rows (or columns) under output `o`, clipped to the image.
    #[inline]
    fn span(&self, o: usize, i: usize, size: usize) -> (usize, usize) {
        let start = (o * self.stride[i]) as isize - self.padding[i] as isize;
        let end = start + self.kernel[i] as isize;
        (
            start.max(0) as usize,
            end.min(size as isize).max(0) as usize,
        )
    }

    /// The divisor of output `(oy, ox)`.
    #[inline]
    fn count(&self, oy: usize, ox: usize, include_pad: bool) -> f32 {
        if include_pad {
            (self.kernel[0] * self.kernel[1]) as f32
        } else {
            let (y0, y1) = self.span(oy, 0, self.h);
            let (x0, x1) = self.span(ox, 1, self.w);
            ((y1 - y0) * (x1 - x0)).max(1) as f32
        }
    }
}

/// Separable: window sums along each input row, then down the columns of those sums. One task
/// per row in both passes, so a single-plane pool (the imputation's mask, at batch 1) uses
/// every core; each output's sum is taken in the same order on any thread count.
pub fn avg_forward(win: &Window, planes: usize, x: &[f32], include_pad: bool) -> Vec<f32> {
    let (oh, ow) = win.out();
    let mut row_sums = vec![0f32; planes * win.h * ow];
    row_sums
        .par_chunks_mut(ow.max(1))
        .enumerate()
        .for_each(|(row, out)| {
            let src = &x[row * win.w..][..win.w];
            for (ox, sum) in out.iter_mut().enumerate() {
                let (x0, x1) = win.span(ox, 1, win.w);
                *sum = src[x0..x1].iter().sum();
            }
        });
    let mut y = vec![0f32; planes * oh * ow];
    y.par_chunks_mut(ow.max(1))
        .enumerate()
        .for_each(|(row, out)| {
            let (plane, oy) = (row / oh, row % oh);
            let sums = &row_sums[plane * win.h * ow..][..win.h * ow];
            let (y0, y1) = win.span(oy, 0, win.h);
            for iy in y0..y1 {
                for (o, s) in out.iter_mut().zip(&sums[iy * ow..][..ow]) {
                    *o += s;
                }
            }
            for (ox, o) in out.iter_mut().enumerate() {
                *o /= win.count(oy, ox, include_pad);
            }
        });
    y
}

pub fn avg_backward(win: &Window, planes: usize, dy: &[f32], include_pad: bool) -> Vec<f32> {
    let (oh, ow) = win.out();
    let mut dx = vec![0f32; planes * win.h * win.w];
    dx.par_chunks_mut((win.h * win.w).max(1))
        .enumerate()
        .for_each(|(i, out)| {
            let grad = &dy[i * oh * ow..][..oh * ow];
            for oy in 0..oh {
                let (y0, y1) = win.span(oy, 0, win.h);
                for ox in 0..ow {
                    let (x0, x1) = win.span(ox, 1, win.w);
                    let g = grad[oy * ow + ox] / win.count(oy, ox, include_pad);
                    for iy in y0..y1 {
                        out[iy * win.w + x0..iy * win.w + x1]
                            .iter_mut()
                            .for_each(|v| *v += g);
                    }
                }
            }
        });
    dx
}

/// The position in the plane of window `(oy, ox)`'s maximum (the first, in row-major order,
/// on ties; NaN wins so it propagates). Max pooling has no padding, so every window lies
/// inside the plane.
fn argmax(win: &Window, src: &[f32], oy: usize, ox: usize) -> usize {
    let (y0, x0) = (oy * win.stride[0], ox * win.stride[1]);
    let mut best = y0 * win.w + x0;
    let mut top = src[best];
    for iy in y0..y0 + win.kernel[0] {
        let row = &src[iy * win.w + x0..][..win.kernel[1]];
        for (j, &v) in row.iter().enumerate() {
            if v > top || (v.is_nan() && !top.is_nan()) {
                best = iy * win.w + x0 + j;
                top = v;
            }
        }
    }
    best
}

pub fn max_forward(win: &Window, planes: usize, x: &[f32]) -> Vec<f32> {
    let (oh, ow) = win.out();
    let mut y = vec![0f32; planes * oh * ow];
    y.par_chunks_mut((oh * ow).max(1))
        .enumerate()
        .for_each(|(i, out)| {
            let src = &x[i * win.h * win.w..][..win.h * win.w];
            for oy in 0..oh {
                for ox in 0..ow {
                    out[oy * ow + ox] = src[argmax(win, src, oy, ox)];
                }
            }
        });
    y
}

/// Each output's gradient goes to its window's maximum in `x`.
pub fn max_backward(win: &Window, planes: usize, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (oh, ow) = win.out();
    let mut dx = vec![0f32; planes * win.h * win.w];
    dx.par_chunks_mut((win.h * win.w).max(1))
        .enumerate()
        .for_each(|(i, out)| {
            let src = &x[i * win.h * win.w..][..win.h * win.w];
            let grad = &dy[i * oh * ow..][..oh * ow];
            for oy in 0..oh {
                for ox in 0..ow {
                    out[argmax(win, src, oy, ox)] += grad[oy * ow + ox];
                }
            }
        });
    dx
}

/// `[planes, h, w]` to `[planes, 2h, 2w]`, each pixel repeated over a 2x2 block.
pub fn upsample2x(planes: usize, h: usize, w: usize, x: &[f32]) -> Vec<f32> {
    let mut y = vec![0f32; planes * 4 * h * w];
    y.par_chunks_mut((4 * h * w).max(1))
        .enumerate()
        .for_each(|(i, out)| {
            let src = &x[i * h * w..][..h * w];
            for (iy, row) in src.chunks_exact(w).enumerate() {
                let (top, bottom) = out[2 * iy * 2 * w..][..4 * w].split_at_mut(2 * w);
                for (j, &v) in row.iter().enumerate() {
                    top[2 * j] = v;
                    top[2 * j + 1] = v;
                }
                bottom.copy_from_slice(top);
            }
        });
    y
}

/// `planes` `h x w` planes with `top`/`bottom` rows and `left`/`right` columns of zeros
/// around them, in one parallel pass (burn's `pad` fills the whole output, then copies the
/// input into it, on one thread).
pub fn pad_zeros(
    planes: usize,
    h: usize,
    w: usize,
    [(top, bottom), (left, right)]: [(usize, usize); 2],
    x: &[f32],
) -> Vec<f32> {
    let (oh, ow) = (h + top + bottom, w + left + right);
    let mut y = vec![0f32; planes * oh * ow];
    y.par_chunks_mut(ow.max(1))
        .enumerate()
        .for_each(|(row, out)| {
            let (plane, oy) = (row / oh, row % oh);
            if (top..top + h).contains(&oy) {
                let src = &x[(plane * h + oy - top) * w..][..w];
                out[left..left + w].copy_from_slice(src);
            }
        });
    y
}

/// The gradient of [`upsample2x`]: each 2x2 block of `dy` summed.
pub fn upsample2x_backward(planes: usize, h: usize, w: usize, dy: &[f32]) -> Vec<f32> {
    let mut dx = vec![0f32; planes * h * w];
    dx.par_chunks_mut((h * w).max(1))
        .enumerate()
        .for_each(|(i, out)| {
            let grad = &dy[i * 4 * h * w..][..4 * h * w];
            for iy in 0..h {
                let top = &grad[2 * iy * 2 * w..][..2 * w];
                let bottom = &grad[(2 * iy + 1) * 2 * w..][..2 * w];
                for j in 0..w {
                    out[iy * w + j] =
                        (top[2 * j] + top[2 * j + 1]) + (bottom[2 * j] + bottom[2 * j + 1]);
                }
            }
        });
    dx
}
