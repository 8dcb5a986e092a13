//! One training loop for every model. A model plugs in what is its own (a [`Trainee`]: its
//! networks and optimisers, one optimisation step, validation, which model is best) and this
//! loop does the rest the same way for all: the step schedule, fresh start or resume from the
//! last checkpoint (refused when the configuration's identity differs), batches prepared
//! ahead on another thread, per-step and per-epoch logs, checkpoints every N steps and at
//! each epoch end, a stop on non-finite losses that keeps the last good checkpoint, the best
//! model by validation score, and the speed over every session of the run.

use crate::checkpoint::{self, save_dir, to_json, Throughput};
use crate::log::MetricLog;
use crate::order::{self, Schedule};
use crate::scores::ScoreRow;
use anyhow::{bail, Context, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use unmask_kernels::TrainingBackend;

/// The folder of the last checkpoint inside a training folder.
pub const CHECKPOINT_DIR: &str = "checkpoint";
/// The checkpoint's description (`TrainState`), beside its weight files.
pub const STATE_FILE: &str = "state.json";
pub const STEP_LOG: &str = "steps.parquet";
pub const VAL_LOG: &str = "validation.parquet";
/// What a run did (the model's outcome), written when it returns.
pub const SUMMARY_FILE: &str = "train_summary.json";

/// A training configuration, as saved in its checkpoints.
pub trait RunConfig: Clone + Serialize + DeserializeOwned {
    /// The fields a checkpoint must agree on to be continued: everything but the schedule
    /// and the settings that do not change what is learned.
    fn identity(&self) -> Self;
    /// How the run is laid out in steps: the configuration's fields of [`Cadence`]'s names.
    fn cadence(&self) -> Result<Cadence> {
        let fields = serde_json::to_value(self)?;
        serde_json::from_value(fields)
            .context("a training configuration needs batch_size, epochs, max_steps, seed and checkpoint_every")
    }
}

/// The schedule settings every training configuration has, by these names.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Cadence {
    pub batch_size: usize,
    pub epochs: u64,
    /// Stops earlier than `epochs` when set.
    pub max_steps: Option<u64>,
    /// Seeds the sample order (and the model's own random streams).
    pub seed: u64,
    /// Steps between checkpoints (each epoch's end is one too).
    pub checkpoint_every: u64,
}

/// Adam with the configuration's betas, as both models train.
pub fn adam(betas: [f64; 2]) -> burn::optim::AdamConfig {
    burn::optim::AdamConfig::new()
        .with_beta_1(betas[0] as f32)
        .with_beta_2(betas[1] as f32)
}

/// Test and tooling hooks that are not part of a run's identity.
#[derive(Clone, Debug, Default)]
pub struct TrainControl {
    /// Returns after this global step as if the process were killed there (after the
    /// checkpoint due at that step, if any).
    pub stop_after: Option<u64>,
    /// Discards an existing checkpoint (and the best model) and starts afresh.
    pub fresh: bool,
}

/// Where a checkpoint stands (its `state.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState<C, Best> {
    pub config: C,
    pub step: u64,
    /// The model's own record of its best validation scores so far.
    #[serde(flatten)]
    pub best: Best,
    pub best_step: Option<u64>,
    /// Older checkpoints lack it and start from zero.
    #[serde(default)]
    pub throughput: Throughput,
    /// How samples are drawn and scored ([`RunSpec::format`]); 0 in checkpoints from before
    /// the model's first format change.
    #[serde(default)]
    pub format: u32,
}

/// What a training job carries to its backend: the configuration, the training and
/// validation samples, the output folder and the control hooks.
pub struct RunInputs<C, P> {
    pub config: C,
    pub train: Vec<P>,
    pub val: Vec<P>,
    pub out_dir: PathBuf,
    pub control: TrainControl,
}

/// What one optimisation step reports.
pub struct StepReport {
    /// Logged per step; a non-finite value stops the run.
    pub values: Vec<(&'static str, f64)>,
    /// Shown beside the progress bar.
    pub message: String,
    /// Images the step trained on.
    pub images: usize,
}

/// What a model plugs into [`run`].
pub trait Trainee<B: TrainingBackend>: Sized {
    /// The progress bar's label (the stage kind, e.g. `train-seg`).
    const LABEL: &'static str;
    /// The model in logs and errors (`segmenter`, `GAN`).
    const WHAT: &'static str;
    /// What the error of a non-finite loss advises.
    const LOSS_HINT: &'static str;
    /// The checkpoint format this code writes; a checkpoint of another one finishes as it is
    /// but is not continued.
    const FORMAT: u32 = 0;
    /// What the checkpoints before `FORMAT` lacked, for the error that refuses them.
    const FORMAT_CHANGE: &'static str = "";
    /// Folders of the output folder a fresh start removes besides the checkpoint.
    const CLEAR_ON_FRESH: &'static [&'static str] = &[crate::models::BEST_DIR];

    /// The fields of the checkpoint state recording the best model so far.
    type Best: Clone + Default + Serialize + DeserializeOwned;
    type Scores: ScoreRow;
    type Batch: Send + 'static;

    /// The weight and optimiser files of a checkpoint, named.
    fn checkpoint_files(&self) -> Result<Vec<(&'static str, Vec<u8>)>>;
    /// The trainee with the weights and optimiser states of checkpoint folder `dir`.
    fn load_checkpoint(self, dir: &Path, device: &B::Device) -> Result<Self>;
    /// One optimisation step at global step `step` (from 0) of `total`.
    fn step(
        self,
        batch: Self::Batch,
        step: u64,
        total: u64,
        device: &B::Device,
    ) -> Result<(Self, StepReport)>;
    /// Scores on the validation pairs, after each epoch.
    fn validate(&self, device: &B::Device) -> Result<Self::Scores>;
    /// Updates `best` and returns true when `scores` beat it.
    fn improves(&self, best: &mut Self::Best, scores: &Self::Scores) -> bool;
    /// Saves the current weights as the best model (`best/`).
    fn save_best(&self, scores: &Self::Scores, step: u64, out_dir: &Path) -> Result<()>;
    /// Work after each step (e.g. sample grids), before validation.
    fn after_step(
        &self,
        _done: u64,
        _total: u64,
        _out_dir: &Path,
        _device: &B::Device,
    ) -> Result<()> {
        Ok(())
    }
}

/// What [`run`] did, for the model's own outcome.
pub struct TrainRun<T, S, Best> {
    pub trainee: T,
    pub totals: RunTotals,
    pub best: Best,
    /// The last validation scores (of this session, else of the log).
    pub last: Option<S>,
}

/// The model-independent part of a training outcome (flattened into the model's
/// `train_summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunTotals {
    pub steps: u64,
    pub total_steps: u64,
    pub resumed_from: Option<u64>,
    pub train_pairs: usize,
    /// Training images per second over every session's steps (validation excluded).
    pub images_per_s: f64,
    pub finished: bool,
}

impl RunTotals {
    /// `"12/40 steps on 96 pairs (resumed at 8)"`.
    pub fn progress(&self) -> String {
        format!(
            "{}/{} steps on {} pairs{}",
            self.steps,
            self.total_steps,
            self.train_pairs,
            self.resumed_from
                .map_or(String::new(), |s| format!(" (resumed at {s})"))
        )
    }
}

/// The `make_batch` of [`run`] for a model trained on a list of samples, each seen through
/// a view (its augmentation): the samples the schedule drew at `step`, with
/// `view(step, slot)` for each slot of the batch, handed to `make(samples, views)`.
pub fn batches_of<P, V, Bt>(
    samples: Vec<P>,
    view: impl Fn(u64, usize) -> V + Send + 'static,
    make: impl Fn(&[P], &[V]) -> Result<Bt> + Send + 'static,
) -> impl Fn(u64, Vec<usize>) -> Result<Bt> + Send + 'static
where
    P: Clone + Send + 'static,
{
    move |step, indices| {
        let chosen: Vec<P> = indices.iter().map(|&i| samples[i].clone()).collect();
        let views: Vec<V> = (0..chosen.len()).map(|slot| view(step, slot)).collect();
        make(&chosen, &views)
    }
}

/// The fields of a checkpoint's state that loading its weights for inference needs; `C` is
/// the model's view of its configuration.
#[derive(Deserialize)]
pub struct CheckpointView<C> {
    pub config: C,
    pub step: u64,
}

/// Trains `trainee` (freshly initialised) with the configuration, on the training samples
/// and into the folder of `spec`, on batches made by `make_batch(step, sample indices)` on a
/// loader thread.
pub fn run<B, T, C, P>(
    spec: &RunInputs<C, P>,
    mut trainee: T,
    make_batch: impl Fn(u64, Vec<usize>) -> Result<T::Batch> + Send + 'static,
    device: &B::Device,
) -> Result<TrainRun<T, T::Scores, T::Best>>
where
    B: TrainingBackend,
    T: Trainee<B>,
    C: RunConfig,
{
    let out_dir = spec.out_dir.as_path();
    let samples = spec.train.len();
    let ckpt_dir = out_dir.join(CHECKPOINT_DIR);
    if spec.control.fresh {
        checkpoint::remove_dir(&ckpt_dir)?;
        for d in T::CLEAR_ON_FRESH {
            checkpoint::remove_dir(&out_dir.join(d))?;
        }
    }
    let mut state = TrainState {
        config: spec.config.clone(),
        step: 0,
        best: T::Best::default(),
        best_step: None,
        throughput: Throughput::default(),
        format: T::FORMAT,
    };
    let mut resumed_from = None;
    let mut resumed_dir = None;
    if let Some((dir, saved)) = checkpoint::resume_state(
        &ckpt_dir,
        |s: &TrainState<C, T::Best>| s.config.identity(),
        &spec.config.identity(),
    )? {
        trainee = trainee.load_checkpoint(&dir, device)?;
        state = TrainState {
            config: spec.config.clone(),
            ..saved
        };
        resumed_from = Some(state.step);
        tracing::info!(
            "resuming {} training from step {} ({})",
            T::WHAT,
            state.step,
            dir.display()
        );
        resumed_dir = Some(dir);
    }
    let ckpt_logs = resumed_dir.as_deref();
    let mut step_log = MetricLog::resume(ckpt_logs, out_dir, STEP_LOG, state.step)?;
    let mut val_log = MetricLog::resume(ckpt_logs, out_dir, VAL_LOG, state.step)?;

    let cadence = spec.config.cadence()?;
    let schedule = Schedule::new(
        samples,
        cadence.batch_size,
        cadence.epochs,
        cadence.max_steps,
    );
    let total = schedule.total;
    let session = schedule.session(state.step, spec.control.stop_after);
    if resumed_from.is_some() && state.format != T::FORMAT && !session.is_empty() {
        bail!(
            "the checkpoint in {} was written by an older unmask ({}): it cannot be continued the same way; rerun with --force to start afresh",
            ckpt_dir.display(),
            T::FORMAT_CHANGE
        );
    }
    let batches = {
        let (n, batch_size, seed) = (samples, cadence.batch_size, cadence.seed);
        crate::images::prefetch(session.clone().collect(), 2, move |step| {
            let (_, indices) = order::batch_indices(n, batch_size, seed, step);
            Ok((step, make_batch(step, indices)?))
        })
    };
    let progress = unmask_core::progress::Progress::new(T::LABEL, session.end - session.start);
    let mut last = None;
    for received in batches {
        let (step, batch): (u64, T::Batch) = received?;
        let timer = Instant::now();
        let (next, report) = trainee.step(batch, step, total, device)?;
        trainee = next;
        if let Some((name, value)) = report.values.iter().find(|(_, v)| !v.is_finite()) {
            bail!(
                "the {} loss became non-finite at step {} ({name} {value}); training stopped and the last good checkpoint (step {}) is kept in {}. {}",
                T::WHAT,
                step + 1,
                state.step,
                ckpt_dir.display(),
                T::LOSS_HINT
            );
        }
        state
            .throughput
            .add(report.images, timer.elapsed().as_secs_f64());

        let done = step + 1;
        let epoch = schedule.epoch_of(step);
        step_log.push(done, epoch, &report.values);
        progress.set_message(report.message);
        progress.inc(1);
        trainee.after_step(done, total, out_dir, device)?;

        let epoch_end = schedule.epoch_end(done);
        if epoch_end {
            let scores = trainee.validate(device)?;
            val_log.push(done, epoch, &scores.as_row());
            tracing::info!(
                "epoch {} (step {done}): val {}",
                epoch + 1,
                scores.describe()
            );
            if trainee.improves(&mut state.best, &scores) {
                state.best_step = Some(done);
                trainee.save_best(&scores, done, out_dir)?;
            }
            last = Some(scores);
        }
        state.step = done;
        if epoch_end || done % cadence.checkpoint_every == 0 {
            let mut files = trainee.checkpoint_files()?;
            files.push((STATE_FILE, to_json(&state)?));
            // The logs as of this step travel with the weights (see `MetricLog::resume`).
            files.push((STEP_LOG, step_log.to_bytes()?));
            files.push((VAL_LOG, val_log.to_bytes()?));
            let named: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
            save_dir(&ckpt_dir, &named)?;
            step_log.save(&out_dir.join(STEP_LOG))?;
            val_log.save(&out_dir.join(VAL_LOG))?;
        }
    }
    progress.finish();
    if last.is_none() {
        last = T::Scores::from_log(&val_log);
    }
    Ok(TrainRun {
        trainee,
        totals: RunTotals {
            steps: state.step,
            total_steps: total,
            resumed_from,
            train_pairs: samples,
            images_per_s: state.throughput.per_second(),
            finished: state.step >= total,
        },
        best: state.best,
        last,
    })
}

/// Runs `job` on the backend of `device` with `out_dir` created first, and writes what it
/// returns as [`SUMMARY_FILE`] there. One job trains at a time per process ([`crate::autodiff`]).
pub fn launch<J>(device: crate::DeviceKind, out_dir: &Path, job: J) -> Result<J::Output>
where
    J: crate::TrainJob,
    J::Output: Serialize,
{
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let outcome = {
        let _turn = crate::autodiff::exclusive();
        crate::backend::train_on(device, job)?
    };
    unmask_core::atomic::write_bytes(&out_dir.join(SUMMARY_FILE), &to_json(&outcome)?)?;
    Ok(outcome)
}

/// The step and configuration (read as `C`, a model's view of the fields it needs) of the
/// last checkpoint in training folder `train_dir`, and the folder it is in.
pub fn last_checkpoint<C: DeserializeOwned>(
    train_dir: &Path,
) -> Result<(PathBuf, CheckpointView<C>)> {
    let dir = checkpoint::existing_dir(&train_dir.join(CHECKPOINT_DIR))
        .with_context(|| format!("no training checkpoint in {}", train_dir.display()))?;
    let state = checkpoint::read_json(&dir.join(STATE_FILE))?;
    Ok((dir, state))
}

/// ", 12.3 img/s", or nothing when no step ran in this session.
pub fn speed(images_per_s: f64) -> String {
    if images_per_s > 0.0 {
        format!(", {images_per_s:.1} img/s")
    } else {
        String::new()
    }
}
