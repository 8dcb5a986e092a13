//! Any convolution (no groups, no dilation) as im2col + GEMM, a block of output pixels at a
//! time so the patch matrix stays small whatever the image size.

use super::{matmul, Map};

/// Output pixels per GEMM: with AlexNet's 5x5 layer (1,600 values per patch) the patch
/// matrix is 6.5 MB; smaller blocks re-pack the weights too often.
const PIXELS_PER_BLOCK: usize = 1024;

pub(crate) struct Im2colConv {
    inp: usize,
    out: usize,
    k: usize,
    stride: usize,
    pad: usize,
    /// `[ky, kx, in, out]`: a patch row (ky, kx, in) times this gives the outputs.
    weight: Vec<f32>,
}

impl Im2colConv {
    /// From weights `[out, in, k, k]`.
    pub fn new(
        weight: &[f32],
        out: usize,
        inp: usize,
        k: usize,
        stride: usize,
        pad: usize,
    ) -> Self {
        let mut w = vec![0f32; weight.len()];
        for oc in 0..out {
            for ic in 0..inp {
                for ky in 0..k {
                    for kx in 0..k {
                        w[((ky * k + kx) * inp + ic) * out + oc] =
                            weight[((oc * inp + ic) * k + ky) * k + kx];
                    }
                }
            }
        }
        Self {
            inp,
            out,
            k,
            stride,
            pad,
            weight: w,
        }
    }

    /// The convolution of `x` plus `bias` (before any activation).
    pub fn forward(&self, x: &Map, bias: &[f32]) -> Map {
        assert_eq!(x.c, self.inp, "conv input channels");
        let (k, s, p) = (self.k, self.stride, self.pad);
        let oh = (x.h + 2 * p - k) / s + 1;
        let ow = (x.w + 2 * p - k) / s + 1;
        let patch = k * k * self.inp;
        let mut y = Map::filled(oh, ow, bias);
        let mut cols = Vec::with_capacity(PIXELS_PER_BLOCK.min(oh * ow) * patch);
        for start in (0..oh * ow).step_by(PIXELS_PER_BLOCK) {
            let end = (start + PIXELS_PER_BLOCK).min(oh * ow);
            cols.clear();
            cols.resize((end - start) * patch, 0.0);
            for (row, pixel) in cols.chunks_exact_mut(patch).zip(start..end) {
                self.gather_patch(x, pixel / ow, pixel % ow, row);
            }
            let dst = &mut y.data[start * self.out..end * self.out];
            matmul(dst, &cols, &self.weight, end - start, patch, self.out, true);
        }
        y
    }

    /// Copies the input patch under output pixel (oy, ox) into `row` (zeroed beforehand, so the
    /// padding stays zero). One kernel row is one contiguous run of the input row.
    fn gather_patch(&self, x: &Map, oy: usize, ox: usize, row: &mut [f32]) {
        let (k, c) = (self.k, self.inp);
        let x0 = (ox * self.stride) as isize - self.pad as isize;
        let kx_lo = (-x0).max(0) as usize;
        let kx_hi = (x.w as isize - x0).clamp(0, k as isize) as usize;
        if kx_lo >= kx_hi {
            return;
        }
        let len = (kx_hi - kx_lo) * c;
        let ix = (x0 + kx_lo as isize) as usize;
        for ky in 0..k {
            let iy = (oy * self.stride + ky) as isize - self.pad as isize;
            if iy < 0 || iy >= x.h as isize {
                continue;
            }
            let src = &x.data[(iy as usize * x.w + ix) * c..][..len];
            row[(ky * k + kx_lo) * c..][..len].copy_from_slice(src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{max_abs_diff, naive_conv, values};
    use super::*;

    fn check(h: usize, w: usize, inp: usize, out: usize, k: usize, stride: usize, pad: usize) {
        let x = Map::new(h, w, inp, values(h * w * inp, 1));
        let weight = values(out * inp * k * k, 2);
        let bias = values(out, 3);
        let got = Im2colConv::new(&weight, out, inp, k, stride, pad).forward(&x, &bias);
        let want = naive_conv(&x, &weight, &bias, k, stride, pad);
        assert_eq!((got.h, got.w, got.c), (want.h, want.w, want.c));
        let err = max_abs_diff(&got.data, &want.data);
        assert!(
            err < 1e-4,
            "{h}x{w}x{inp} k{k} s{stride} p{pad}: max error {err}"
        );
    }

    #[test]
    fn matches_the_definition() {
        check(35, 31, 3, 8, 11, 4, 2); // AlexNet's first layer shape, odd sizes
        check(9, 7, 5, 6, 5, 1, 2);
        check(6, 5, 3, 4, 3, 1, 1);
        check(3, 3, 2, 3, 5, 1, 2); // kernel wider than the image
    }

    #[test]
    fn blocks_of_pixels_match_one_block() {
        // 40x40 outputs are two blocks of pixels.
        check(40, 40, 2, 3, 3, 1, 1);
    }
}
