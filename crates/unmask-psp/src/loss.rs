//! pSp's loss (the report's eq. 2-5): `λ1 L2 + λ2 LPIPS + λ3 (1 - cos(R(y), R(ŷ)))`, with our
//! LPIPS (AlexNet) and face-api's recognition net as `R` (the report uses ArcFace, whose
//! weights no registry here ships).

use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use unmask_detect::landmarks::LANDMARK_MEAN;
use unmask_detect::{FaceRecognitionNet, RECOGNITION_INPUT};
use unmask_kernels::KernelBackend;
use unmask_metrics::Lpips;

/// The loss weights (pSp's `ffhq_encode` defaults: 1, 0.8, 0.1). A zero weight skips the term
/// and the network it needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossWeights {
    pub l2: f64,
    pub lpips: f64,
    pub id: f64,
}

impl Default for LossWeights {
    fn default() -> Self {
        Self {
            l2: 1.0,
            lpips: 0.8,
            id: 0.1,
        }
    }
}

/// The matrix `[out, side]` of TensorFlow's legacy bilinear resize (face-api's): output pixel
/// `d` samples source position `d * side / out`. `R x Rᵀ` resizes a `side x side` plane, and
/// as a product it passes gradients.
pub fn resize_matrix(side: usize, out: usize) -> Vec<f32> {
    let mut m = vec![0f32; out * side];
    for d in 0..out {
        let src = d as f64 * side as f64 / out as f64;
        let i0 = (src.floor() as usize).min(side - 1);
        let i1 = (i0 + 1).min(side - 1);
        let f = (src - i0 as f64) as f32;
        m[d * side + i0] += 1.0 - f;
        m[d * side + i1] += f;
    }
    m
}

/// The recognition net's input from images `[N, 3, S, S]` in [-1, 1]: resized to 150 x 150,
/// in 0..1 less face-api's channel means.
pub fn recognition_input<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, s, _] = x.dims();
    let out = RECOGNITION_INPUT;
    let device = x.device();
    let r = Tensor::<B, 2>::from_data(TensorData::new(resize_matrix(s, out), [out, s]), &device);
    let left = r.clone().reshape([1, out, s]).repeat_dim(0, n * c);
    let right = r.transpose().reshape([1, s, out]).repeat_dim(0, n * c);
    let unit = x.add_scalar(1.0).mul_scalar(0.5).reshape([n * c, s, s]);
    let resized = left.matmul(unit).matmul(right).reshape([n, c, out, out]);
    let mean: Vec<f32> = LANDMARK_MEAN.iter().map(|m| m / 255.0).collect();
    resized - Tensor::<B, 1>::from_data(TensorData::new(mean, [3]), &device).reshape([1, 3, 1, 1])
}

/// Cosine similarity per row of `a, b [N, D]`: `[N]`.
pub fn cosine<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> Tensor<B, 1> {
    let [n, _] = a.dims();
    let dot = (a.clone() * b.clone()).sum_dim(1);
    let norms = (a.square().sum_dim(1) * b.square().sum_dim(1))
        .sqrt()
        .add_scalar(1e-12);
    (dot / norms).reshape([n])
}

/// The loss's networks and weights.
pub struct PspLoss<B: Backend> {
    pub weights: LossWeights,
    pub lpips: Option<Lpips<B>>,
    pub identity: Option<FaceRecognitionNet<B>>,
}

/// Each term's mean over a batch, as numbers.
#[derive(Clone, Copy, Debug, Default)]
pub struct LossValues {
    pub l2: f64,
    pub lpips: f64,
    pub id: f64,
}

fn scalar<B: Backend>(t: &Tensor<B, 1>) -> f64 {
    t.clone().into_scalar().elem::<f32>() as f64
}

impl<B: KernelBackend> PspLoss<B> {
    /// The weighted loss of outputs against targets, both `[N, 3, S, S]` in [-1, 1].
    pub fn total(&self, out: Tensor<B, 4>, target: Tensor<B, 4>) -> (Tensor<B, 1>, LossValues) {
        let l2 = (out.clone() - target.clone()).square().mean();
        let mut values = LossValues {
            l2: scalar(&l2),
            ..Default::default()
        };
        let mut total = l2.mul_scalar(self.weights.l2);
        if let (Some(lpips), true) = (&self.lpips, self.weights.lpips > 0.0) {
            let unit = |x: Tensor<B, 4>| x.add_scalar(1.0).mul_scalar(0.5).clamp(0.0, 1.0);
            let d = lpips
                .distance(unit(out.clone()), unit(target.clone()))
                .mean();
            values.lpips = scalar(&d);
            total = total + d.mul_scalar(self.weights.lpips);
        }
        if let (Some(net), true) = (&self.identity, self.weights.id > 0.0) {
            let a = net.forward(recognition_input(out));
            let b = net.forward(recognition_input(target.detach()));
            let id = cosine(a, b).mean().neg().add_scalar(1.0);
            values.id = scalar(&id);
            total = total + id.mul_scalar(self.weights.id);
        }
        (total, values)
    }
}
