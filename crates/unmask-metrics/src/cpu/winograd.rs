//! 3x3 stride-1 "same" convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray,
//! 2016): a 2x2 block of outputs costs 16 products per channel pair instead of 36. Inputs
//! and kernels are transformed (`Bᵀ d B`, `G g Gᵀ`), multiplied position by position as 16
//! GEMMs over all tiles, and the products transformed back (`Aᵀ m A`).

use super::{matmul, Map};

/// Tiles per round of GEMMs: enough rows for the GEMMs to run at full speed, few enough
/// that large images are transformed in bounded blocks (16 x 512 x channels values each,
/// 8 MiB at 256 channels) instead of all at once.
const TILES_PER_BLOCK: usize = 512;

/// `G`, the kernel transform.
const G: [[f64; 3]; 4] = [
    [1.0, 0.0, 0.0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0.0, 0.0, 1.0],
];

pub(crate) struct WinogradConv {
    inp: usize,
    out: usize,
    /// `[16 positions][in][out]`: the transformed kernels.
    u: Vec<f32>,
}

impl WinogradConv {
    /// From 3x3 weights `[out, in, 3, 3]`.
    pub fn new(weight: &[f32], out: usize, inp: usize) -> Self {
        let mut u = vec![0f32; 16 * inp * out];
        for oc in 0..out {
            for ic in 0..inp {
                let g = |ky: usize, kx: usize| weight[((oc * inp + ic) * 3 + ky) * 3 + kx] as f64;
                for (r, row_weights) in G.iter().enumerate() {
                    for (q, col_weights) in G.iter().enumerate() {
                        let mut s = 0.0;
                        for (ky, gr) in row_weights.iter().enumerate() {
                            for (kx, gq) in col_weights.iter().enumerate() {
                                s += gr * g(ky, kx) * gq;
                            }
                        }
                        u[((r * 4 + q) * inp + ic) * out + oc] = s as f32;
                    }
                }
            }
        }
        Self { inp, out, u }
    }

    /// The convolution of `x` (padding 1) plus `bias` (before any activation).
    pub fn forward(&self, x: &Map, bias: &[f32]) -> Map {
        assert_eq!(x.c, self.inp, "conv input channels");
        let (c, o) = (self.inp, self.out);
        let (th, tw) = (x.h.div_ceil(2), x.w.div_ceil(2));
        let rows_per_block = (TILES_PER_BLOCK / tw).max(1);
        let mut y = Map::new(x.h, x.w, o, vec![0.0; x.h * x.w * o]);
        let (mut v, mut m) = (Vec::new(), Vec::new());
        let mut patch = vec![0f32; 16 * c];
        let mut rows = vec![0f32; 16 * c];
        for ty0 in (0..th).step_by(rows_per_block) {
            let ty1 = (ty0 + rows_per_block).min(th);
            let tiles = (ty1 - ty0) * tw;
            v.resize(16 * tiles * c, 0.0);
            for ti in 0..tiles {
                let (ty, tx) = (ty0 + ti / tw, ti % tw);
                gather_tile(x, ty, tx, &mut patch);
                transform_tile(&mut patch, &mut rows, c);
                for (pos, values) in patch.chunks_exact(c).enumerate() {
                    v[(pos * tiles + ti) * c..][..c].copy_from_slice(values);
                }
            }
            m.resize(16 * tiles * o, 0.0);
            for pos in 0..16 {
                matmul(
                    &mut m[pos * tiles * o..][..tiles * o],
                    &v[pos * tiles * c..][..tiles * c],
                    &self.u[pos * c * o..][..c * o],
                    tiles,
                    c,
                    o,
                    false,
                );
            }
            for ti in 0..tiles {
                let (ty, tx) = (ty0 + ti / tw, ti % tw);
                let products: [&[f32]; 16] =
                    std::array::from_fn(|pos| &m[(pos * tiles + ti) * o..][..o]);
                write_outputs(&products, bias, &mut y, ty, tx);
            }
        }
        y
    }
}

/// The 4x4 input window of tile (ty, tx) (rows 2ty-1 .. 2ty+2), zero outside the image.
fn gather_tile(x: &Map, ty: usize, tx: usize, patch: &mut [f32]) {
    let c = x.c;
    for r in 0..4 {
        let iy = (2 * ty + r) as isize - 1;
        for q in 0..4 {
            let ix = (2 * tx + q) as isize - 1;
            let dst = &mut patch[(r * 4 + q) * c..][..c];
            if iy < 0 || ix < 0 || iy >= x.h as isize || ix >= x.w as isize {
                dst.fill(0.0);
            } else {
                dst.copy_from_slice(x.pixel(iy as usize, ix as usize));
            }
        }
    }
}

/// `Bᵀ d B` of a 4x4 window of channel vectors, in place; `rows` is scratch of the same size.
fn transform_tile(d: &mut [f32], rows: &mut [f32], c: usize) {
    // Bᵀ on the columns: rows = Bᵀ d.
    for q in 0..4 {
        for ch in 0..c {
            let at = |r: usize| d[(r * 4 + q) * c + ch];
            let (d0, d1, d2, d3) = (at(0), at(1), at(2), at(3));
            rows[q * c + ch] = d0 - d2;
            rows[(4 + q) * c + ch] = d1 + d2;
            rows[(8 + q) * c + ch] = d2 - d1;
            rows[(12 + q) * c + ch] = d1 - d3;
        }
    }
    // ... then B on the rows: d = rows B.
    for (line, out) in rows.chunks_exact(4 * c).zip(d.chunks_exact_mut(4 * c)) {
        for ch in 0..c {
            let (d0, d1, d2, d3) = (line[ch], line[c + ch], line[2 * c + ch], line[3 * c + ch]);
            out[ch] = d0 - d2;
            out[c + ch] = d1 + d2;
            out[2 * c + ch] = d2 - d1;
            out[3 * c + ch] = d1 - d3;
        }
    }
}

/// `Aᵀ m A` of one tile's 16 products, plus the bias, into the tile's 2x2 outputs that lie
/// inside the image.
fn write_outputs(m: &[&[f32]; 16], bias: &[f32], y: &mut Map, ty: usize, tx: usize) {
    let o = y.c;
    for oc in 0..o {
        let g = |r: usize, q: usize| m[r * 4 + q][oc];
        let top: [f32; 4] = std::array::from_fn(|q| g(0, q) + g(1, q) + g(2, q));
        let bottom: [f32; 4] = std::array::from_fn(|q| g(1, q) - g(2, q) - g(3, q));
        for (dy, line) in [top, bottom].iter().enumerate() {
            let yy = 2 * ty + dy;
            if yy >= y.h {
                continue;
            }
            let left = line[0] + line[1] + line[2];
            let right = line[1] - line[2] - line[3];
            let xx = 2 * tx;
            y.data[(yy * y.w + xx) * o + oc] = left + bias[oc];
            if xx + 1 < y.w {
                y.data[(yy * y.w + xx + 1) * o + oc] = right + bias[oc];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{max_abs_diff, naive_conv, values};
    use super::*;

    fn check(h: usize, w: usize, inp: usize, out: usize) {
        let x = Map::new(h, w, inp, values(h * w * inp, 7));
        let weight = values(out * inp * 9, 8);
        let bias = values(out, 9);
        let got = WinogradConv::new(&weight, out, inp).forward(&x, &bias);
        let want = naive_conv(&x, &weight, &bias, 3, 1, 1);
        assert_eq!((got.h, got.w, got.c), (want.h, want.w, want.c));
        let err = max_abs_diff(&got.data, &want.data);
        assert!(err < 1e-4, "{h}x{w}x{inp}->{out}: max error {err}");
    }

    #[test]
    fn matches_the_definition() {
        check(15, 15, 16, 8); // AlexNet's last three layers' size: odd, a half tile at the edge
        check(4, 6, 3, 5);
        check(1, 1, 4, 2);
        check(7, 2, 2, 3);
    }

    #[test]
    fn blocks_of_tiles_match_one_block() {
        // 1200 tiles at 40 per row: three blocks, the last one short.
        check(60, 80, 2, 3);
    }
}
