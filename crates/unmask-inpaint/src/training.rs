//! Training the GAN: two Adam optimisers (generators, discriminator), per-step losses, sample
//! grids, checkpoints of both networks and both optimisers with resume, and the best
//! generators by validation hole L1.

use crate::data::{self, BatchTensors, InpaintBatch};
use crate::discriminator::{Discriminator, DiscriminatorConfig};
use crate::evaluation::{self, InpaintScores};
use crate::inference::{InpainterInfo, INFO_FILE, WEIGHTS_FILE};
use crate::loss::{self, LossWeights};
use crate::model::{GeneratorConfig, InpaintNet};
use anyhow::{bail, Context, Result};
use burn::module::{AutodiffModule, Module};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{ElementConversion, Tensor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use unmask_kernels::{KernelBackend, TrainingBackend};
use unmask_masks::MaskedPair;
use unmask_metrics::Vgg16Features;
use unmask_seg::augment::AugmentConfig;
use unmask_train::checkpoint::{self, load_record, record_bytes, save_dir, to_json};
use unmask_train::log::MetricLog;
use unmask_train::{backend, order, seed, DeviceKind, TrainJob};

pub const CHECKPOINT_DIR: &str = "checkpoint";
pub const BEST_DIR: &str = unmask_train::models::BEST_DIR;
pub const SAMPLES_DIR: &str = "samples";
pub const STEP_LOG: &str = "steps.parquet";
pub const VAL_LOG: &str = "validation.parquet";
pub const SUMMARY_FILE: &str = "train_summary.json";

/// Which holes the GAN trains on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskSource {
    /// The exact masks of mask synthesis.
    #[default]
    Truth,
    /// The trained segmenter's masks (needs a `train-seg` stage).
    Segmenter,
}

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
    pub betas: [f64; 2],
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
            betas: [0.5, 0.999],
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

    /// The fields a checkpoint must share to be continued (the schedule may change).
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

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    pub config: TrainInpaintConfig,
    pub step: u64,
    pub best_hole_l1: Option<f64>,
    pub best_step: Option<u64>,
    /// Older checkpoints lack it and start from zero.
    #[serde(default)]
    pub throughput: checkpoint::Throughput,
}

#[derive(Clone, Debug, Default)]
pub struct TrainControl {
    /// Returns after this step as if killed (after any checkpoint due at it).
    pub stop_after: Option<u64>,
    /// Discards an existing checkpoint and starts afresh.
    pub fresh: bool,
}

/// Where the data and the optional helpers come from.
pub struct TrainInputs<'a> {
    pub data: &'a Path,
    /// A `train-seg` folder, for `masks: segmenter`.
    pub segmenter: Option<&'a Path>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainOutcome {
    pub steps: u64,
    pub total_steps: u64,
    pub resumed_from: Option<u64>,
    pub train_pairs: usize,
    pub val_pairs: usize,
    pub generator_parameters: usize,
    pub discriminator_parameters: usize,
    pub best_hole_l1: Option<f64>,
    pub last: Option<InpaintScores>,
    pub images_per_s: f64,
    pub finished: bool,
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
            "GAN {} + {} params, {}/{} steps on {} pairs{}{}{}",
            self.generator_parameters,
            self.discriminator_parameters,
            self.steps,
            self.total_steps,
            self.train_pairs,
            self.resumed_from
                .map_or(String::new(), |s| format!(" (resumed at {s})")),
            last,
            unmask_seg::training::speed(self.images_per_s)
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
    let mut train = unmask_masks::read_split(inputs.data, "train")?;
    train.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(limit) = config.max_train_samples {
        train.truncate(limit.max(1));
    }
    let mut val = unmask_masks::read_split(inputs.data, "val")?;
    val.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(limit) = config.max_val_samples {
        val.truncate(limit.max(1));
    }
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
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let job = Job {
        config: config.clone(),
        train,
        val,
        segmenter,
        vgg_path,
        out_dir: out_dir.to_path_buf(),
        control: control.clone(),
    };
    let outcome = backend::train_on(config.device, job)?;
    unmask_core::atomic::write_bytes(&out_dir.join(SUMMARY_FILE), &to_json(&outcome)?)?;
    Ok(outcome)
}

struct Job {
    config: TrainInpaintConfig,
    train: Vec<MaskedPair>,
    val: Vec<MaskedPair>,
    segmenter: Option<PathBuf>,
    vgg_path: Option<PathBuf>,
    out_dir: PathBuf,
    control: TrainControl,
}

impl TrainJob for Job {
    type Output = TrainOutcome;

    fn run<B: TrainingBackend>(self, device: B::Device) -> Result<TrainOutcome> {
        let Job {
            config,
            train,
            val,
            segmenter,
            vgg_path,
            out_dir,
            control,
        } = self;
        let ckpt_dir = out_dir.join(CHECKPOINT_DIR);
        if control.fresh {
            for d in [CHECKPOINT_DIR, BEST_DIR, SAMPLES_DIR] {
                checkpoint::remove_dir(&out_dir.join(d))?;
            }
        }
        let (mut net, mut disc): (InpaintNet<B>, Discriminator<B>) =
            seed::seeded::<B, _>(&device, config.seed, || {
                (
                    config.generator.init(&device),
                    config.discriminator.init(&device),
                )
            });
        let adam = AdamConfig::new()
            .with_beta_1(config.betas[0] as f32)
            .with_beta_2(config.betas[1] as f32);
        let mut optim_g = adam.init::<B, InpaintNet<B>>();
        let mut optim_d = adam.init::<B, Discriminator<B>>();
        let mut state = TrainState {
            config: config.clone(),
            step: 0,
            best_hole_l1: None,
            best_step: None,
            throughput: Default::default(),
        };
        let mut resumed_from = None;
        let mut resumed_dir = None;
        if let Some((dir, saved)) = checkpoint::resume_state(
            &ckpt_dir,
            |s: &TrainState| s.config.identity(),
            &config.identity(),
        )? {
            net = net.load_record(load_record::<B, _>(&dir.join("generator.mpk"), &device)?);
            disc = disc.load_record(load_record::<B, _>(
                &dir.join("discriminator.mpk"),
                &device,
            )?);
            optim_g = optim_g.load_record(load_record::<B, _>(
                &dir.join("generator_optimizer.mpk"),
                &device,
            )?);
            optim_d = optim_d.load_record(load_record::<B, _>(
                &dir.join("discriminator_optimizer.mpk"),
                &device,
            )?);
            state = TrainState {
                config: config.clone(),
                ..saved
            };
            resumed_from = Some(state.step);
            resumed_dir = Some(dir.clone());
            tracing::info!(
                "resuming GAN training from step {} ({})",
                state.step,
                dir.display()
            );
        }
        let vgg = match &vgg_path {
            Some(p) => Some(Vgg16Features::<B>::load(p, &device)?),
            None => None,
        };
        let seg = match &segmenter {
            Some(dir) => Some(unmask_seg::Segmenter::<B::InnerBackend>::load(
                dir, &device,
            )?),
            None => None,
        };
        let ckpt_logs = resumed_dir.as_deref();
        let mut step_log = MetricLog::resume(ckpt_logs, &out_dir, STEP_LOG, state.step)?;
        let mut val_log = MetricLog::resume(ckpt_logs, &out_dir, VAL_LOG, state.step)?;

        let size = config.generator.image_size as u32;
        let schedule = order::Schedule::new(
            train.len(),
            config.batch_size,
            config.epochs,
            config.max_steps,
        );
        let total = schedule.total;
        let session = schedule.session(state.step, control.stop_after);
        let batches = {
            let (train, cfg) = (train.clone(), config.clone());
            unmask_train::images::prefetch(
                session.clone().collect(),
                2,
                move |step| -> Result<(u64, InpaintBatch)> {
                    let (_, idx) =
                        order::batch_indices(train.len(), cfg.batch_size, cfg.seed, step);
                    let pairs: Vec<MaskedPair> = idx.iter().map(|&i| train[i].clone()).collect();
                    let views: Vec<_> = (0..pairs.len())
                        .map(|k| data::view_of(&cfg.augment, cfg.flips, cfg.seed, step, k))
                        .collect();
                    Ok((step, data::make_batch(&pairs, &views, size)?))
                },
            )
        };
        let samples: Vec<MaskedPair> = val.iter().take(config.sample_count).cloned().collect();
        let parameters = (net.num_params(), disc.num_params());
        let progress =
            unmask_core::progress::Progress::new("train-inpaint", session.end - session.start);
        let mut last_scores = None;
        let w = &config.losses;
        for received in batches {
            let (step, batch) = received?;
            let timer = Instant::now();
            let batch_len = batch.len;
            let BatchTensors {
                masked,
                hole,
                target,
            } = batch.tensors::<B>(&device);
            let hole = match &seg {
                Some(s) => Tensor::from_inner(
                    s.model()
                        .probabilities(masked.clone().inner())
                        .greater_elem(s.info().threshold)
                        .float(),
                ),
                None => hole,
            };
            let hole = net.grow_hole(hole);
            let out = net.forward(masked, hole.clone());

            // Discriminator step on real targets and detached composites.
            let d_loss = loss::hinge_discriminator(
                disc.forward(target.clone(), hole.clone()),
                disc.forward(out.fin.clone().detach(), hole.clone()),
            );
            let d_value: f32 = d_loss.clone().into_scalar().elem();
            let grads = GradientsParams::from_grads(d_loss.backward(), &disc);
            disc = optim_d.step(config.lr, disc, grads);

            // Generator step against the updated discriminator.
            let l1_coarse =
                loss::weighted_l1(out.coarse.clone(), target.clone(), hole.clone(), w.hole);
            let l1_refine =
                loss::weighted_l1(out.refine.clone(), target.clone(), hole.clone(), w.hole);
            let adversarial = loss::hinge_generator(disc.forward(out.fin.clone(), hole.clone()));
            let mut g_loss = l1_coarse.clone().mul_scalar(w.l1_coarse)
                + l1_refine.clone().mul_scalar(w.l1_refine)
                + adversarial.clone().mul_scalar(w.adversarial);
            let mut perceptual_value = 0.0;
            if let Some(vgg) = &vgg {
                let p = loss::perceptual(vgg, out.fin.clone(), target.clone(), w.perceptual_layers);
                perceptual_value = p.clone().into_scalar().elem::<f32>() as f64;
                g_loss = g_loss + p.mul_scalar(w.perceptual);
            }
            let g_value: f32 = g_loss.clone().into_scalar().elem();
            if !g_value.is_finite() || !d_value.is_finite() {
                bail!(
                    "the GAN loss became non-finite at step {} (generator {g_value}, discriminator {d_value}); training stopped and the last good checkpoint (step {}) is kept in {}. Lower `lr` or the loss weights.",
                    step + 1,
                    state.step,
                    ckpt_dir.display()
                );
            }
            let grads = GradientsParams::from_grads(g_loss.backward(), &net);
            net = optim_g.step(config.lr, net, grads);
            state
                .throughput
                .add(batch_len, timer.elapsed().as_secs_f64());

            let done = step + 1;
            let epoch = schedule.epoch_of(step);
            let scalar = |t: Tensor<B, 1>| t.into_scalar().elem::<f32>() as f64;
            step_log.push(
                done,
                epoch,
                &[
                    ("generator", g_value as f64),
                    ("discriminator", d_value as f64),
                    ("l1_coarse", scalar(l1_coarse)),
                    ("l1_refine", scalar(l1_refine)),
                    ("adversarial", scalar(adversarial)),
                    ("perceptual", perceptual_value),
                ],
            );
            progress.set_message(format!("G {g_value:.3} D {d_value:.3}"));
            progress.inc(1);

            let epoch_end = schedule.epoch_end(done);
            if done % config.sample_every == 0 || done == total {
                write_samples(
                    &net.valid(),
                    &samples,
                    size,
                    &out_dir
                        .join(SAMPLES_DIR)
                        .join(format!("step-{done:07}.png")),
                    &device,
                )?;
            }
            if epoch_end {
                let scores = InpaintScores::mean(&evaluation::score_pairs(
                    &net.valid(),
                    &val,
                    size,
                    config.eval_batch_size,
                    &device,
                )?);
                val_log.push(done, epoch, &scores.as_row());
                tracing::info!(
                    "epoch {} (step {done}): val hole L1 {:.4} (mean-colour fill {:.4}), L1 {:.4}, PSNR {:.2} dB",
                    epoch + 1,
                    scores.hole_l1,
                    scores.baseline_hole_l1,
                    scores.l1,
                    scores.psnr
                );
                if state.best_hole_l1.is_none_or(|b| scores.hole_l1 < b) {
                    state.best_hole_l1 = Some(scores.hole_l1);
                    state.best_step = Some(done);
                    save_best(&net, &config, scores.hole_l1, done, &out_dir)?;
                }
                last_scores = Some(scores);
            }
            state.step = done;
            if epoch_end || done % config.checkpoint_every == 0 {
                let files = [
                    (
                        "generator.mpk",
                        record_bytes::<B, _>(net.clone().into_record())?,
                    ),
                    (
                        "discriminator.mpk",
                        record_bytes::<B, _>(disc.clone().into_record())?,
                    ),
                    (
                        "generator_optimizer.mpk",
                        record_bytes::<B, _>(optim_g.to_record())?,
                    ),
                    (
                        "discriminator_optimizer.mpk",
                        record_bytes::<B, _>(optim_d.to_record())?,
                    ),
                    ("state.json", to_json(&state)?),
                    // The logs as of this step travel with the weights (see
                    // `MetricLog::resume`).
                    (STEP_LOG, step_log.to_bytes()?),
                    (VAL_LOG, val_log.to_bytes()?),
                ];
                let refs: Vec<(&str, &[u8])> =
                    files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
                save_dir(&ckpt_dir, &refs)?;
                step_log.save(&out_dir.join(STEP_LOG))?;
                val_log.save(&out_dir.join(VAL_LOG))?;
            }
        }
        progress.finish();
        if last_scores.is_none() {
            last_scores = InpaintScores::from_log(&val_log);
        }
        Ok(TrainOutcome {
            steps: state.step,
            total_steps: total,
            resumed_from,
            train_pairs: train.len(),
            val_pairs: val.len(),
            generator_parameters: parameters.0,
            discriminator_parameters: parameters.1,
            best_hole_l1: state.best_hole_l1,
            last: last_scores,
            images_per_s: state.throughput.per_second(),
            finished: state.step >= total,
        })
    }
}

fn save_best<B: TrainingBackend>(
    net: &InpaintNet<B>,
    config: &TrainInpaintConfig,
    hole_l1: f64,
    step: u64,
    out_dir: &Path,
) -> Result<()> {
    let info = InpainterInfo {
        generator: config.generator.clone(),
        val_hole_l1: hole_l1,
        step,
    };
    let bytes = record_bytes::<B, _>(net.clone().into_record())?;
    save_dir(
        &out_dir.join(BEST_DIR),
        &[(WEIGHTS_FILE, &bytes), (INFO_FILE, &to_json(&info)?)],
    )
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
    } = data::eval_tensors::<B>(pairs, size, device)?;
    let hole = net.grow_hole(hole);
    let out = net.forward(masked.clone(), hole.clone());
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
