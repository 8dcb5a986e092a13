//! LPIPS v0.1 on CPU feature maps: the networks, weights and formula of `crate::lpips`.

use rayon::prelude::*;

use super::{pool::max_pool, ConvRelu, Map};
use crate::backbone::{alex_specs, vgg_specs, ALEX_CHANNELS, VGG_BLOCKS, VGG_CHANNELS};
use crate::error::Result;
use crate::lpips::{lin_name, LpipsNet, EPS, SCALE, SHIFT};
use unmask_kernels::WeightFile;

pub(crate) struct CpuLpips {
    net: LpipsNet,
    convs: Vec<ConvRelu>,
    /// The v0.1 linear weights, one per channel of each of the five feature maps.
    lins: Vec<Vec<f32>>,
}

impl std::fmt::Debug for CpuLpips {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuLpips")
            .field("net", &self.net)
            .finish_non_exhaustive()
    }
}

impl CpuLpips {
    pub fn load(net: LpipsNet, file: &WeightFile) -> Result<Self> {
        let (specs, channels) = match net {
            LpipsNet::Alex => (alex_specs(), ALEX_CHANNELS),
            LpipsNet::Vgg => (vgg_specs(), VGG_CHANNELS),
        };
        let convs = specs
            .iter()
            .map(|spec| {
                let weight = file.values(&spec.kernel_name(), &spec.weight_shape())?;
                let bias = file.values(&spec.bias_name(), &[spec.out])?;
                Ok(ConvRelu::new(
                    &weight,
                    bias,
                    spec.inp,
                    spec.k,
                    spec.stride,
                    spec.pad,
                ))
            })
            .collect::<Result<_>>()?;
        let lins = channels
            .iter()
            .enumerate()
            .map(|(k, &c)| file.values(&lin_name(k), &[1, c, 1, 1]))
            .collect::<Result<_, _>>()?;
        Ok(Self { net, convs, lins })
    }

    /// LPIPS per image pair. `a` and `b` hold `n` images `[3, h, w]` each, values in `[0, 1]`.
    pub fn distance(&self, a: &[f32], b: &[f32], n: usize, h: usize, w: usize) -> Vec<f32> {
        let len = 3 * h * w;
        assert!(
            a.len() == n * len && b.len() == n * len,
            "lpips: image buffer sizes"
        );
        (0..n)
            .into_par_iter()
            .map(|i| {
                let (fa, fb) = rayon::join(
                    || self.features(&a[i * len..][..len], h, w),
                    || self.features(&b[i * len..][..len], h, w),
                );
                fa.iter()
                    .zip(&fb)
                    .zip(&self.lins)
                    .map(|((x, y), lin)| layer_distance(x, y, lin))
                    .sum::<f64>() as f32
            })
            .collect()
    }

    /// The five feature maps of one image `[3, h, w]` in `[0, 1]`.
    fn features(&self, image: &[f32], h: usize, w: usize) -> Vec<Map> {
        let x = scaled_input(image, h, w);
        match self.net {
            LpipsNet::Alex => {
                let c = &self.convs;
                let f1 = c[0].forward(&x);
                let f2 = c[1].forward(&max_pool(&f1, 3, 2));
                let f3 = c[2].forward(&max_pool(&f2, 3, 2));
                let f4 = c[3].forward(&f3);
                let f5 = c[4].forward(&f4);
                vec![f1, f2, f3, f4, f5]
            }
            LpipsNet::Vgg => {
                let mut convs = self.convs.iter();
                let mut x = x;
                let mut feats = Vec::with_capacity(5);
                for (block, &n) in VGG_BLOCKS.iter().enumerate() {
                    if block > 0 {
                        x = max_pool(&x, 2, 2);
                    }
                    for _ in 0..n {
                        x = convs.next().expect("13 convs").forward(&x);
                    }
                    feats.push(x.clone());
                }
                feats
            }
        }
    }
}

/// `[3, h, w]` in `[0, 1]` to height x width x channels in LPIPS' input scale, with the same
/// float operations as the burn path.
fn scaled_input(image: &[f32], h: usize, w: usize) -> Map {
    let mut data = vec![0f32; 3 * h * w];
    for c in 0..3 {
        let plane = &image[c * h * w..][..h * w];
        for (i, &v) in plane.iter().enumerate() {
            data[i * 3 + c] = (v * 2.0 - 1.0 - SHIFT[c]) / SCALE[c];
        }
    }
    Map::new(h, w, 3, data)
}

/// One layer's term: the linear-weighted squared difference of the unit-normalised features,
/// averaged over the pixels.
fn layer_distance(a: &Map, b: &Map, lin: &[f32]) -> f64 {
    let c = a.c;
    let norm = |f: &[f32]| f.iter().map(|v| v * v).sum::<f32>().sqrt() + EPS;
    let total: f64 = a
        .data
        .chunks_exact(c)
        .zip(b.data.chunks_exact(c))
        .map(|(fa, fb)| {
            let (na, nb) = (norm(fa), norm(fb));
            let weighted: f32 = fa
                .iter()
                .zip(fb)
                .zip(lin)
                .map(|((x, y), l)| {
                    let d = x / na - y / nb;
                    l * d * d
                })
                .sum();
            weighted as f64
        })
        .sum();
    total / (a.h * a.w) as f64
}
