//! Training the segmenter: Adam on the Dice loss, per-step and per-epoch logs, checkpoints
//! every N steps and at each epoch end, resume from the last checkpoint, and the best model by
//! validation score (Dice, less bare-face false alarms when training shows bare faces) kept
//! apart for inference.

use crate::augment::{AugmentConfig, View};
use crate::data::{self, SegBatch};
use crate::evaluation::{self, ValScores};
use crate::model::{UNet, UNetConfig};
use crate::{inference::SegmenterInfo, loss};
use anyhow::{bail, Context, Result};
use burn::module::{AutodiffModule, Module};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::ElementConversion;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use unmask_kernels::TrainingBackend;
use unmask_masks::MaskedPair;
use unmask_train::checkpoint::{self, load_record, record_bytes, save_dir, to_json};
use unmask_train::log::MetricLog;
use unmask_train::{backend, order, seed, DeviceKind, TrainJob};

pub const CHECKPOINT_DIR: &str = "checkpoint";
pub const BEST_DIR: &str = unmask_train::models::BEST_DIR;
pub const STEP_LOG: &str = "steps.parquet";
/// The checkpoint format: 1 = sample views from `(seed, step, slot)` and six validation scores.
pub const STATE_FORMAT: u32 = 1;
pub const VAL_LOG: &str = "validation.parquet";
pub const SUMMARY_FILE: &str = "train_summary.json";

/// Everything that defines a training run (the `train-seg` stage's parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSegConfig {
    pub model: UNetConfig,
    pub epochs: u64,
    /// Stops after this many optimizer steps even if epochs remain.
    pub max_steps: Option<u64>,
    pub batch_size: usize,
    /// Adam learning rate (the report: 0.001).
    pub lr: f64,
    /// `constant` (the report) or `cosine`: from `lr` down to 1% of it over the run, which
    /// settles a model trained on varied samples instead of leaving it at a noisy step.
    pub lr_schedule: LrSchedule,
    pub betas: [f64; 2],
    pub seed: u64,
    /// Mirror half of the training images left-right.
    pub flips: bool,
    /// Weight of binary cross-entropy added to the Dice loss (0: Dice alone, as the report).
    pub bce_weight: f32,
    /// Negatives (bare faces) and random colour and framing changes; none by default.
    pub augment: AugmentConfig,
    pub checkpoint_every: u64,
    /// Uses only the first N training pairs (by id) when set.
    pub max_train_samples: Option<usize>,
    /// Probability above which a pixel is called mask, at validation and in inference.
    pub threshold: f32,
    pub eval_batch_size: usize,
    pub device: DeviceKind,
}

impl Default for TrainSegConfig {
    fn default() -> Self {
        Self {
            model: UNetConfig::default(),
            epochs: 5,
            max_steps: None,
            batch_size: 8,
            lr: 1e-3,
            lr_schedule: LrSchedule::Constant,
            betas: [0.9, 0.999],
            seed: 0,
            flips: true,
            bce_weight: 0.0,
            augment: AugmentConfig::default(),
            checkpoint_every: 200,
            max_train_samples: None,
            threshold: 0.5,
            eval_batch_size: 16,
            device: DeviceKind::Cpu,
        }
    }
}

impl TrainSegConfig {
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.augment.validate(self.bce_weight)?;
        anyhow::ensure!(self.batch_size >= 1, "batch_size must be at least 1");
        anyhow::ensure!(
            self.epochs >= 1 || self.max_steps.is_some(),
            "epochs must be at least 1"
        );
        anyhow::ensure!(
            self.lr > 0.0 && self.lr.is_finite(),
            "lr must be positive, got {}",
            self.lr
        );
        anyhow::ensure!(
            self.checkpoint_every >= 1,
            "checkpoint_every must be at least 1"
        );
        anyhow::ensure!(
            (0.0..1.0).contains(&self.threshold),
            "threshold must be in [0, 1)"
        );
        Ok(())
    }

    /// The fields a checkpoint must agree on to be continued: everything except the schedule
    /// (more epochs, another checkpoint interval or device may continue a run).
    fn identity(&self) -> Self {
        // A cosine schedule is laid over the whole run: another length is another run.
        let fixed_length = self.lr_schedule == LrSchedule::Constant;
        Self {
            epochs: if fixed_length { 0 } else { self.epochs },
            max_steps: if fixed_length { None } else { self.max_steps },
            checkpoint_every: 1,
            threshold: 0.5,
            eval_batch_size: 1,
            device: DeviceKind::Cpu,
            ..self.clone()
        }
    }
}

/// How the learning rate moves over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    #[default]
    Constant,
    Cosine,
}

impl LrSchedule {
    /// The rate at optimizer step `step` (from 0) of `total`.
    pub fn at(self, lr: f64, step: u64, total: u64) -> f64 {
        match self {
            Self::Constant => lr,
            Self::Cosine => {
                let t = step as f64 / total.max(1) as f64;
                let floor = 0.01 * lr;
                floor + (lr - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
            }
        }
    }
}

/// Where a checkpoint stands.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    pub config: TrainSegConfig,
    pub step: u64,
    pub best_dice: Option<f64>,
    /// What picks the best model: validation Dice, less the share of bare-face pixels marked when
    /// training shows bare faces.
    #[serde(default)]
    pub best_score: Option<f64>,
    pub best_step: Option<u64>,
    /// Older checkpoints lack it and start from zero.
    #[serde(default)]
    pub throughput: checkpoint::Throughput,
    /// How samples are drawn and scored ([`STATE_FORMAT`]); 0 in checkpoints from before
    /// sample views and bare-face scores, which finish as they are but do not continue.
    #[serde(default)]
    pub format: u32,
}

/// Test and tooling hooks that are not part of the run's identity.
#[derive(Clone, Debug, Default)]
pub struct TrainControl {
    /// Returns after this global step as if the process were killed there (after the
    /// checkpoint due at that step, if any).
    pub stop_after: Option<u64>,
    /// Discards an existing checkpoint and starts afresh.
    pub fresh: bool,
}

/// What a run did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainOutcome {
    pub steps: u64,
    pub total_steps: u64,
    pub resumed_from: Option<u64>,
    pub train_pairs: usize,
    pub val_pairs: usize,
    pub best_dice: Option<f64>,
    pub last: Option<ValScores>,
    /// Training images per second over this session's steps (validation excluded).
    pub images_per_s: f64,
    pub parameters: usize,
    pub finished: bool,
}

impl TrainOutcome {
    pub fn describe(&self) -> String {
        let scores = self.last.as_ref().map_or(String::new(), |s| {
            format!(
                ", val Dice {:.4} IoU {:.4} acc {:.4}",
                s.dice, s.iou, s.pixel_accuracy
            )
        });
        format!(
            "UNet {} params, {}/{} steps on {} pairs{}{}, best model's Dice {}{}",
            self.parameters,
            self.steps,
            self.total_steps,
            self.train_pairs,
            self.resumed_from
                .map_or(String::new(), |s| format!(" (resumed at {s})")),
            scores,
            self.best_dice.map_or("-".into(), |d| format!("{d:.4}")),
            speed(self.images_per_s)
        )
    }
}

/// ", 12.3 img/s", or nothing when no step ran in this session.
pub fn speed(images_per_s: f64) -> String {
    if images_per_s > 0.0 {
        format!(", {images_per_s:.1} img/s")
    } else {
        String::new()
    }
}

/// Trains on the `train` split of the masks stage in `data_dir`, validating on `val`, with
/// checkpoints, logs and the best model in `out_dir`.
pub fn train(
    config: &TrainSegConfig,
    data_dir: &Path,
    out_dir: &Path,
    control: &TrainControl,
) -> Result<TrainOutcome> {
    config.validate()?;
    data::ensure_manifest(data_dir)?;
    let mut train = unmask_masks::read_split(data_dir, "train")?;
    train.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(limit) = config.max_train_samples {
        train.truncate(limit.max(1));
    }
    let val = unmask_masks::read_split(data_dir, "val")?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let job = Job {
        config: config.clone(),
        train,
        val,
        out_dir: out_dir.to_path_buf(),
        control: control.clone(),
    };
    let outcome = backend::train_on(config.device, job)?;
    unmask_core::atomic::write_bytes(&out_dir.join(SUMMARY_FILE), &to_json(&outcome)?)?;
    Ok(outcome)
}

struct Job {
    config: TrainSegConfig,
    train: Vec<MaskedPair>,
    val: Vec<MaskedPair>,
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
            out_dir,
            control,
        } = self;
        let ckpt_dir = out_dir.join(CHECKPOINT_DIR);
        if control.fresh {
            checkpoint::remove_dir(&ckpt_dir)?;
            checkpoint::remove_dir(&out_dir.join(BEST_DIR))?;
        }
        let mut model: UNet<B> =
            seed::seeded::<B, _>(&device, config.seed, || config.model.init(&device));
        let mut optim = AdamConfig::new()
            .with_beta_1(config.betas[0] as f32)
            .with_beta_2(config.betas[1] as f32)
            .init::<B, UNet<B>>();
        let mut state = TrainState {
            config: config.clone(),
            step: 0,
            best_dice: None,
            best_score: None,
            best_step: None,
            throughput: Default::default(),
            format: STATE_FORMAT,
        };
        let mut resumed_from = None;
        let mut resumed_dir = None;
        if let Some((dir, saved)) = checkpoint::resume_state(
            &ckpt_dir,
            |s: &TrainState| s.config.identity(),
            &config.identity(),
        )? {
            model = model.load_record(load_record::<B, _>(&dir.join("model.mpk"), &device)?);
            optim = optim.load_record(load_record::<B, _>(&dir.join("optimizer.mpk"), &device)?);
            state = TrainState {
                config: config.clone(),
                ..saved
            };
            resumed_from = Some(state.step);
            resumed_dir = Some(dir.clone());
            tracing::info!(
                "resuming segmenter training from step {} ({})",
                state.step,
                dir.display()
            );
        }
        let ckpt_logs = resumed_dir.as_deref();
        let mut step_log = MetricLog::resume(ckpt_logs, &out_dir, STEP_LOG, state.step)?;
        let mut val_log = MetricLog::resume(ckpt_logs, &out_dir, VAL_LOG, state.step)?;

        let size = config.model.image_size as u32;
        let schedule = order::Schedule::new(
            train.len(),
            config.batch_size,
            config.epochs,
            config.max_steps,
        );
        let total = schedule.total;
        let parameters = model.num_params();
        let session = schedule.session(state.step, control.stop_after);
        if resumed_from.is_some() && state.format != STATE_FORMAT && !session.is_empty() {
            bail!(
                "the checkpoint in {} was written by an older unmask (before bare-face scores and sample views): it cannot be continued the same way; rerun with --force to start afresh",
                ckpt_dir.display()
            );
        }

        let batches = {
            let (train, cfg) = (train.clone(), config.clone());
            unmask_train::images::prefetch(
                session.clone().collect(),
                2,
                move |step| -> Result<(u64, SegBatch)> {
                    let (_, idx) =
                        order::batch_indices(train.len(), cfg.batch_size, cfg.seed, step);
                    let pairs: Vec<MaskedPair> = idx.iter().map(|&i| train[i].clone()).collect();
                    let views: Vec<View> = (0..pairs.len())
                        .map(|slot| View::draw(&cfg.augment, cfg.flips, cfg.seed, step, slot))
                        .collect();
                    Ok((step, data::make_batch(&pairs, &views, size)?))
                },
            )
        };
        let progress =
            unmask_core::progress::Progress::new("train-seg", session.end - session.start);
        let mut last_scores = None;
        for received in batches {
            let (step, batch) = received?;
            let timer = Instant::now();
            let batch_len = batch.len;
            let (images, masks) = batch.tensors::<B>(&device);
            let logits = model.forward(images);
            let loss = loss::segmentation_loss(logits, masks, config.bce_weight);
            let loss_value: f32 = loss.clone().into_scalar().elem();
            if !loss_value.is_finite() {
                bail!(
                    "the segmentation loss became {loss_value} at step {}; training stopped and the last good checkpoint (step {}) is kept in {}. Lower `lr` or check the data.",
                    step + 1,
                    state.step,
                    ckpt_dir.display()
                );
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.lr_schedule.at(config.lr, step, total), model, grads);
            state
                .throughput
                .add(batch_len, timer.elapsed().as_secs_f64());

            let done = step + 1;
            let epoch = schedule.epoch_of(step);
            step_log.push(done, epoch, &[("loss", loss_value as f64)]);
            progress.set_message(format!("loss {loss_value:.4}"));
            progress.inc(1);

            let epoch_end = schedule.epoch_end(done);
            if epoch_end {
                let scores = ValScores::mean(&evaluation::score_pairs(
                    &model.valid(),
                    &val,
                    config.threshold,
                    size,
                    config.eval_batch_size,
                    &device,
                )?);
                val_log.push(done, epoch, &scores.as_row());
                tracing::info!(
                    "epoch {} (step {done}): val Dice {:.4}, IoU {:.4}, pixel accuracy {:.4}",
                    epoch + 1,
                    scores.dice,
                    scores.iou,
                    scores.pixel_accuracy
                );
                // With bare faces in training, false alarms on them count against a model.
                let score = if config.augment.negatives > 0.0 {
                    scores.dice - scores.bare_marked
                } else {
                    scores.dice
                };
                if state.best_score.is_none_or(|b| score > b) {
                    state.best_score = Some(score);
                    state.best_dice = Some(scores.dice);
                    state.best_step = Some(done);
                    save_best(&model, &config, &scores, done, &out_dir)?;
                }
                last_scores = Some(scores);
            }
            state.step = done;
            if epoch_end || done % config.checkpoint_every == 0 {
                save_checkpoint(&model, &optim, &state, [&step_log, &val_log], &ckpt_dir)?;
                step_log.save(&out_dir.join(STEP_LOG))?;
                val_log.save(&out_dir.join(VAL_LOG))?;
            }
        }
        progress.finish();
        if last_scores.is_none() && !val_log.is_empty() {
            last_scores = ValScores::from_log(&val_log);
        }
        Ok(TrainOutcome {
            steps: state.step,
            total_steps: total,
            resumed_from,
            train_pairs: train.len(),
            val_pairs: val.len(),
            best_dice: state.best_dice,
            last: last_scores,
            images_per_s: state.throughput.per_second(),
            parameters,
            finished: state.step >= total,
        })
    }
}

fn save_checkpoint<B: AutodiffBackend, O: Optimizer<UNet<B>, B>>(
    model: &UNet<B>,
    optim: &O,
    state: &TrainState,
    [step_log, val_log]: [&MetricLog; 2],
    dir: &Path,
) -> Result<()> {
    let model_bytes = record_bytes::<B, _>(model.clone().into_record())?;
    let optim_bytes = record_bytes::<B, _>(optim.to_record())?;
    save_dir(
        dir,
        &[
            ("model.mpk", &model_bytes),
            ("optimizer.mpk", &optim_bytes),
            ("state.json", &to_json(state)?),
            // The logs as of this step travel with the weights (see `MetricLog::resume`).
            (STEP_LOG, &step_log.to_bytes()?),
            (VAL_LOG, &val_log.to_bytes()?),
        ],
    )
}

fn save_best<B: AutodiffBackend>(
    model: &UNet<B>,
    config: &TrainSegConfig,
    scores: &ValScores,
    step: u64,
    out_dir: &Path,
) -> Result<()> {
    let info = SegmenterInfo {
        model: config.model.clone(),
        threshold: config.threshold,
        val_dice: scores.dice,
        step,
    };
    let bytes = record_bytes::<B, _>(model.clone().into_record())?;
    save_dir(
        &out_dir.join(BEST_DIR),
        &[
            (crate::inference::WEIGHTS_FILE, &bytes),
            (crate::inference::INFO_FILE, &to_json(&info)?),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    #[test]
    fn cosine_falls_from_the_rate_to_one_percent_of_it() {
        let at = |step| LrSchedule::Cosine.at(0.002, step, 100);
        assert_eq!(at(0), 0.002);
        assert!((at(50) - 0.00101).abs() < 1e-12, "{}", at(50));
        assert!((at(100) - 0.00002).abs() < 1e-12);
        assert!((1..100).all(|s| at(s) < at(s - 1)));
        assert_eq!(LrSchedule::Constant.at(0.002, 70, 100), 0.002);
    }
}
