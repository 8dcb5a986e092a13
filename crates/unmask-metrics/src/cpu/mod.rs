//! LPIPS feature networks on the CPU without burn's convolution.
//!
//! Why: burn-flex 0.21's `conv2d` runs the LPIPS layers at 30-65 GFLOP/s on two cores (it
//! builds im2col tiles in parallel inside a parallel loop and scatters the result column by
//! column), while the `gemm` crate it calls reaches ~85. Here every image is one task on one
//! thread (rayon spreads the images), feature maps stay height x width x channels, 3x3 stride-1
//! convolutions with at least 16 input channels use Winograd F(2x2, 3x3) (2.25x fewer
//! multiplications) and the others im2col.
//! An image's result never depends on the other images in the batch or on the thread count.

mod im2col;
mod network;
mod pool;
mod winograd;

pub(crate) use network::CpuLpips;

/// One image's feature map: `h x w` pixels of `c` channels, channels fastest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Map {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub data: Vec<f32>,
}

impl Map {
    pub fn new(h: usize, w: usize, c: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), h * w * c, "feature map size");
        Self { h, w, c, data }
    }

    /// The map with every pixel set to `values` (one per channel).
    fn filled(h: usize, w: usize, values: &[f32]) -> Self {
        let data = values.repeat(h * w);
        Self::new(h, w, values.len(), data)
    }

    fn pixel(&self, y: usize, x: usize) -> &[f32] {
        &self.data[(y * self.w + x) * self.c..][..self.c]
    }
}

/// A convolution followed by ReLU, the only layer kind the LPIPS backbones have.
pub(crate) struct ConvRelu {
    bias: Vec<f32>,
    kernel: Kernel,
}

enum Kernel {
    Im2col(im2col::Im2colConv),
    Winograd(winograd::WinogradConv),
}

impl ConvRelu {
    /// From PyTorch-layout weights `[out, in, k, k]`. Winograd serves the 3x3 stride-1
    /// "same" convolutions whose input has enough channels for its GEMMs to pay.
    pub fn new(
        weight: &[f32],
        bias: Vec<f32>,
        inp: usize,
        k: usize,
        stride: usize,
        pad: usize,
    ) -> Self {
        let out = bias.len();
        assert_eq!(weight.len(), out * inp * k * k, "conv weight size");
        let kernel = if k == 3 && stride == 1 && pad == 1 && inp >= 16 {
            Kernel::Winograd(winograd::WinogradConv::new(weight, out, inp))
        } else {
            Kernel::Im2col(im2col::Im2colConv::new(weight, out, inp, k, stride, pad))
        };
        Self { bias, kernel }
    }

    pub fn forward(&self, x: &Map) -> Map {
        let mut y = match &self.kernel {
            Kernel::Im2col(conv) => conv.forward(x, &self.bias),
            Kernel::Winograd(conv) => conv.forward(x, &self.bias),
        };
        y.data.iter_mut().for_each(|v| *v = v.max(0.0));
        y
    }
}

/// `dst[m, n] (+)= lhs[m, k] * rhs[k, n]`, row-major, on the calling thread; `accumulate`
/// keeps what `dst` held.
fn matmul(
    dst: &mut [f32],
    lhs: &[f32],
    rhs: &[f32],
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert!(
        dst.len() == m * n && lhs.len() == m * k && rhs.len() == k * n,
        "matmul sizes"
    );
    // SAFETY: with the lengths checked above, every element the row/column strides address
    // lies inside the three slices, and `dst` is borrowed mutably alone.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::Map;

    /// Deterministic values in [-1, 1).
    pub fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Convolution by definition, weights `[out, in, k, k]`, no ReLU.
    pub fn naive_conv(
        x: &Map,
        weight: &[f32],
        bias: &[f32],
        k: usize,
        stride: usize,
        pad: usize,
    ) -> Map {
        let o = bias.len();
        let oh = (x.h + 2 * pad - k) / stride + 1;
        let ow = (x.w + 2 * pad - k) / stride + 1;
        let mut data = vec![0f32; oh * ow * o];
        for oy in 0..oh {
            for ox in 0..ow {
                for oc in 0..o {
                    let mut s = bias[oc] as f64;
                    for ky in 0..k {
                        for kx in 0..k {
                            let iy = (oy * stride + ky) as isize - pad as isize;
                            let ix = (ox * stride + kx) as isize - pad as isize;
                            if iy < 0 || ix < 0 || iy >= x.h as isize || ix >= x.w as isize {
                                continue;
                            }
                            for ic in 0..x.c {
                                let w = weight[((oc * x.c + ic) * k + ky) * k + kx];
                                s += (w * x.pixel(iy as usize, ix as usize)[ic]) as f64;
                            }
                        }
                    }
                    data[(oy * ow + ox) * o + oc] = s as f32;
                }
            }
        }
        Map::new(oh, ow, o, data)
    }

    pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }
}
