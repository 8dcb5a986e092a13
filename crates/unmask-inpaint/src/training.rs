//! Training the GAN, plugged into the shared training loop ([`unmask_train::trainer`]: logs,
//! checkpoints, resume): two Adam optimisers (generators, discriminator), per-step losses,
//! sample grids, and the best generators by validation hole L1.

use crate::data::{self, BatchTensors, InpaintBatch, MaskSource};
use crate::discriminator::{Discriminator, DiscriminatorConfig};
use crate::inference::{
    InpainterInfo, CHECKPOINT_DISCRIMINATOR, CHECKPOINT_DISCRIMINATOR_OPTIMIZER,
    CHECKPOINT_GENERATOR, CHECKPOINT_GENERATOR_EMA, CHECKPOINT_GENERATOR_OPTIMIZER,
};
use crate::loss::{self, LossWeights};
use crate::model::{GeneratorConfig, InpaintNet};
use crate::scores::{score_pairs, InpaintScores};
use anyhow::{bail, Context, Result};
use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::{ElementConversion, Tensor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_kernels::{KernelBackend, TrainingBackend};
use unmask_masks::MaskedPair;
use unmask_metrics::Vgg16Features;
use unmask_seg::augment::AugmentConfig;
use unmask_train::checkpoint::{load_optimizer, module_file, optimizer_file};
use unmask_train::trainer::{self, RunConfig, RunInputs, RunTotals, StepReport, Trainee};
use unmask_train::{ema, models, seed, DeviceKind, LrSchedule, ScoreRow, TrainJob};

pub use unmask_train::models::BEST_DIR;
pub use unmask_train::trainer::{TrainControl, CHECKPOINT_DIR, STEP_LOG, SUMMARY_FILE, VAL_LOG};
pub const SAMPLES_DIR: &str = "samples";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainInpaintConfig {
    pub generator: GeneratorConfig,
    pub discriminator: DiscriminatorConfig,
    pub losses: LossWeights,
    pub epochs: u64,
    pub max_steps: Option<u64>,
    pub batch_size: usize,
    /// Both optimisers' learning rate (the report: 0.001).
    pub lr: f64,
    /// `constant` (the report) or `cosine`: from `lr` down to 1% of it over the run.
    pub lr_schedule: LrSchedule,
    pub betas: [f64; 2],
    /// Samples, validation and `best/` use an exponential moving average of the generators'
    /// weights with this half-life in images; unset, the last step's weights (the report).
    pub ema_images: Option<f64>,
    /// Early on, the average's half-life is at most this fraction of the images seen, so the
    /// first steps' weights do not linger (StyleGAN2: 0.05).
    pub ema_rampup: Option<f64>,
    pub seed: u64,
    pub flips: bool,
    /// Colour, blur, noise and framing changes of the training pairs (the segmenter's
    /// `augment`; `negatives` must stay 0: a GAN has nothing to fill in a bare face).
    pub augment: AugmentConfig,
    pub masks: MaskSource,
    pub checkpoint_every: u64,
    /// Writes a sample grid every this many steps (and at the end).
    pub sample_every: u64,
    /// Validation faces shown in each grid.
    pub sample_count: usize,
    pub max_train_samples: Option<usize>,
    /// Validation pairs scored after each epoch (all when unset).
    pub max_val_samples: Option<usize>,
    pub eval_batch_size: usize,
    pub device: DeviceKind,
}

impl Default for TrainInpaintConfig {
    fn default() -> Self {
        Self {
            generator: GeneratorConfig::default(),
            discriminator: DiscriminatorConfig::default(),
            losses: LossWeights::default(),
            epochs: 7,
            max_steps: None,
            batch_size: 8,
            lr: 1e-3,
            lr_schedule: LrSchedule::Constant,
            betas: [0.5, 0.999],
            ema_images: None,
            ema_rampup: Some(0.05),
            seed: 0,
            flips: true,
            augment: AugmentConfig::default(),
            masks: MaskSource::Truth,
            checkpoint_every: 200,
            sample_every: 200,
            sample_count: 6,
            max_train_samples: None,
            max_val_samples: None,
            eval_batch_size: 8,
            device: DeviceKind::Cpu,
        }
    }
}

impl TrainInpaintConfig {
    pub fn validate(&self) -> Result<()> {
        self.generator.validate()?;
        self.discriminator.validate(self.generator.image_size)?;
        anyhow::ensure!(self.batch_size >= 1, "batch_size must be at least 1");
        anyhow::ensure!(self.lr > 0.0 && self.lr.is_finite(), "lr must be positive");
        if let Some(half_life) = self.ema_images {
            anyhow::ensure!(
                half_life > 0.0 && half_life.is_finite(),
                "ema_images must be positive, got {half_life}"
            );
        }
        if let Some(rampup) = self.ema_rampup {
            anyhow::ensure!(rampup > 0.0, "ema_rampup must be positive, got {rampup}");
        }
        anyhow::ensure!(
            self.checkpoint_every >= 1 && self.sample_every >= 1,
            "checkpoint_every and sample_every must be at least 1"
        );
        anyhow::ensure!(
            (1..=5).contains(&self.losses.perceptual_layers),
            "losses.perceptual_layers must be 1..=5"
        );
        anyhow::ensure!(
            self.augment.negatives == 0.0,
            "augment.negatives must be 0 for the GAN: a bare face has no hole to fill"
        );
        // With no negatives the cross-entropy weight is irrelevant to the check.
        self.augment.validate(1.0)?;
        Ok(())
    }
}

impl RunConfig for TrainInpaintConfig {
    /// The fields a checkpoint must share to be continued (the length may change unless the
    /// learning rate's schedule is laid over it).
    fn identity(&self) -> Self {
        let fixed_length = !self.lr_schedule.depends_on_length();
        Self {
            epochs: if fixed_length { 0 } else { self.epochs },
            max_steps: if fixed_length { None } else { self.max_steps },
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

/// The GAN's record of its best generators, in the checkpoint state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GanBest {
    pub best_hole_l1: Option<f64>,
}

pub type TrainState = trainer::TrainState<TrainInpaintConfig, GanBest>;

/// Where the data and the optional helpers come from.
pub struct TrainInputs<'a> {
    pub data: &'a Path,
    /// A `train-seg` folder, for `masks: segmenter`.
    pub segmenter: Option<&'a Path>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainOutcome {
    #[serde(flatten)]
    pub run: RunTotals,
    pub val_pairs: usize,
    pub generator_parameters: usize,
    pub discriminator_parameters: usize,
    pub best_hole_l1: Option<f64>,
    pub last: Option<InpaintScores>,
}

impl TrainOutcome {
    pub fn describe(&self) -> String {
        let last = self.last.as_ref().map_or(String::new(), |s| {
            format!(
                ", val hole L1 {:.4} (mean-colour fill {:.4}), PSNR {:.2} dB",
                s.hole_l1, s.baseline_hole_l1, s.psnr
            )
        });
        format!(
            "GAN {} + {} params, {}{}{}",
            self.generator_parameters,
            self.discriminator_parameters,
            self.run.progress(),
            last,
            trainer::speed(self.run.images_per_s)
        )
    }
}

pub fn train(
    config: &TrainInpaintConfig,
    inputs: &TrainInputs,
    out_dir: &Path,
    control: &TrainControl,
) -> Result<TrainOutcome> {
    config.validate()?;
    let train = unmask_masks::sorted_split(inputs.data, "train", config.max_train_samples)?;
    let val = unmask_masks::sorted_split(inputs.data, "val", config.max_val_samples)?;
    let segmenter = match (config.masks, inputs.segmenter) {
        (MaskSource::Segmenter, None) => {
            bail!("`masks: segmenter` needs a `train-seg` stage in `needs`")
        }
        (MaskSource::Segmenter, Some(dir)) => Some(dir.to_path_buf()),
        (MaskSource::Truth, _) => None,
    };
    let vgg_path = if config.losses.perceptual > 0.0 {
        let store = unmask_weights::WeightStore::from_env()?;
        Some(
            store
                .path(unmask_weights::Asset::Vgg16Lpips)
                .context("the perceptual loss needs the VGG16 weights")?,
        )
    } else {
        None
    };
    let job = Job {
        inputs: RunInputs {
            config: config.clone(),
            train,
            val,
            out_dir: out_dir.to_path_buf(),
            control: control.clone(),
        },
        segmenter,
        vgg_path,
    };
    trainer::launch(config.device, out_dir, job)
}

struct Job {
    inputs: RunInputs<TrainInpaintConfig, MaskedPair>,
    /// The segmenter whose masks are the holes (`masks: segmenter`).
    segmenter: Option<PathBuf>,
    /// VGG16's weights for the perceptual loss.
    vgg_path: Option<PathBuf>,
}

impl TrainJob for Job {
    type Output = TrainOutcome;

    fn run<B: TrainingBackend>(self, device: B::Device) -> Result<TrainOutcome> {
        let Job {
            inputs,
            segmenter,
            vgg_path,
        } = self;
        let config = &inputs.config;
        let (net, disc): (InpaintNet<B>, Discriminator<B>) =
            seed::seeded::<B, _>(&device, config.seed, || {
                (
                    config.generator.init(&device),
                    config.discriminator.init(&device),
                )
            });
        let adam = trainer::adam(config.betas);
        let parameters = (net.num_params(), disc.num_params());
        let trainee = GanTrainee {
            ema: config.ema_images.map(|_| net.valid()),
            optim_g: adam.init::<B, InpaintNet<B>>(),
            optim_d: adam.init::<B, Discriminator<B>>(),
            net,
            disc,
            vgg: match &vgg_path {
                Some(p) => Some(Vgg16Features::<B>::load(p, &device)?),
                None => None,
            },
            segmenter: match &segmenter {
                Some(dir) => Some(unmask_seg::Segmenter::<B::InnerBackend>::load(
                    dir, &device,
                )?),
                None => None,
            },
            samples: inputs
                .val
                .iter()
                .take(config.sample_count)
                .cloned()
                .collect(),
            val: &inputs.val,
            config: config.clone(),
        };
        let (cfg, size) = (config.clone(), config.generator.image_size as u32);
        let make_batch = trainer::batches_of(
            inputs.train.clone(),
            move |step, slot| data::view_of(&cfg.augment, cfg.flips, cfg.seed, step, slot),
            move |pairs, views| data::make_batch(pairs, views, size),
        );
        let run = trainer::run(&inputs, trainee, make_batch, &device)?;
        Ok(TrainOutcome {
            run: run.totals,
            val_pairs: inputs.val.len(),
            generator_parameters: parameters.0,
            discriminator_parameters: parameters.1,
            best_hole_l1: run.best.best_hole_l1,
            last: run.last,
        })
    }
}

/// The generators, the discriminator, their optimisers and the fixed helpers as the training
/// loop sees them.
struct GanTrainee<'a, B: TrainingBackend, OG, OD> {
    net: InpaintNet<B>,
    /// The average of the generators' weights, when `ema_images` is set.
    ema: Option<InpaintNet<B::InnerBackend>>,
    disc: Discriminator<B>,
    optim_g: OG,
    optim_d: OD,
    /// VGG16 features for the perceptual loss, when it is on.
    vgg: Option<Vgg16Features<B>>,
    /// The segmenter whose masks are the holes, for `masks: segmenter`.
    segmenter: Option<unmask_seg::Segmenter<B::InnerBackend>>,
    /// Validation faces shown in the sample grids.
    samples: Vec<MaskedPair>,
    val: &'a [MaskedPair],
    config: TrainInpaintConfig,
}

impl<B, OG, OD> Trainee<B> for GanTrainee<'_, B, OG, OD>
where
    B: TrainingBackend,
    OG: Optimizer<InpaintNet<B>, B>,
    OD: Optimizer<Discriminator<B>, B>,
{
    const LABEL: &'static str = "train-inpaint";
    const WHAT: &'static str = "GAN";
    const LOSS_HINT: &'static str = "Lower `lr` or the loss weights.";
    const CLEAR_ON_FRESH: &'static [&'static str] = &[BEST_DIR, SAMPLES_DIR];
    type Best = GanBest;
    type Scores = InpaintScores;
    type Batch = InpaintBatch;

    fn checkpoint_files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let mut files = vec![
            module_file::<B, _>(CHECKPOINT_GENERATOR, &self.net)?,
            module_file::<B, _>(CHECKPOINT_DISCRIMINATOR, &self.disc)?,
            optimizer_file::<B, InpaintNet<B>, _>(CHECKPOINT_GENERATOR_OPTIMIZER, &self.optim_g)?,
            optimizer_file::<B, Discriminator<B>, _>(
                CHECKPOINT_DISCRIMINATOR_OPTIMIZER,
                &self.optim_d,
            )?,
        ];
        if let Some(average) = &self.ema {
            files.push(module_file::<B::InnerBackend, _>(
                CHECKPOINT_GENERATOR_EMA,
                average,
            )?);
        }
        Ok(files)
    }

    fn load_checkpoint(self, dir: &Path, device: &B::Device) -> Result<Self> {
        Ok(Self {
            ema: match self.ema {
                Some(average) => Some(models::load_weights(
                    average,
                    dir,
                    CHECKPOINT_GENERATOR_EMA,
                    device,
                )?),
                None => None,
            },
            net: models::load_weights(self.net, dir, CHECKPOINT_GENERATOR, device)?,
            disc: models::load_weights(self.disc, dir, CHECKPOINT_DISCRIMINATOR, device)?,
            optim_g: load_optimizer(self.optim_g, dir, CHECKPOINT_GENERATOR_OPTIMIZER, device)?,
            optim_d: load_optimizer(
                self.optim_d,
                dir,
                CHECKPOINT_DISCRIMINATOR_OPTIMIZER,
                device,
            )?,
            ..self
        })
    }

    fn step(
        mut self,
        batch: InpaintBatch,
        step: u64,
        total: u64,
        device: &B::Device,
    ) -> Result<(Self, StepReport)> {
        let images = batch.len;
        let BatchTensors {
            masked,
            hole,
            target,
            guide,
        } = batch.tensors::<B>(device);
        let hole = match &self.segmenter {
            Some(s) => Tensor::from_inner(
                s.model()
                    .probabilities(masked.clone().inner())
                    .greater_elem(s.info().threshold)
                    .float(),
            ),
            None => hole,
        };
        let hole = self.net.grow_hole(hole);
        let out = self.net.forward(masked, hole.clone(), guide);
        let lr = self.config.lr_schedule.at(self.config.lr, step, total);
        let w = &self.config.losses;

        // Discriminator step on real targets and detached composites.
        let d_loss = loss::hinge_discriminator(
            self.disc.forward(target.clone(), hole.clone()),
            self.disc.forward(out.fin.clone().detach(), hole.clone()),
        );
        let d_value: f32 = d_loss.clone().into_scalar().elem();
        let grads = GradientsParams::from_grads(d_loss.backward(), &self.disc);
        self.disc = self.optim_d.step(lr, self.disc, grads);

        // Generator step against the updated discriminator.
        let l1_coarse = loss::weighted_l1(out.coarse.clone(), target.clone(), hole.clone(), w.hole);
        let l1_refine = loss::weighted_l1(out.refine.clone(), target.clone(), hole.clone(), w.hole);
        let adversarial = loss::hinge_generator(self.disc.forward(out.fin.clone(), hole.clone()));
        let mut g_loss = l1_coarse.clone().mul_scalar(w.l1_coarse)
            + l1_refine.clone().mul_scalar(w.l1_refine)
            + adversarial.clone().mul_scalar(w.adversarial);
        let mut perceptual_value = 0.0;
        if let Some(vgg) = &self.vgg {
            let p = loss::perceptual(vgg, out.fin.clone(), target.clone(), w.perceptual_layers);
            perceptual_value = p.clone().into_scalar().elem::<f32>() as f64;
            g_loss = g_loss + p.mul_scalar(w.perceptual);
        }
        let g_value: f32 = g_loss.clone().into_scalar().elem();
        let grads = GradientsParams::from_grads(g_loss.backward(), &self.net);
        self.net = self.optim_g.step(lr, self.net, grads);
        if let (Some(average), Some(half_life)) = (self.ema.take(), self.config.ema_images) {
            let batch = self.config.batch_size;
            let seen = (step + 1) * batch as u64;
            let beta = ema::decay(batch, seen, half_life, self.config.ema_rampup);
            self.ema = Some(ema::update(average, &self.net.valid(), beta));
        }

        let scalar = |t: Tensor<B, 1>| t.into_scalar().elem::<f32>() as f64;
        let report = StepReport {
            values: vec![
                ("generator", g_value as f64),
                ("discriminator", d_value as f64),
                ("l1_coarse", scalar(l1_coarse)),
                ("l1_refine", scalar(l1_refine)),
                ("adversarial", scalar(adversarial)),
                ("perceptual", perceptual_value),
            ],
            message: format!("G {g_value:.3} D {d_value:.3}"),
            images,
        };
        Ok((self, report))
    }

    fn after_step(&self, done: u64, total: u64, out_dir: &Path, device: &B::Device) -> Result<()> {
        if done % self.config.sample_every == 0 || done == total {
            write_samples(
                &self.generator(),
                &self.samples,
                self.config.generator.image_size as u32,
                &out_dir
                    .join(SAMPLES_DIR)
                    .join(format!("step-{done:07}.png")),
                device,
            )?;
        }
        Ok(())
    }

    fn validate(&self, device: &B::Device) -> Result<InpaintScores> {
        Ok(InpaintScores::mean(&score_pairs(
            &self.generator(),
            self.val,
            self.config.generator.image_size as u32,
            self.config.eval_batch_size,
            device,
        )?))
    }

    fn improves(&self, best: &mut GanBest, scores: &InpaintScores) -> bool {
        let better = best.best_hole_l1.is_none_or(|b| scores.hole_l1 < b);
        if better {
            best.best_hole_l1 = Some(scores.hole_l1);
        }
        better
    }

    fn save_best(&self, scores: &InpaintScores, step: u64, out_dir: &Path) -> Result<()> {
        let info = InpainterInfo {
            generator: self.config.generator.clone(),
            val_hole_l1: scores.hole_l1,
            step,
        };
        models::save_model::<B::InnerBackend, _, _>(
            &self.generator(),
            &info,
            &out_dir.join(BEST_DIR),
        )
    }
}

impl<B: TrainingBackend, OG, OD> GanTrainee<'_, B, OG, OD> {
    /// The generators that samples, validation and `best/` show: the average when there is one.
    fn generator(&self) -> InpaintNet<B::InnerBackend> {
        self.ema.clone().unwrap_or_else(|| self.net.valid())
    }
}

/// A grid laid out like the report's training figures, one validation face per row:
/// target | masked input with its mask | coarse | refine | final composite.
pub fn write_samples<B: KernelBackend>(
    net: &InpaintNet<B>,
    pairs: &[MaskedPair],
    size: u32,
    path: &Path,
    device: &B::Device,
) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let BatchTensors {
        masked,
        hole,
        target,
        guide,
    } = data::eval_tensors::<B>(pairs, size, device)?;
    let hole = net.grow_hole(hole);
    let out = net.forward(masked.clone(), hole.clone(), guide);
    let fin = net.paste_back(&out, masked.clone(), hole.clone());
    let mut tiles = Vec::new();
    for i in 0..pairs.len() {
        let mut input = unmask_train::images::tensor_to_rgb(&masked, i);
        let mask = unmask_train::images::tensor_to_gray(&hole, i);
        for (p, m) in input.pixels_mut().zip(mask.pixels()) {
            if m.0[0] > 127 {
                p.0 = [p.0[0] / 2 + 127, p.0[1] / 2, p.0[2] / 2];
            }
        }
        tiles.push(unmask_train::images::tensor_to_rgb(&target, i));
        tiles.push(input);
        tiles.push(unmask_train::images::tensor_to_rgb(&out.coarse, i));
        tiles.push(unmask_train::images::tensor_to_rgb(&out.refine, i));
        tiles.push(unmask_train::images::tensor_to_rgb(&fin, i));
    }
    let grid = unmask_core::preview::grid(&tiles, 5, size.max(96));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    unmask_core::atomic::save_png(&grid, path)
}
