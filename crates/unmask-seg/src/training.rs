//! Training the segmenter: Adam on the Dice loss, plugged into the shared training loop
//! ([`unmask_train::trainer`]: logs, checkpoints, resume), with the best model by validation
//! score (Dice, less bare-face false alarms when training shows bare faces) kept apart for
//! inference.

use crate::augment::{AugmentConfig, View};
use crate::data::{self, SegBatch};
use crate::inference::{SegmenterInfo, CHECKPOINT_MODEL, CHECKPOINT_OPTIMIZER};
use crate::loss;
use crate::model::{UNet, UNetConfig};
use crate::scores::{score_pairs, ValScores};
use anyhow::Result;
use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::ElementConversion;
use serde::{Deserialize, Serialize};
use std::path::Path;
use unmask_kernels::TrainingBackend;
use unmask_masks::MaskedPair;
use unmask_train::checkpoint::{load_optimizer, module_file, optimizer_file};
use unmask_train::trainer::{self, RunConfig, RunInputs, RunTotals, StepReport, Trainee};
use unmask_train::{models, seed, DeviceKind, LrSchedule, ScoreRow, TrainJob};

pub use unmask_train::models::BEST_DIR;
pub use unmask_train::trainer::{
    speed, TrainControl, CHECKPOINT_DIR, STEP_LOG, SUMMARY_FILE, VAL_LOG,
};
/// The checkpoint format: 1 = sample views from `(seed, step, slot)` and six validation scores.
pub const STATE_FORMAT: u32 = 1;

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
}

impl RunConfig for TrainSegConfig {
    /// Everything except the schedule: more epochs, another checkpoint interval or device
    /// may continue a run.
    fn identity(&self) -> Self {
        let fixed_length = !self.lr_schedule.depends_on_length();
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

/// The segmenter's record of its best model, in the checkpoint state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SegBest {
    pub best_dice: Option<f64>,
    /// What picks the best model: validation Dice, less the share of bare-face pixels marked when
    /// training shows bare faces.
    #[serde(default)]
    pub best_score: Option<f64>,
}

/// Where a checkpoint stands.
pub type TrainState = trainer::TrainState<TrainSegConfig, SegBest>;

/// What a run did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainOutcome {
    #[serde(flatten)]
    pub run: RunTotals,
    pub val_pairs: usize,
    pub best_dice: Option<f64>,
    pub last: Option<ValScores>,
    pub parameters: usize,
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
            "UNet {} params, {}{}, best model's Dice {}{}",
            self.parameters,
            self.run.progress(),
            scores,
            self.best_dice.map_or("-".into(), |d| format!("{d:.4}")),
            speed(self.run.images_per_s)
        )
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
    let train = unmask_masks::sorted_split(data_dir, "train", config.max_train_samples)?;
    let val = unmask_masks::read_split(data_dir, "val")?;
    let job = Job(RunInputs {
        config: config.clone(),
        train,
        val,
        out_dir: out_dir.to_path_buf(),
        control: control.clone(),
    });
    trainer::launch(config.device, out_dir, job)
}

struct Job(RunInputs<TrainSegConfig, MaskedPair>);

impl TrainJob for Job {
    type Output = TrainOutcome;

    fn run<B: TrainingBackend>(self, device: B::Device) -> Result<TrainOutcome> {
        let inputs = self.0;
        let config = &inputs.config;
        let model: UNet<B> =
            seed::seeded::<B, _>(&device, config.seed, || config.model.init(&device));
        let optim = trainer::adam(config.betas).init::<B, UNet<B>>();
        let parameters = model.num_params();
        let trainee = SegTrainee {
            model,
            optim,
            config: config.clone(),
            val: &inputs.val,
        };
        let (cfg, size) = (config.clone(), config.model.image_size as u32);
        let make_batch = trainer::batches_of(
            inputs.train.clone(),
            move |step, slot| View::draw(&cfg.augment, cfg.flips, cfg.seed, step, slot),
            move |pairs, views| data::make_batch(pairs, views, size),
        );
        let run = trainer::run(&inputs, trainee, make_batch, &device)?;
        Ok(TrainOutcome {
            run: run.totals,
            val_pairs: inputs.val.len(),
            best_dice: run.best.best_dice,
            last: run.last,
            parameters,
        })
    }
}

/// The UNet and its optimiser as the training loop sees them.
struct SegTrainee<'a, B: TrainingBackend, O> {
    model: UNet<B>,
    optim: O,
    config: TrainSegConfig,
    val: &'a [MaskedPair],
}

impl<B: TrainingBackend, O: Optimizer<UNet<B>, B>> Trainee<B> for SegTrainee<'_, B, O> {
    const LABEL: &'static str = "train-seg";
    const WHAT: &'static str = "segmenter";
    const LOSS_HINT: &'static str = "Lower `lr` or check the data.";
    const FORMAT: u32 = STATE_FORMAT;
    const FORMAT_CHANGE: &'static str = "before bare-face scores and sample views";
    type Best = SegBest;
    type Scores = ValScores;
    type Batch = SegBatch;

    fn checkpoint_files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            module_file::<B, _>(CHECKPOINT_MODEL, &self.model)?,
            optimizer_file::<B, UNet<B>, _>(CHECKPOINT_OPTIMIZER, &self.optim)?,
        ])
    }

    fn load_checkpoint(self, dir: &Path, device: &B::Device) -> Result<Self> {
        Ok(Self {
            model: models::load_weights(self.model, dir, CHECKPOINT_MODEL, device)?,
            optim: load_optimizer(self.optim, dir, CHECKPOINT_OPTIMIZER, device)?,
            ..self
        })
    }

    fn step(
        mut self,
        batch: SegBatch,
        step: u64,
        total: u64,
        device: &B::Device,
    ) -> Result<(Self, StepReport)> {
        let images = batch.len;
        let (inputs, masks) = batch.tensors::<B>(device);
        let logits = self.model.forward(inputs);
        let loss = loss::segmentation_loss(logits, masks, self.config.bce_weight);
        let value: f32 = loss.clone().into_scalar().elem();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let lr = self.config.lr_schedule.at(self.config.lr, step, total);
        self.model = self.optim.step(lr, self.model, grads);
        let report = StepReport {
            values: vec![("loss", value as f64)],
            message: format!("loss {value:.4}"),
            images,
        };
        Ok((self, report))
    }

    fn validate(&self, device: &B::Device) -> Result<ValScores> {
        Ok(ValScores::mean(&score_pairs(
            &self.model.valid(),
            self.val,
            self.config.threshold,
            self.config.model.image_size as u32,
            self.config.eval_batch_size,
            device,
        )?))
    }

    fn improves(&self, best: &mut SegBest, scores: &ValScores) -> bool {
        // With bare faces in training, false alarms on them count against a model.
        let score = if self.config.augment.negatives > 0.0 {
            scores.dice - scores.bare_marked
        } else {
            scores.dice
        };
        let better = best.best_score.is_none_or(|b| score > b);
        if better {
            best.best_score = Some(score);
            best.best_dice = Some(scores.dice);
        }
        better
    }

    fn save_best(&self, scores: &ValScores, step: u64, out_dir: &Path) -> Result<()> {
        let info = SegmenterInfo {
            model: self.config.model.clone(),
            threshold: self.config.threshold,
            val_dice: scores.dice,
            step,
        };
        models::save_model::<B, _, _>(&self.model, &info, &out_dir.join(BEST_DIR))
    }
}
