//! Training pSp as the report did (4.3.2): masked face in, unmasked face out, the encoder and
//! the StyleGAN2 generator fine-tuned together by `λ1 L2 + λ2 LPIPS + λ3 ID`. The
//! discriminator stays fixed: pSp's losses do not use it, so it is not loaded at all. The
//! generator starts from a `train-stylegan` run (the report's starts from FFHQ weights, which
//! no registry ships); the encoder starts from scratch (the report's from pSp's FFHQ encoder).

use crate::data::{self, fixed_noise, to_signed, BatchTensors, InpaintBatch};
use crate::inference::{unmask_with, PspArch, PspInfo, CHECKPOINT_MODEL, CHECKPOINT_OPTIMIZER};
use crate::loss::{LossValues, LossWeights, PspLoss};
use crate::model::{EncoderConfig, Psp};
use crate::scores::PspScores;
use anyhow::{Context, Result};
use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_detect::FaceRecognitionNet;
use unmask_kernels::{KernelBackend, TrainingBackend};
use unmask_masks::MaskedPair;
use unmask_metrics::{Lpips, LpipsNet};
use unmask_seg::augment::AugmentConfig;
use unmask_stylegan::StyleGan;
use unmask_train::checkpoint::{load_optimizer, module_file, optimizer_file};
use unmask_train::trainer::{self, RunConfig, RunInputs, RunTotals, StepReport, Trainee};
use unmask_train::{models, seed, DeviceKind, TrainJob};
use unmask_weights::{Asset, WeightStore};

pub use unmask_train::models::BEST_DIR;
pub use unmask_train::trainer::{TrainControl, CHECKPOINT_DIR, STEP_LOG, SUMMARY_FILE, VAL_LOG};
pub const SAMPLES_DIR: &str = "samples";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainPspConfig {
    pub encoder: EncoderConfig,
    pub losses: LossWeights,
    /// Trains the generator with the encoder (the report: yes); otherwise it stays as the
    /// StyleGAN2 run left it.
    pub fine_tune_generator: bool,
    pub epochs: u64,
    pub max_steps: Option<u64>,
    pub batch_size: usize,
    /// Adam's learning rate for the encoder and the generator (pSp: 1e-4 with Ranger).
    pub lr: f64,
    pub seed: u64,
    pub flips: bool,
    pub checkpoint_every: u64,
    /// Writes a grid of validation pairs every this many steps (and at the end).
    pub sample_every: u64,
    pub sample_count: usize,
    pub max_train_samples: Option<usize>,
    pub max_val_samples: Option<usize>,
    pub eval_batch_size: usize,
    pub device: DeviceKind,
}

impl Default for TrainPspConfig {
    fn default() -> Self {
        Self {
            encoder: EncoderConfig::default(),
            losses: LossWeights::default(),
            fine_tune_generator: true,
            epochs: 20,
            max_steps: None,
            batch_size: 8,
            lr: 1e-4,
            seed: 0,
            flips: true,
            checkpoint_every: 200,
            sample_every: 200,
            sample_count: 6,
            max_train_samples: None,
            max_val_samples: Some(256),
            eval_batch_size: 8,
            device: DeviceKind::Cpu,
        }
    }
}

impl TrainPspConfig {
    pub fn validate(&self) -> Result<()> {
        anyhow::ensure!(self.batch_size >= 1, "batch_size must be at least 1");
        anyhow::ensure!(self.lr > 0.0 && self.lr.is_finite(), "lr must be positive");
        let w = &self.losses;
        anyhow::ensure!(
            [w.l2, w.lpips, w.id]
                .iter()
                .all(|v| *v >= 0.0 && v.is_finite())
                && w.l2 + w.lpips + w.id > 0.0,
            "losses.l2, lpips and id must be 0 or more, and one of them positive"
        );
        anyhow::ensure!(
            self.checkpoint_every >= 1 && self.sample_every >= 1 && self.eval_batch_size >= 1,
            "checkpoint_every, sample_every and eval_batch_size must be at least 1"
        );
        Ok(())
    }
}

impl RunConfig for TrainPspConfig {
    fn identity(&self) -> Self {
        Self {
            epochs: 0,
            max_steps: None,
            checkpoint_every: 1,
            sample_every: 1,
            sample_count: 0,
            max_val_samples: None,
            eval_batch_size: 1,
            device: DeviceKind::Cpu,
            ..self.clone()
        }
    }
}

/// The lowest validation loss so far.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PspBest {
    pub best_total: Option<f64>,
}

pub type TrainState = trainer::TrainState<TrainPspConfig, PspBest>;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainOutcome {
    #[serde(flatten)]
    pub run: RunTotals,
    pub val_pairs: usize,
    pub parameters: usize,
    pub last: Option<PspScores>,
}

impl TrainOutcome {
    pub fn describe(&self) -> String {
        let last = self.last.as_ref().map_or(String::new(), |s| {
            format!(", {}", unmask_train::ScoreRow::describe(s))
        });
        format!(
            "pSp {} params, {}{}{}",
            self.parameters,
            self.run.progress(),
            last,
            trainer::speed(self.run.images_per_s)
        )
    }
}

/// Trains on the pairs of the masks stage in `data`, starting from the generator of the
/// `train-stylegan` folder `stylegan`, into `out_dir`.
pub fn train(
    config: &TrainPspConfig,
    data: &Path,
    stylegan: &Path,
    out_dir: &Path,
    control: &TrainControl,
) -> Result<TrainOutcome> {
    config.validate()?;
    let generator = models::read_model_info::<unmask_stylegan::StyleGanInfo>(stylegan, None)
        .with_context(|| {
            format!(
                "pSp starts from the StyleGAN2 run in {}",
                stylegan.display()
            )
        })?
        .1
        .generator;
    config.encoder.validate(generator.image_size)?;
    let store = WeightStore::from_env()?;
    let weight = |used: bool, asset: Asset| -> Result<Option<PathBuf>> {
        used.then(|| {
            store
                .path(asset)
                .with_context(|| format!("the pSp loss needs {asset:?}"))
        })
        .transpose()
    };
    let job = Job {
        inputs: RunInputs {
            config: config.clone(),
            train: unmask_masks::sorted_split(data, "train", config.max_train_samples)?,
            val: unmask_masks::sorted_split(data, "val", config.max_val_samples)?,
            out_dir: out_dir.to_path_buf(),
            control: control.clone(),
        },
        arch: PspArch {
            encoder: config.encoder.clone(),
            generator,
            noise_seed: config.seed,
        },
        stylegan: stylegan.to_path_buf(),
        lpips: weight(config.losses.lpips > 0.0, LpipsNet::Alex.asset())?,
        identity: weight(config.losses.id > 0.0, Asset::FaceRecognition)?,
    };
    trainer::launch(config.device, out_dir, job)
}

struct Job {
    inputs: RunInputs<TrainPspConfig, MaskedPair>,
    arch: PspArch,
    stylegan: PathBuf,
    lpips: Option<PathBuf>,
    identity: Option<PathBuf>,
}

fn load_loss<B: KernelBackend>(job: &Job, device: &B::Device) -> Result<PspLoss<B>> {
    Ok(PspLoss {
        weights: job.inputs.config.losses.clone(),
        lpips: match &job.lpips {
            Some(p) => Some(Lpips::load(LpipsNet::Alex, p, device)?),
            None => None,
        },
        identity: match &job.identity {
            Some(p) => Some(FaceRecognitionNet::load(p, device)?),
            None => None,
        },
    })
}

impl TrainJob for Job {
    type Output = TrainOutcome;

    fn run<B: TrainingBackend>(self, device: B::Device) -> Result<TrainOutcome> {
        let config = &self.inputs.config;
        let size = self.arch.generator.image_size as u32;
        let g = &self.arch.generator;
        let encoder = seed::seeded::<B, _>(&device, config.seed, || {
            config
                .encoder
                .init(g.num_ws(), g.w_dim, g.image_size, &device)
        });
        let generator = StyleGan::<B>::load(&self.stylegan, &device)?.generator;
        let generator = if config.fine_tune_generator {
            generator
        } else {
            generator.no_grad()
        };
        let net = Psp { encoder, generator };
        let parameters = net.num_params();
        let trainee = PspTrainee {
            optim: trainer::adam([0.9, 0.999]).init::<B, Psp<B>>(),
            net,
            loss: load_loss::<B>(&self, &device)?,
            val_loss: load_loss::<B::InnerBackend>(&self, &device)?,
            samples: self.inputs.val[..config.sample_count.min(self.inputs.val.len())].to_vec(),
            val: &self.inputs.val,
            arch: self.arch.clone(),
            config: config.clone(),
        };
        let cfg = config.clone();
        let make_batch = trainer::batches_of(
            self.inputs.train.clone(),
            move |step, slot| {
                data::view_of(&AugmentConfig::default(), cfg.flips, cfg.seed, step, slot)
            },
            move |pairs, views| data::make_batch(pairs, views, size),
        );
        let run = trainer::run(&self.inputs, trainee, make_batch, &device)?;
        Ok(TrainOutcome {
            run: run.totals,
            val_pairs: self.inputs.val.len(),
            parameters,
            last: run.last,
        })
    }
}

struct PspTrainee<'a, B: TrainingBackend, O> {
    net: Psp<B>,
    optim: O,
    loss: PspLoss<B>,
    val_loss: PspLoss<B::InnerBackend>,
    samples: Vec<MaskedPair>,
    val: &'a [MaskedPair],
    arch: PspArch,
    config: TrainPspConfig,
}

/// The weighted total of `values` (what `PspLoss::total` returns as a tensor).
fn weighted(weights: &LossWeights, v: &LossValues) -> f64 {
    weights.l2 * v.l2 + weights.lpips * v.lpips + weights.id * v.id
}

/// Mean absolute error of `out` against `target` (`[N, 3, S, S]` in [0, 1]) where `hole
/// [N, 1, S, S]` is 0, per image.
pub fn l1_outside<B: Backend>(
    out: Tensor<B, 4>,
    target: Tensor<B, 4>,
    hole: Tensor<B, 4>,
) -> Vec<f64> {
    let [n, _, _, _] = out.dims();
    let known = hole.neg().add_scalar(1.0);
    let diff = (out - target).abs() * known.clone().repeat_dim(1, 3);
    let sums = diff
        .reshape([n as i32, -1])
        .sum_dim(1)
        .into_data()
        .convert::<f64>();
    let counts = known
        .reshape([n as i32, -1])
        .sum_dim(1)
        .into_data()
        .convert::<f64>();
    let (sums, counts) = (
        sums.to_vec::<f64>().unwrap_or_default(),
        counts.to_vec::<f64>().unwrap_or_default(),
    );
    sums.iter()
        .zip(&counts)
        .map(|(s, c)| s / (3.0 * c).max(1.0))
        .collect()
}

impl<B, O> Trainee<B> for PspTrainee<'_, B, O>
where
    B: TrainingBackend,
    O: Optimizer<Psp<B>, B>,
{
    const LABEL: &'static str = "train-psp";
    const WHAT: &'static str = "pSp";
    const LOSS_HINT: &'static str = "Lower `lr`.";
    const CLEAR_ON_FRESH: &'static [&'static str] = &[BEST_DIR, SAMPLES_DIR];
    type Best = PspBest;
    type Scores = PspScores;
    type Batch = InpaintBatch;

    fn checkpoint_files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            module_file::<B, _>(CHECKPOINT_MODEL, &self.net)?,
            optimizer_file::<B, Psp<B>, _>(CHECKPOINT_OPTIMIZER, &self.optim)?,
        ])
    }

    fn load_checkpoint(self, dir: &Path, device: &B::Device) -> Result<Self> {
        Ok(Self {
            net: models::load_weights(self.net, dir, CHECKPOINT_MODEL, device)?,
            optim: load_optimizer(self.optim, dir, CHECKPOINT_OPTIMIZER, device)?,
            ..self
        })
    }

    fn step(
        mut self,
        batch: InpaintBatch,
        _step: u64,
        _total: u64,
        device: &B::Device,
    ) -> Result<(Self, StepReport)> {
        let n = batch.len;
        let BatchTensors { masked, target, .. } = batch.tensors::<B>(device);
        let noise = fixed_noise(&self.arch.generator, self.arch.noise_seed, n, device);
        let out = self.net.forward(to_signed(masked), &noise);
        let (loss, values) = self.loss.total(out, to_signed(target));
        let total: f64 = loss.clone().into_scalar().elem::<f32>() as f64;
        let grads = GradientsParams::from_grads(loss.backward(), &self.net);
        self.net = self.optim.step(self.config.lr, self.net, grads);
        let report = StepReport {
            values: vec![
                ("loss", total),
                ("l2", values.l2),
                ("lpips", values.lpips),
                ("id", values.id),
            ],
            message: format!("loss {total:.4}"),
            images: n,
        };
        Ok((self, report))
    }

    fn after_step(&self, done: u64, total: u64, out_dir: &Path, device: &B::Device) -> Result<()> {
        if (done % self.config.sample_every == 0 || done == total) && !self.samples.is_empty() {
            write_samples(
                &self.net.valid(),
                &self.arch,
                &self.samples,
                &out_dir
                    .join(SAMPLES_DIR)
                    .join(format!("step-{done:07}.png")),
                device,
            )?;
        }
        Ok(())
    }

    fn validate(&self, device: &B::Device) -> Result<PspScores> {
        let net = self.net.valid();
        let size = self.arch.generator.image_size as u32;
        let (mut sum, mut outside, mut count) = (LossValues::default(), 0.0, 0usize);
        for chunk in self.val.chunks(self.config.eval_batch_size) {
            let t = data::eval_tensors::<B::InnerBackend>(chunk, size, device)?;
            let out = unmask_with(&net, &self.arch, t.masked, t.hole.clone());
            outside += l1_outside(out.raw.clone(), t.target.clone(), t.hole)
                .iter()
                .sum::<f64>();
            let (_, v) = self.val_loss.total(to_signed(out.raw), to_signed(t.target));
            let k = chunk.len() as f64;
            sum.l2 += v.l2 * k;
            sum.lpips += v.lpips * k;
            sum.id += v.id * k;
            count += chunk.len();
        }
        let k = count.max(1) as f64;
        let mean = LossValues {
            l2: sum.l2 / k,
            lpips: sum.lpips / k,
            id: sum.id / k,
        };
        let w = &self.config.losses;
        let unused = |weight: f64, v: f64| if weight > 0.0 { v } else { f64::NAN };
        Ok(PspScores {
            l2: mean.l2,
            lpips: unused(w.lpips, mean.lpips),
            id_loss: unused(w.id, mean.id),
            l1_outside: outside / k,
            total: weighted(w, &mean),
        })
    }

    fn improves(&self, best: &mut PspBest, scores: &PspScores) -> bool {
        let better = best.best_total.is_none_or(|b| scores.total < b);
        if better {
            best.best_total = Some(scores.total);
        }
        better
    }

    fn save_best(&self, scores: &PspScores, step: u64, out_dir: &Path) -> Result<()> {
        let info = PspInfo {
            arch: self.arch.clone(),
            step,
            val_total: scores.total,
        };
        models::save_model::<B::InnerBackend, _, _>(
            &self.net.valid(),
            &info,
            &out_dir.join(BEST_DIR),
        )
    }
}

/// A grid of `pairs`: target, masked input, raw output, composite, one row per pair. The
/// composite fills the hole grown as `eval-psp` grows it by default (the GAN's
/// `hole_dilation`), so the mask's rim does not show in the grid.
pub fn write_samples<B: KernelBackend>(
    net: &Psp<B>,
    arch: &PspArch,
    pairs: &[MaskedPair],
    path: &Path,
    device: &B::Device,
) -> Result<()> {
    let size = arch.generator.image_size as u32;
    let t = data::eval_tensors::<B>(pairs, size, device)?;
    let hole = unmask_inpaint::hole::grow_by_share(
        t.hole,
        unmask_inpaint::GeneratorConfig::default().hole_dilation,
    );
    let out = unmask_with(net, arch, t.masked.clone(), hole);
    let mut tiles = Vec::new();
    for i in 0..pairs.len() {
        for image in [&t.target, &t.masked, &out.raw, &out.composite] {
            tiles.push(unmask_train::images::tensor_to_rgb(image, i));
        }
    }
    let grid = unmask_core::preview::grid(&tiles, 4, size.max(96));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    unmask_core::atomic::save_png(&grid, path)
}
