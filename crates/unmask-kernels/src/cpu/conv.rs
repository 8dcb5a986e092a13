//! Dense (groups = 1) 2-D convolution on NCHW `f32` data as im2col + GEMM, and its three
//! gradients. One sample's output pixels are cut into blocks whose patch matrix stays a few MB;
//! blocks run in parallel where they write disjoint memory, and every sum runs in a fixed order
//! (blocks in index order), so results do not depend on the thread count.

use rayon::prelude::*;

use super::gemm::{gemm_into, Threads, View};
use super::SendPtr;

/// Floats in one block's patch matrix (256 KB, so it stays in the core's cache for the GEMM).
const PATCH_FLOATS: usize = 1 << 16;
/// The weight gradient's GEMM sums over a block's pixels: longer blocks pay (1 MB).
const WEIGHT_PATCH_FLOATS: usize = 1 << 18;
/// Blocks hold a multiple of this many pixels. The `gemm` crate reads a column-major patch
/// matrix in place only when its row count is a multiple of its SIMD width (8 floats with
/// AVX2, 16 with AVX-512); any other block it first copies whole (`pack_lhs`).
const BLOCK_ALIGN: usize = 16;
/// Weight-gradient partial sums: a count fixed by the shapes, whatever the thread count, so
/// the final sum adds the same partials in the same order on one thread or many. Large
/// weights get fewer partials (each is a full copy of the weight gradient).
fn weight_partials(weights: usize) -> usize {
    match weights {
        0..=65_536 => 8,
        65_537..=524_288 => 4,
        _ => 2,
    }
}

/// Sizes of one convolution. `x: [b, cin, h, w]`, `weight: [cout, cin, kh, kw]`,
/// `y: [b, cout, oh, ow]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub batch: usize,
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub oh: usize,
    pub ow: usize,
}

impl ConvGeometry {
    /// `x` `[b, cin, h, w]` and `weight` `[cout, cin_per_group, kh, kw]`.
    pub fn new(
        x: [usize; 4],
        weight: [usize; 4],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
    ) -> Self {
        let [batch, cin, h, w] = x;
        let [cout, _, kh, kw] = weight;
        let out = |size: usize, k: usize, i: usize| {
            let span = dilation[i] * (k - 1) + 1;
            (size + 2 * padding[i]).saturating_sub(span) / stride[i] + 1
        };
        Self {
            batch,
            cin,
            h,
            w,
            cout,
            kh,
            kw,
            stride,
            padding,
            dilation,
            oh: out(h, kh, 0),
            ow: out(w, kw, 1),
        }
    }

    /// A 1x1 convolution with stride 1 and no padding.
    fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == [1, 1] && self.padding == [0, 0]
    }

    /// Values in one patch: `cin * kh * kw`.
    pub fn patch(&self) -> usize {
        self.cin * self.kh * self.kw
    }

    /// Output pixels per sample.
    pub fn pixels(&self) -> usize {
        self.oh * self.ow
    }

    /// Output pixels per block of at most `floats` patch values, a multiple of
    /// [`BLOCK_ALIGN`].
    fn block(&self, floats: usize) -> usize {
        ((floats / self.patch().max(1)).max(64) / BLOCK_ALIGN * BLOCK_ALIGN)
            .min(self.pixels().max(1))
    }

    /// The blocks of one sample, as pixel ranges.
    fn blocks(&self, floats: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (p, step) = (self.pixels(), self.block(floats));
        (0..p.div_ceil(step)).map(move |i| (i * step, ((i + 1) * step).min(p)))
    }

    /// Every sample's blocks as `(sample, start, end)` jobs, in order.
    fn jobs(&self, floats: usize) -> Vec<(usize, usize, usize)> {
        (0..self.batch)
            .flat_map(|b| self.blocks(floats).map(move |(s, e)| (b, s, e)))
            .collect()
    }

    /// Sample `b` of an input `[batch, cin, h, w]`.
    fn sample<'a>(&self, x: &'a [f32], b: usize) -> &'a [f32] {
        let len = self.cin * self.h * self.w;
        &x[b * len..][..len]
    }

    /// Pixels `start..start + n` of sample `b` of `dy [batch, cout, oh, ow]`, as `cout x n`.
    fn dy_block<'a>(&self, dy: &'a [f32], b: usize, start: usize, n: usize) -> View<'a> {
        let p = self.pixels();
        View {
            data: &dy[b * self.cout * p + start..][..(self.cout - 1) * p + n],
            row: p,
            col: 1,
        }
    }

    /// The input row under output row `oy` and kernel row `ky`, if inside the image.
    fn in_y(&self, oy: usize, ky: usize) -> Option<usize> {
        let iy = (oy * self.stride[0] + ky * self.dilation[0]) as isize - self.padding[0] as isize;
        (0..self.h as isize).contains(&iy).then_some(iy as usize)
    }

    /// The output columns `ox` whose input column for kernel column `kx` is inside the image.
    fn valid_ox(&self, kx: usize) -> (usize, usize) {
        valid_range(
            self.ow,
            self.w,
            self.stride[1],
            kx * self.dilation[1],
            self.padding[1],
        )
    }
}

/// The outputs `o` in `0..outputs` with `0 <= o * stride + offset - pad < size`.
fn valid_range(
    outputs: usize,
    size: usize,
    stride: usize,
    offset: usize,
    pad: usize,
) -> (usize, usize) {
    let lo = pad.saturating_sub(offset).div_ceil(stride);
    let hi = if size + pad > offset {
        (size + pad - offset).div_ceil(stride).min(outputs)
    } else {
        0
    };
    (lo.min(hi), hi)
}

/// Fills `cols` (`patch x (end - start)`, row-major) with sample `x`'s patches under output
/// pixels `start..end`: row `(ci, ky, kx)`, column `p`. Runs inside one output row copy
/// contiguous input runs when the stride is 1.
fn im2col(g: &ConvGeometry, x: &[f32], start: usize, end: usize, cols: &mut [f32]) {
    let n = end - start;
    for (row, dst) in cols.chunks_exact_mut(n).enumerate() {
        let ci = row / (g.kh * g.kw);
        let (ky, kx) = ((row / g.kw) % g.kh, row % g.kw);
        let plane = &x[ci * g.h * g.w..][..g.h * g.w];
        let (ox_lo, ox_hi) = g.valid_ox(kx);
        let mut p = start;
        while p < end {
            let (oy, ox0) = (p / g.ow, p % g.ow);
            let run_end = (end - p).min(g.ow - ox0) + ox0;
            let out = &mut dst[p - start..][..run_end - ox0];
            match g.in_y(oy, ky) {
                Some(iy) => {
                    let src = &plane[iy * g.w..][..g.w];
                    let lo = ox0.max(ox_lo).min(run_end);
                    let hi = run_end.min(ox_hi).max(lo);
                    out[..lo - ox0].fill(0.0);
                    out[hi - ox0..].fill(0.0);
                    if hi > lo {
                        let first = lo * g.stride[1] + kx * g.dilation[1] - g.padding[1];
                        let run = &mut out[lo - ox0..hi - ox0];
                        if g.stride[1] == 1 {
                            run.copy_from_slice(&src[first..first + hi - lo]);
                        } else {
                            for (o, v) in run.iter_mut().enumerate() {
                                *v = src[first + o * g.stride[1]];
                            }
                        }
                    }
                }
                None => out.fill(0.0),
            }
            p += run_end - ox0;
        }
    }
}

/// Adds `cols` (`patch x (end - start)`) back onto sample `dx`'s pixels: the transpose of
/// [`im2col`]. Each input channel's plane is one task.
fn col2im(g: &ConvGeometry, cols: &[f32], start: usize, end: usize, dx: &mut [f32]) {
    let n = end - start;
    let per_channel = g.kh * g.kw * n;
    dx.par_chunks_mut(g.h * g.w)
        .zip(cols.par_chunks(per_channel))
        .for_each(|(plane, rows)| {
            for (r, src) in rows.chunks_exact(n).enumerate() {
                let (ky, kx) = (r / g.kw, r % g.kw);
                let (ox_lo, ox_hi) = g.valid_ox(kx);
                let mut p = start;
                while p < end {
                    let (oy, ox0) = (p / g.ow, p % g.ow);
                    let run_end = (end - p).min(g.ow - ox0) + ox0;
                    if let Some(iy) = g.in_y(oy, ky) {
                        let row = &mut plane[iy * g.w..][..g.w];
                        for ox in ox0.max(ox_lo)..run_end.min(ox_hi) {
                            let ix = ox * g.stride[1] + kx * g.dilation[1] - g.padding[1];
                            row[ix] += src[p - start + ox - ox0];
                        }
                    }
                    p += run_end - ox0;
                }
            }
        });
}

/// `y = conv(x, weight) + bias`: `x [b, cin, h, w]`, `weight [cout, cin, kh, kw]`,
/// returns `[b, cout, oh, ow]`.
pub fn forward(g: &ConvGeometry, x: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    forward_clamped(g, x, weight, bias, None)
}

/// [`forward`] with each output block clamped to `range` (`[min, max]`: ReLU6 is `[0, 6]`)
/// right after its GEMM, while the block is still in cache: a separate clamp would read and
/// write the whole output again.
pub fn forward_clamped(
    g: &ConvGeometry,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    range: Option<[f32; 2]>,
) -> Vec<f32> {
    let (p, k) = (g.pixels(), g.patch());
    let len = g.batch * g.cout * p;
    // Left uninitialised: the GEMMs overwrite every element (zeroing first cost 4% of a step).
    let mut y: Vec<f32> = Vec::with_capacity(len);
    let out = SendPtr(y.as_mut_ptr());
    let jobs = g.jobs(PATCH_FLOATS);
    let threads = inner_threads(jobs.len());
    jobs.par_iter()
        .for_each_init(Vec::new, |cols, &(b, start, end)| {
            let n = end - start;
            let sample = g.sample(x, b);
            // A pointwise convolution's patches are the input itself (`cin x pixels`).
            let patches = if g.is_pointwise() {
                View {
                    data: &sample[start..],
                    row: 1,
                    col: p,
                }
            } else {
                cols.resize(k * n, 0.0);
                im2col(g, sample, start, end, cols);
                View::transposed(cols, n)
            };
            let base = b * g.cout * p + start;
            // SAFETY: job (b, start..end) writes only columns start..end of sample b's rows, which
            // no other job touches; `y` outlives the loop.
            // y block^T [n x cout] = cols^T [n x k] x weight^T [k x cout]: the long pixel side
            // as the GEMM's rows suits its kernels best.
            unsafe {
                gemm_into(
                    out.at(base),
                    [1, p],
                    patches,
                    View::transposed(weight, k),
                    n,
                    k,
                    g.cout,
                    false,
                    threads,
                );
            }
            if bias.is_some() || range.is_some() {
                for co in 0..g.cout {
                    // SAFETY: as above; one row's columns start..end of this job.
                    let row = unsafe { out.slice(base + co * p, n) };
                    if let Some(bias) = bias {
                        row.iter_mut().for_each(|v| *v += bias[co]);
                    }
                    if let Some(range) = range {
                        clamp(row, range);
                    }
                }
            }
        });
    // SAFETY: the jobs cover every sample and every pixel block, and each GEMM writes all
    // `cout` rows of its block (with `accumulate` off it never reads them), so all `len`
    // elements are initialised.
    unsafe { y.set_len(len) };
    y
}

/// Clamps every value to `[min, max]`, as burn's `clamp` does.
pub fn clamp(values: &mut [f32], [min, max]: [f32; 2]) {
    values.iter_mut().for_each(|v| *v = v.clamp(min, max));
}

/// [`clamp`] in parallel, for a whole tensor another kernel produced.
pub fn clamp_parallel(values: &mut [f32], range: [f32; 2]) {
    values
        .par_chunks_mut(1 << 14)
        .for_each(|chunk| clamp(chunk, range));
}

/// The input gradient: `dx [b, cin, h, w]` from `dy [b, cout, oh, ow]`.
pub fn input_grad(g: &ConvGeometry, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    match flipped(g) {
        Some(back) => forward(&back, dy, &flip_weight(g, weight), None),
        None => input_grad_col2im(g, weight, dy),
    }
}

/// With stride 1, the input gradient is itself a convolution: of `dy` with the weights
/// flipped in space and transposed in channels, padded by `dilation (k - 1) - padding`. That
/// reuses the forward's im2col + GEMM and needs no scatter.
fn flipped(g: &ConvGeometry) -> Option<ConvGeometry> {
    let pad = |i: usize, k: usize| (g.dilation[i] * (k - 1)).checked_sub(g.padding[i]);
    let (ph, pw) = (pad(0, g.kh)?, pad(1, g.kw)?);
    let back = ConvGeometry::new(
        [g.batch, g.cout, g.oh, g.ow],
        [g.cin, g.cout, g.kh, g.kw],
        [1, 1],
        [ph, pw],
        g.dilation,
    );
    (g.stride == [1, 1] && back.oh == g.h && back.ow == g.w).then_some(back)
}

/// `[cout, cin, kh, kw]` to `[cin, cout, kh, kw]` reversed in both spatial axes.
fn flip_weight(g: &ConvGeometry, weight: &[f32]) -> Vec<f32> {
    let taps = g.kh * g.kw;
    let mut out = vec![0f32; weight.len()];
    for co in 0..g.cout {
        for ci in 0..g.cin {
            let src = &weight[(co * g.cin + ci) * taps..][..taps];
            let dst = &mut out[(ci * g.cout + co) * taps..][..taps];
            for (t, v) in src.iter().enumerate() {
                dst[taps - 1 - t] = *v;
            }
        }
    }
    out
}

/// The input gradient for any stride: the patch gradients `weight^T x dy`, added back onto
/// the pixels they came from.
fn input_grad_col2im(g: &ConvGeometry, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let k = g.patch();
    let plane = g.cin * g.h * g.w;
    let mut dx = vec![0f32; g.batch * plane];
    dx.par_chunks_mut(plane.max(1))
        .enumerate()
        .for_each(|(b, dx)| {
            let mut cols = vec![0f32; k * g.block(PATCH_FLOATS)];
            for (start, end) in g.blocks(PATCH_FLOATS) {
                let n = end - start;
                let dy_block = g.dy_block(dy, b, start, n).transpose();
                // cols^T [n x k] = dy block^T [n x cout] x weight [cout x k], written into the
                // row-major `k x n` patch layout.
                // SAFETY: `cols` holds k * n elements and is borrowed mutably alone.
                unsafe {
                    gemm_into(
                        cols.as_mut_ptr(),
                        [1, n],
                        dy_block,
                        View::rows(weight, k),
                        n,
                        g.cout,
                        k,
                        false,
                        Threads::All,
                    );
                }
                col2im(g, &cols[..k * n], start, end, dx);
            }
        });
    dx
}

/// The weight gradient `[cout, cin, kh, kw]`: the sum over samples and blocks of
/// `dy block [cout x n] x cols^T [n x patch]`.
///
/// Each product is written transposed, `[patch x cout]`, and turned round once at the end.
/// Asked for row-major `[cout x patch]`, `gemm` swaps the operands to get a column-major
/// destination and then copies the whole patch matrix into its packed layout first (`pack_lhs`,
/// a fifth of a UNet training step at 8 channels); this way it packs only `dy`'s block, which is
/// `patch / cout` times smaller, and reads the patches in place.
pub fn weight_grad(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let k = g.patch();
    let jobs = g.jobs(WEIGHT_PATCH_FLOATS);
    let per_partial = jobs.len().div_ceil(weight_partials(g.cout * k)).max(1);
    let threads = inner_threads(jobs.len().div_ceil(per_partial));
    let partials: Vec<Vec<f32>> = jobs
        .par_chunks(per_partial)
        .map(|group| {
            let mut acc = vec![0f32; k * g.cout];
            let mut cols = Vec::new();
            for (i, &(b, start, end)) in group.iter().enumerate() {
                let n = end - start;
                cols.resize(k * n, 0.0);
                im2col(g, g.sample(x, b), start, end, &mut cols);
                let (lhs, rhs) = (g.dy_block(dy, b, start, n), View::transposed(&cols, n));
                // SAFETY: `acc` holds cout * k elements, element (co, j) at j * cout + co, and
                // is borrowed mutably alone.
                unsafe {
                    gemm_into(
                        acc.as_mut_ptr(),
                        [1, g.cout],
                        lhs,
                        rhs,
                        g.cout,
                        n,
                        k,
                        i > 0,
                        threads,
                    );
                }
            }
            acc
        })
        .collect();
    let transposed = sum_in_order(partials);
    let mut grad = vec![0f32; g.cout * k];
    for (j, row) in transposed.chunks_exact(g.cout).enumerate() {
        for (co, &v) in row.iter().enumerate() {
            grad[co * k + j] = v;
        }
    }
    grad
}

/// The bias gradient `[cout]`: `dy` summed over samples and pixels.
pub fn bias_grad(batch: usize, channels: usize, pixels: usize, dy: &[f32]) -> Vec<f32> {
    (0..channels)
        .into_par_iter()
        .map(|c| {
            (0..batch)
                .map(|b| {
                    dy[(b * channels + c) * pixels..][..pixels]
                        .iter()
                        .sum::<f32>()
                })
                .sum()
        })
        .collect()
}

/// Element-wise sum of equal-length vectors, first to last.
pub fn sum_in_order(mut parts: Vec<Vec<f32>>) -> Vec<f32> {
    let mut total = parts.remove(0);
    for part in parts {
        total.iter_mut().zip(part).for_each(|(t, v)| *t += v);
    }
    total
}

/// With few jobs, each GEMM spreads over the threads instead. The choice depends on the job
/// count only, never on the thread count.
fn inner_threads(jobs: usize) -> Threads {
    if jobs >= 4 {
        Threads::One
    } else {
        Threads::All
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges_match_a_scan() {
        for (outputs, size, stride, offset, pad) in [
            (8, 8, 1, 0, 1),
            (8, 8, 1, 2, 1),
            (4, 8, 2, 3, 1),
            (8, 8, 1, 16, 8),
            (3, 2, 1, 4, 2),
        ] {
            let scan: Vec<usize> = (0..outputs)
                .filter(|&o| {
                    let i = (o * stride + offset) as isize - pad as isize;
                    (0..size as isize).contains(&i)
                })
                .collect();
            let (lo, hi) = valid_range(outputs, size, stride, offset, pad);
            assert_eq!(
                (lo..hi).collect::<Vec<_>>(),
                scan,
                "{outputs} {size} {stride} {offset} {pad}"
            );
        }
    }
}
