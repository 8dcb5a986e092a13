//! Training StyleGAN2 from scratch, plugged into the shared training loop
//! ([`unmask_train::trainer`]: logs, checkpoints, resume): the logistic losses with lazy R1 on
//! the discriminator, the average (EMA) generator, the running mean latent, and grids of
//! random faces. No registry ships FFHQ weights, so the generator learns from the faces stage's
//! faces (through the masks stage's training split) rather than starting "pretrained on FFHQ"
//! as the report's does.

use crate::data::{self, FaceBatch, Latents};
use crate::discriminator::{Discriminator, DiscriminatorConfig};
use crate::inference::{
    StyleGanInfo, CHECKPOINT_DISCRIMINATOR, CHECKPOINT_DISCRIMINATOR_OPTIMIZER,
    CHECKPOINT_GENERATOR, CHECKPOINT_GENERATOR_EMA, CHECKPOINT_GENERATOR_OPTIMIZER,
};
use crate::loss;
use crate::model::{Generator, GeneratorConfig};
use crate::scores::StyleScores;
use anyhow::{ensure, Result};
use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::{ElementConversion, Tensor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use unmask_kernels::{KernelBackend, TrainingBackend};
use unmask_train::checkpoint::{load_optimizer, module_file, optimizer_file};
use unmask_train::trainer::{self, RunConfig, RunInputs, RunTotals, StepReport, Trainee};
use unmask_train::{ema, models, seed, DeviceKind, TrainJob};

pub use unmask_train::models::BEST_DIR;
pub use unmask_train::trainer::{TrainControl, CHECKPOINT_DIR, STEP_LOG, SUMMARY_FILE, VAL_LOG};
pub const SAMPLES_DIR: &str = "samples";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainStyleGanConfig {
    pub generator: GeneratorConfig,
    pub discriminator: DiscriminatorConfig,
    pub epochs: u64,
    pub max_steps: Option<u64>,
    pub batch_size: usize,
    /// Both optimisers' learning rate (StyleGAN2 at 256 px: 0.0025).
    pub lr: f64,
    pub betas: [f64; 2],
    /// The R1 weight gamma (StyleGAN2 at 256 px: 1); 0 turns R1 off.
    pub r1_gamma: f64,
    /// R1 is applied every this many steps, scaled by the interval (lazy regularisation).
    pub r1_every: u64,
    /// The average generator's half-life in images (StyleGAN2: 10,000).
    pub ema_images: f64,
    /// Early on the half-life is at most this fraction of the images seen (StyleGAN2: 0.05).
    pub ema_rampup: Option<f64>,
    pub seed: u64,
    pub flips: bool,
    pub checkpoint_every: u64,
    /// Writes a grid of random faces every this many steps (and at the end).
    pub sample_every: u64,
    /// Faces in each grid.
    pub sample_count: usize,
    pub max_train_samples: Option<usize>,
    /// Validation faces scored after each epoch (all when unset).
    pub max_val_samples: Option<usize>,
    pub eval_batch_size: usize,
    pub device: DeviceKind,
}

impl Default for TrainStyleGanConfig {
    fn default() -> Self {
        Self {
            generator: GeneratorConfig::default(),
            discriminator: DiscriminatorConfig::default(),
            epochs: 20,
            max_steps: None,
            batch_size: 8,
            lr: 0.0025,
            betas: [0.0, 0.99],
            r1_gamma: 1.0,
            r1_every: 16,
            ema_images: 10_000.0,
            ema_rampup: Some(0.05),
            seed: 0,
            flips: true,
            checkpoint_every: 200,
            sample_every: 200,
            sample_count: 16,
            max_train_samples: None,
            max_val_samples: Some(256),
            eval_batch_size: 8,
            device: DeviceKind::Cpu,
        }
    }
}

impl TrainStyleGanConfig {
    pub fn validate(&self) -> Result<()> {
        self.generator.validate()?;
        self.discriminator.validate(self.generator.image_size)?;
        ensure!(self.batch_size >= 1, "batch_size must be at least 1");
        ensure!(self.lr > 0.0 && self.lr.is_finite(), "lr must be positive");
        ensure!(
            self.betas.iter().all(|b| (0.0..1.0).contains(b)),
            "betas must be in [0, 1)"
        );
        ensure!(
            self.r1_gamma >= 0.0 && self.r1_gamma.is_finite(),
            "r1_gamma must be 0 or more"
        );
        ensure!(self.r1_every >= 1, "r1_every must be at least 1");
        ensure!(self.ema_images > 0.0, "ema_images must be positive");
        ensure!(
            self.checkpoint_every >= 1 && self.sample_every >= 1 && self.eval_batch_size >= 1,
            "checkpoint_every, sample_every and eval_batch_size must be at least 1"
        );
        Ok(())
    }

    /// Lazy R1 runs the discriminator's optimiser with its learning rate and betas raised to
    /// `r1_every / (r1_every + 1)`, as StyleGAN2 does, so the regularised steps average out.
    fn discriminator_ratio(&self) -> f64 {
        if self.r1_gamma > 0.0 {
            self.r1_every as f64 / (self.r1_every as f64 + 1.0)
        } else {
            1.0
        }
    }
}

impl RunConfig for TrainStyleGanConfig {
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

/// StyleGAN2 keeps no record of a best score (see `improves`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StyleBest {}

pub type TrainState = trainer::TrainState<TrainStyleGanConfig, StyleBest>;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainOutcome {
    #[serde(flatten)]
    pub run: RunTotals,
    pub val_faces: usize,
    pub generator_parameters: usize,
    pub discriminator_parameters: usize,
    pub last: Option<StyleScores>,
}

impl TrainOutcome {
    pub fn describe(&self) -> String {
        let last = self.last.as_ref().map_or(String::new(), |s| {
            format!(", {}", unmask_train::ScoreRow::describe(s))
        });
        format!(
            "StyleGAN2 {} + {} params, {}{}{}",
            self.generator_parameters,
            self.discriminator_parameters,
            self.run.progress(),
            last,
            trainer::speed(self.run.images_per_s)
        )
    }
}

/// Trains on the unmasked faces of the masks stage in `data` into `out_dir`.
pub fn train(
    config: &TrainStyleGanConfig,
    data: &Path,
    out_dir: &Path,
    control: &TrainControl,
) -> Result<TrainOutcome> {
    config.validate()?;
    let job = Job {
        inputs: RunInputs {
            config: config.clone(),
            train: data::faces_of(data, "train", config.max_train_samples)?,
            val: data::faces_of(data, "val", config.max_val_samples)?,
            out_dir: out_dir.to_path_buf(),
            control: control.clone(),
        },
    };
    trainer::launch(config.device, out_dir, job)
}

struct Job {
    inputs: RunInputs<TrainStyleGanConfig, PathBuf>,
}

impl TrainJob for Job {
    type Output = TrainOutcome;

    fn run<B: TrainingBackend>(self, device: B::Device) -> Result<TrainOutcome> {
        let inputs = self.inputs;
        let config = &inputs.config;
        let size = config.generator.image_size;
        let (net, disc): (Generator<B>, Discriminator<B>) =
            seed::seeded::<B, _>(&device, config.seed, || {
                (
                    config.generator.init(&device),
                    config.discriminator.init(size, &device),
                )
            });
        let ratio = config.discriminator_ratio();
        let betas_d = config.betas.map(|b| b.powf(ratio));
        let parameters = (net.num_params(), disc.num_params());
        let trainee = StyleTrainee {
            optim_g: trainer::adam(config.betas).init::<B, Generator<B>>(),
            optim_d: trainer::adam(betas_d).init::<B, Discriminator<B>>(),
            ema: net.valid(),
            net,
            disc,
            train: &inputs.train,
            val: &inputs.val,
            config: config.clone(),
        };
        let seed = config.seed;
        let flips = config.flips;
        let make_batch = trainer::batches_of(
            inputs.train.clone(),
            move |step, slot| flips && data::flip_of(seed, step, slot),
            move |faces, flips| data::make_batch(faces, flips, size as u32),
        );
        let run = trainer::run(&inputs, trainee, make_batch, &device)?;
        Ok(TrainOutcome {
            run: run.totals,
            val_faces: inputs.val.len(),
            generator_parameters: parameters.0,
            discriminator_parameters: parameters.1,
            last: run.last,
        })
    }
}

/// The networks, the average generator and the optimisers as the training loop sees them.
struct StyleTrainee<'a, B: TrainingBackend, OG, OD> {
    net: Generator<B>,
    /// The exponential moving average of `net`'s weights.
    ema: Generator<B::InnerBackend>,
    disc: Discriminator<B>,
    optim_g: OG,
    optim_d: OD,
    train: &'a [PathBuf],
    val: &'a [PathBuf],
    config: TrainStyleGanConfig,
}

/// How fast the running mean latent follows the batches' mean (StyleGAN2's `w_avg_beta`).
const W_AVG_BETA: f64 = 0.995;

impl<B, OG, OD> StyleTrainee<'_, B, OG, OD>
where
    B: TrainingBackend,
{
    fn latents(&self, stream: &str, step: u64, n: usize) -> Latents {
        let g = &self.config.generator;
        Latents::draw(self.config.seed, stream, step, n, g.z_dim, &g.noise_sides())
    }

    /// The discriminator's mean logit over `images` (paths) in batches.
    fn mean_logit(&self, faces: &[PathBuf], device: &B::Device) -> Result<f64> {
        let disc = self.disc.valid();
        let size = self.config.generator.image_size as u32;
        let mut sum = 0.0;
        for chunk in faces.chunks(self.config.eval_batch_size) {
            let batch = data::make_batch(chunk, &vec![false; chunk.len()], size)?;
            let logits = disc.forward(batch.tensor::<B::InnerBackend>(device));
            sum += logits.sum().into_scalar().elem::<f32>() as f64;
        }
        Ok(sum / faces.len().max(1) as f64)
    }
}

impl<B, OG, OD> Trainee<B> for StyleTrainee<'_, B, OG, OD>
where
    B: TrainingBackend,
    OG: Optimizer<Generator<B>, B>,
    OD: Optimizer<Discriminator<B>, B>,
{
    const LABEL: &'static str = "train-stylegan";
    const WHAT: &'static str = "StyleGAN2";
    const LOSS_HINT: &'static str = "Lower `lr` or raise `r1_gamma`.";
    const CLEAR_ON_FRESH: &'static [&'static str] = &[BEST_DIR, SAMPLES_DIR];
    type Best = StyleBest;
    type Scores = StyleScores;
    type Batch = FaceBatch;

    fn checkpoint_files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            module_file::<B, _>(CHECKPOINT_GENERATOR, &self.net)?,
            module_file::<B::InnerBackend, _>(CHECKPOINT_GENERATOR_EMA, &self.ema)?,
            module_file::<B, _>(CHECKPOINT_DISCRIMINATOR, &self.disc)?,
            optimizer_file::<B, Generator<B>, _>(CHECKPOINT_GENERATOR_OPTIMIZER, &self.optim_g)?,
            optimizer_file::<B, Discriminator<B>, _>(
                CHECKPOINT_DISCRIMINATOR_OPTIMIZER,
                &self.optim_d,
            )?,
        ])
    }

    fn load_checkpoint(self, dir: &Path, device: &B::Device) -> Result<Self> {
        Ok(Self {
            net: models::load_weights(self.net, dir, CHECKPOINT_GENERATOR, device)?,
            ema: models::load_weights(self.ema, dir, CHECKPOINT_GENERATOR_EMA, device)?,
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
        batch: FaceBatch,
        step: u64,
        _total: u64,
        device: &B::Device,
    ) -> Result<(Self, StepReport)> {
        let n = batch.len;
        let real = batch.tensor::<B>(device);
        let config = self.config.clone();
        let ratio = config.discriminator_ratio();

        // Discriminator: logistic loss on real faces and on faces of the current generator,
        // plus R1 on the real faces every `r1_every` steps.
        let d_draw = self.latents("stylegan-d", step, n);
        let fake = Tensor::from_inner(self.net.valid().generate(
            d_draw.z(device),
            1.0,
            &d_draw.noise(device),
        ));
        let adversarial_d =
            loss::discriminator_logistic(self.disc.forward(real.clone()), self.disc.forward(fake));
        let d_value: f64 = adversarial_d.clone().into_scalar().elem::<f32>() as f64;
        let mut d_loss = adversarial_d;
        let mut r1_value = 0.0;
        if config.r1_gamma > 0.0 && step % config.r1_every == 0 {
            let disc = &self.disc;
            let r1 = loss::r1(|x| disc.forward(x), real);
            r1_value = r1.penalty;
            let weight = config.r1_gamma / 2.0 * config.r1_every as f64;
            d_loss = d_loss + r1.surrogate.mul_scalar(weight);
        }
        let grads = GradientsParams::from_grads(d_loss.backward(), &self.disc);
        self.disc = self.optim_d.step(config.lr * ratio, self.disc, grads);

        // Generator: the non-saturating loss through the updated discriminator, whose own
        // weights get no gradient.
        let g_draw = self.latents("stylegan-g", step, n);
        let w = self.net.map_latent(g_draw.z(device));
        let w_mean = w
            .clone()
            .detach()
            .mean_dim(0)
            .reshape([config.generator.w_dim]);
        let fake = self
            .net
            .synthesis(self.net.broadcast(w), &g_draw.noise(device));
        let g_loss = loss::generator_nonsaturating(self.disc.clone().no_grad().forward(fake));
        let g_value: f64 = g_loss.clone().into_scalar().elem::<f32>() as f64;
        let grads = GradientsParams::from_grads(g_loss.backward(), &self.net);
        self.net = self.optim_g.step(config.lr, self.net, grads);
        let w_avg = self.net.w_avg.value();
        self.net
            .w_avg
            .update((w_avg.mul_scalar(W_AVG_BETA) + w_mean.mul_scalar(1.0 - W_AVG_BETA)).detach());

        let seen = (step + 1) * n as u64;
        let beta = ema::decay(n, seen, config.ema_images, config.ema_rampup);
        let current = self.net.valid();
        self.ema = ema::update(self.ema, &current, beta);
        // The running mean latent is copied, not averaged (StyleGAN2 copies buffers).
        self.ema.w_avg.update(current.w_avg.value());

        let report = StepReport {
            values: vec![
                ("generator", g_value),
                ("discriminator", d_value),
                // The penalty on the steps that apply it (every `r1_every`), 0 between.
                ("r1", r1_value),
            ],
            message: format!("G {g_value:.3} D {d_value:.3}"),
            images: n,
        };
        Ok((self, report))
    }

    fn after_step(&self, done: u64, total: u64, out_dir: &Path, device: &B::Device) -> Result<()> {
        if done % self.config.sample_every == 0 || done == total {
            crate::inference::write_grid(
                &self.ema,
                &self.config.generator,
                self.config.sample_count,
                self.config.seed,
                &out_dir
                    .join(SAMPLES_DIR)
                    .join(format!("step-{done:07}.png")),
                device,
            )?;
        }
        Ok(())
    }

    fn validate(&self, device: &B::Device) -> Result<StyleScores> {
        let count = self.val.len();
        let train = &self.train[..count.min(self.train.len())];
        let draw = self.latents("stylegan-val", 0, count);
        let disc = self.disc.valid();
        let mut fake_sum = 0.0;
        let z = draw.z::<B::InnerBackend>(device);
        let noise = draw.noise::<B::InnerBackend>(device);
        let chunk = self.config.eval_batch_size;
        for start in (0..count).step_by(chunk) {
            let len = chunk.min(count - start);
            let noise: Vec<_> = noise
                .iter()
                .map(|m| m.clone().narrow(0, start, len))
                .collect();
            let faces = self
                .ema
                .generate(z.clone().narrow(0, start, len), 1.0, &noise);
            fake_sum += disc.forward(faces).sum().into_scalar().elem::<f32>() as f64;
        }
        Ok(StyleScores {
            d_val_real: self.mean_logit(self.val, device)?,
            d_train_real: self.mean_logit(train, device)?,
            d_fake: fake_sum / count.max(1) as f64,
        })
    }

    /// An unconditional GAN has no held-out score here to rank its generators by (FID needs
    /// Inception weights), so the saved model is always the latest average generator.
    fn improves(&self, _best: &mut StyleBest, _scores: &StyleScores) -> bool {
        true
    }

    fn save_best(&self, _scores: &StyleScores, step: u64, out_dir: &Path) -> Result<()> {
        let info = StyleGanInfo {
            generator: self.config.generator.clone(),
            step,
            images_seen: step * self.config.batch_size as u64,
        };
        models::save_model::<B::InnerBackend, _, _>(&self.ema, &info, &out_dir.join(BEST_DIR))
    }
}

/// The average generator's weights in the last checkpoint of `train_dir` (for pSp and tests).
pub fn ema_from_checkpoint<B: KernelBackend>(
    train_dir: &Path,
    device: &B::Device,
) -> Result<(Generator<B>, u64)> {
    #[derive(Deserialize)]
    struct View {
        generator: GeneratorConfig,
    }
    let (g, view) = models::load_from_checkpoint::<B, View, _>(
        train_dir,
        CHECKPOINT_GENERATOR_EMA,
        |c| c.generator.init(device),
        device,
    )?;
    Ok((g, view.step))
}
