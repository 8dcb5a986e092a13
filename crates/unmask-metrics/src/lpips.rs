//! LPIPS v0.1 (Zhang et al. 2018, richzhang/PerceptualSimilarity's `lpips` 0.1.4).
//!
//! Inputs in `[0, 1]` are mapped to `[-1, 1]`, then `(x - shift) / scale`; the AlexNet (ReLU
//! 1..5) or VGG16 (relu1_2..relu5_3) features are unit-normalised over channels
//! (`f / (sqrt(sum f^2) + 1e-10)`), their squared difference goes through the v0.1 1x1 linear
//! layer (no bias), is averaged over H and W and summed over the five layers.

use std::any::TypeId;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use unmask_kernels::KernelBackend;

use burn::tensor::{backend::Backend, ops::ConvOptions, Tensor, TensorData};
use unmask_kernels::conv2d_with as conv2d;
use unmask_weights::{Asset, WeightStore};

use crate::backbone::{self, Conv};
use crate::cpu::CpuLpips;
use crate::error::Result;
use unmask_kernels::WeightFile;

pub(crate) const SHIFT: [f32; 3] = [-0.030, -0.088, -0.188];
pub(crate) const SCALE: [f32; 3] = [0.458, 0.448, 0.450];
pub(crate) const EPS: f32 = 1e-10;

/// The feature network under LPIPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LpipsNet {
    /// AlexNet, LPIPS' default.
    #[default]
    Alex,
    Vgg,
}

impl LpipsNet {
    /// The weights asset holding this network and its v0.1 linear layers.
    pub fn asset(self) -> Asset {
        match self {
            LpipsNet::Alex => Asset::AlexNetLpips,
            LpipsNet::Vgg => Asset::Vgg16Lpips,
        }
    }

    /// The smallest image side the network accepts (AlexNet: 31, so that the second max-pool
    /// still has a 3x3 input; VGG16: 16, four 2x2 pools).
    pub fn min_size(self) -> usize {
        match self {
            LpipsNet::Alex => 31,
            LpipsNet::Vgg => 16,
        }
    }
}

/// LPIPS v0.1 with its weights loaded on a device.
#[derive(Debug, Clone)]
pub struct Lpips<B: Backend> {
    net: LpipsNet,
    /// The converted weights, for switching to burn's convolutions later.
    path: PathBuf,
    engine: Engine<B>,
}

/// Where the network runs: burn's Flex (CPU) backend gets the `cpu` kernels (about twice as
/// fast as its own convolutions); every other backend runs the network as burn tensors.
#[derive(Debug, Clone)]
enum Engine<B: Backend> {
    Burn(BurnLpips<B>),
    Cpu(Arc<CpuLpips>),
}

impl<B: KernelBackend> Lpips<B> {
    /// Loads `net` from a converted safetensors file (`alexnet_lpips.safetensors` or
    /// `vgg16_lpips.safetensors`).
    pub fn load(net: LpipsNet, path: &Path, device: &B::Device) -> Result<Self> {
        let file = WeightFile::open(path)?;
        let engine = if TypeId::of::<B>() == TypeId::of::<burn_flex::Flex>() {
            Engine::Cpu(Arc::new(CpuLpips::load(net, &file)?))
        } else {
            Engine::Burn(BurnLpips::load(net, &file, device)?)
        };
        Ok(Self {
            net,
            path: path.to_path_buf(),
            engine,
        })
    }

    /// The same model computing with burn's own convolutions on every backend (the reference
    /// the CPU kernels are tested against); on Flex this loads the weights again.
    pub fn with_burn_convolutions(self, device: &B::Device) -> Result<Self> {
        let engine = match self.engine {
            Engine::Burn(burn) => Engine::Burn(burn),
            Engine::Cpu(_) => Engine::Burn(BurnLpips::load(
                self.net,
                &WeightFile::open(&self.path)?,
                device,
            )?),
        };
        Ok(Self { engine, ..self })
    }

    /// Loads `net` from the weight store (fetching and converting the weights if needed).
    pub fn from_store(net: LpipsNet, store: &WeightStore, device: &B::Device) -> Result<Self> {
        Self::load(net, &store.path(net.asset())?, device)
    }

    pub fn net(&self) -> LpipsNet {
        self.net
    }

    /// LPIPS distance per image pair `[N]`; images `[N, 3, H, W]` in `[0, 1]`. Identical
    /// images give exactly 0.
    pub fn distance(&self, a: Tensor<B, 4>, b: Tensor<B, 4>) -> Tensor<B, 1> {
        assert_eq!(
            a.dims(),
            b.dims(),
            "lpips: the two images must have the same shape"
        );
        let [n, c, h, w] = a.dims();
        assert_eq!(c, 3, "lpips: images must have 3 channels");
        let min = self.net.min_size();
        assert!(
            h >= min && w >= min,
            "lpips ({:?}): images must be at least {min}x{min}, got {h}x{w}",
            self.net
        );
        match &self.engine {
            Engine::Burn(burn) => burn.distance(self.net, a, b),
            Engine::Cpu(cpu) => {
                let device = a.device();
                let pixels = |t: Tensor<B, 4>| {
                    t.into_data()
                        .convert::<f32>()
                        .to_vec::<f32>()
                        .expect("converted to f32")
                };
                let d = cpu.distance(&pixels(a), &pixels(b), n, h, w);
                Tensor::from_data(TensorData::new(d, [n]), &device)
            }
        }
    }
}

/// The network as burn tensors.
#[derive(Debug, Clone)]
struct BurnLpips<B: Backend> {
    convs: Vec<Conv<B>>,
    /// The v0.1 linear layers, `[1, C, 1, 1]` each.
    lins: Vec<Tensor<B, 4>>,
}

impl<B: KernelBackend> BurnLpips<B> {
    fn load(net: LpipsNet, file: &WeightFile, device: &B::Device) -> Result<Self> {
        let (convs, channels) = match net {
            LpipsNet::Alex => (backbone::load_alex(file, device)?, backbone::ALEX_CHANNELS),
            LpipsNet::Vgg => (backbone::load_vgg(file, device)?, backbone::VGG_CHANNELS),
        };
        let lins = channels
            .iter()
            .enumerate()
            .map(|(k, &c)| file.tensor(&lin_name(k), [1, c, 1, 1], device))
            .collect::<Result<_, _>>()?;
        Ok(Self { convs, lins })
    }

    /// The five raw (not normalised) feature maps of images `[N, 3, H, W]` in `[0, 1]`.
    fn features(&self, net: LpipsNet, x: Tensor<B, 4>) -> Vec<Tensor<B, 4>> {
        let device = x.device();
        let shift =
            Tensor::<B, 4>::from_data(TensorData::new(SHIFT.to_vec(), [1, 3, 1, 1]), &device);
        let scale =
            Tensor::<B, 4>::from_data(TensorData::new(SCALE.to_vec(), [1, 3, 1, 1]), &device);
        let [n, _, h, w] = x.dims();
        // Per-channel constants expanded to full size for the same reason as in `unit_normalise`.
        let full = |t: Tensor<B, 4>| t.repeat_dim(0, n).repeat_dim(2, h).repeat_dim(3, w);
        let x = (x.mul_scalar(2.0).sub_scalar(1.0) - full(shift)) / full(scale);
        match net {
            LpipsNet::Alex => backbone::alex_features(&self.convs, x),
            LpipsNet::Vgg => backbone::vgg_features(&self.convs, x, 5),
        }
    }

    fn distance(&self, net: LpipsNet, a: Tensor<B, 4>, b: Tensor<B, 4>) -> Tensor<B, 1> {
        let n = a.dims()[0];
        // One forward pass over both batches; every image is computed independently of its
        // position in the batch, so identical images still give exactly 0.
        let feats = self.features(net, Tensor::cat(vec![a, b], 0));
        let (fa, fb): (Vec<_>, Vec<_>) = feats
            .into_iter()
            .map(|f| (f.clone().narrow(0, 0, n), f.narrow(0, n, n)))
            .unzip();
        let opts = || ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        let mut total: Option<Tensor<B, 1>> = None;
        for ((x, y), lin) in fa.into_iter().zip(fb).zip(&self.lins) {
            let d = unit_normalise(x) - unit_normalise(y);
            let weighted = conv2d(d.clone() * d, lin.clone(), None, opts()); // [N, 1, h, w]
            let layer = weighted.flatten::<2>(1, 3).mean_dim(1).reshape([n]);
            total = Some(match total {
                Some(t) => t + layer,
                None => layer,
            });
        }
        total.expect("five layers")
    }
}

/// The tensor holding layer `k`'s v0.1 linear weights (`[1, C, 1, 1]`).
pub(crate) fn lin_name(k: usize) -> String {
    format!("NetLinLayer_{k}.Conv_0.kernel")
}

/// `f / (sqrt(sum_c f^2) + 1e-10)`.
fn unit_normalise<B: Backend>(f: Tensor<B, 4>) -> Tensor<B, 4> {
    let c = f.dims()[1];
    let norm = (f.clone() * f.clone()).sum_dim(1).sqrt().add_scalar(EPS);
    // The norm is repeated over the channels so both operands are contiguous: burn-flex runs
    // a division that broadcasts over a middle dimension element by element on one thread.
    f / norm.repeat_dim(1, c)
}
