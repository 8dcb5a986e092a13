//! The registry of stage kinds. Each kind is a type implementing [`Stage`]; the macro below
//! turns the list into name lookup, typed parameter validation and dispatch.

use anyhow::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// An upstream stage whose outputs a stage reads.
#[derive(Clone, Debug)]
pub struct Input {
    pub name: String,
    pub kind: String,
    pub dir: PathBuf,
}

/// Where a stage runs: its output folder and the folders of the stages it needs.
pub struct StageContext<'a> {
    pub pipeline: &'a str,
    pub name: &'a str,
    pub out_dir: &'a Path,
    pub inputs: &'a [Input],
    pub project_root: &'a Path,
    /// The output folder of every pipeline (`--out`, default `runs/`).
    pub runs_root: &'a Path,
    /// `--force` asked for this stage: a resumable stage discards its checkpoints.
    pub fresh: bool,
}

impl StageContext<'_> {
    /// The single needed stage of `kind`; an error names the stage and what it lacks.
    pub fn input(&self, kind: &str) -> Result<&Input> {
        let found: Vec<&Input> = self.inputs.iter().filter(|i| i.kind == kind).collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => anyhow::bail!(
                "stage `{}` needs a stage of kind `{kind}`: add it to `needs`",
                self.name
            ),
            _ => anyhow::bail!(
                "stage `{}` needs exactly one stage of kind `{kind}`",
                self.name
            ),
        }
    }
}

/// A stage in `needs` as the checks see it before anything runs: its name, kind and resolved
/// parameters.
pub struct Needed<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub params: &'a serde_yaml::Value,
}

/// Whether a stage of `kind` is among `needs`.
pub fn needs_kind(needs: &[Needed], kind: &str) -> bool {
    needs.iter().any(|n| n.kind == kind)
}

/// An evaluation scores either `model` (another pipeline's) or the `kind` stage in `needs`,
/// never both and never neither; `what` names the models in the message.
pub fn one_model_source(
    model: Option<&Path>,
    needs: &[Needed],
    kind: &str,
    what: &str,
) -> Result<()> {
    let needed = needs_kind(needs, kind);
    anyhow::ensure!(
        model.is_some() || needed,
        "nothing to score: add a `{kind}` stage to `needs` or set `model` to a {kind} output folder"
    );
    anyhow::ensure!(
        model.is_none() || !needed,
        "`model` and a `{kind}` stage in `needs` name two {what}: keep one"
    );
    Ok(())
}

/// What a finished stage reports for the summary.
#[derive(Clone, Debug, Default)]
pub struct StageReport {
    /// One line, e.g. "200 faces (163 train, 19 val, 18 test)".
    pub summary: String,
    /// Something a scheduler should hear about (a metric regressed): the run still succeeds
    /// and keeps its outputs, but `cargo xtask run` exits non-zero.
    pub alert: Option<String>,
}

/// A kind of stage.
pub trait Stage {
    const KIND: &'static str;
    const SUMMARY: &'static str;
    /// True when the stage keeps its own progress (checkpoints) in its folder and must run
    /// there in place; other stages write into a fresh folder swapped in when they succeed.
    const RESUMABLE: bool = false;
    /// True when one stage of this kind reads every variant of the stages it needs (a report);
    /// otherwise a stage needing a stage with variants runs once per variant.
    const GATHERS_VARIANTS: bool = false;
    /// True when the stage runs every time (its inputs live outside the pipeline, like the
    /// newest trained models).
    const ALWAYS_RUN: bool = false;
    type Params: Serialize + DeserializeOwned + Default;
    /// Files or folders outside the pipeline that the outputs depend on (a model another
    /// pipeline trained), relative to the project root: their sizes and times are part of the
    /// stamp, so the stage runs again when they change.
    fn external_inputs(_params: &Self::Params) -> Vec<PathBuf> {
        Vec::new()
    }
    /// The files that the outputs written into `dir` name (the images of a manifest): each
    /// must exist before the stage is stamped, and those outside `dir` are re-checked on every
    /// later run.
    fn referenced_files(_dir: &Path) -> Result<Vec<PathBuf>> {
        Ok(Vec::new())
    }
    /// Checks values the types cannot (ranges, combinations, agreement with the stages in
    /// `needs`) before anything runs.
    fn check(_params: &Self::Params, _needs: &[Needed]) -> Result<()> {
        Ok(())
    }
    fn run(params: &Self::Params, ctx: &StageContext) -> Result<StageReport>;
}

macro_rules! stage_kinds {
    ($($ty:ty),* $(,)?) => {
        /// Name and one-line summary of every kind.
        pub fn all() -> Vec<(&'static str, &'static str)> {
            vec![$((<$ty as Stage>::KIND, <$ty as Stage>::SUMMARY)),*]
        }

        pub fn names() -> Vec<&'static str> {
            all().into_iter().map(|k| k.0).collect()
        }

        pub fn find(kind: &str) -> Option<&'static str> {
            names().into_iter().find(|k| *k == kind)
        }

        /// Deserialises `kind`'s parameters straight from the YAML stream, so errors keep
        /// their location.
        pub fn validate_params<'de, D: serde::Deserializer<'de>>(
            kind: &str,
            d: D,
        ) -> Result<(), D::Error> {
            $(
                if kind == <$ty as Stage>::KIND {
                    return <<$ty as Stage>::Params as serde::Deserialize>::deserialize(d).map(|_| ());
                }
            )*
            Err(serde::de::Error::custom(format!("unknown stage kind `{kind}`")))
        }

        /// Completes written parameters with the kind's defaults: the canonical form that is
        /// stamped and handed to the stage.
        pub fn resolve_params(kind: &str, written: serde_yaml::Value) -> Result<serde_yaml::Value, serde_yaml::Error> {
            $(
                if kind == <$ty as Stage>::KIND {
                    let typed: <$ty as Stage>::Params = serde_yaml::from_value(written)?;
                    return serde_yaml::to_value(typed);
                }
            )*
            Err(serde::de::Error::custom(format!("unknown stage kind `{kind}`")))
        }

        pub fn resumable(kind: &str) -> bool {
            $( if kind == <$ty as Stage>::KIND { return <$ty as Stage>::RESUMABLE; } )*
            false
        }

        pub fn gathers_variants(kind: &str) -> bool {
            $( if kind == <$ty as Stage>::KIND { return <$ty as Stage>::GATHERS_VARIANTS; } )*
            false
        }

        pub fn always_run(kind: &str) -> bool {
            $( if kind == <$ty as Stage>::KIND { return <$ty as Stage>::ALWAYS_RUN; } )*
            false
        }

        /// The kind's inputs from outside the pipeline (see [`Stage::external_inputs`]).
        pub fn external_inputs(kind: &str, params: &serde_yaml::Value) -> Result<Vec<PathBuf>> {
            $(
                if kind == <$ty as Stage>::KIND {
                    let typed: <$ty as Stage>::Params = serde_yaml::from_value(params.clone())?;
                    return Ok(<$ty as Stage>::external_inputs(&typed));
                }
            )*
            anyhow::bail!("unknown stage kind `{kind}`")
        }

        /// The files a finished stage's outputs name (see [`Stage::referenced_files`]).
        pub fn referenced_files(kind: &str, dir: &Path) -> Result<Vec<PathBuf>> {
            $(
                if kind == <$ty as Stage>::KIND {
                    return <$ty as Stage>::referenced_files(dir);
                }
            )*
            anyhow::bail!("unknown stage kind `{kind}`")
        }

        /// The kind's own checks of resolved parameters.
        pub fn check(kind: &str, params: &serde_yaml::Value, needs: &[Needed]) -> Result<()> {
            $(
                if kind == <$ty as Stage>::KIND {
                    let typed: <$ty as Stage>::Params = serde_yaml::from_value(params.clone())?;
                    return <$ty as Stage>::check(&typed, needs);
                }
            )*
            anyhow::bail!("unknown stage kind `{kind}`")
        }

        /// Runs a stage of `kind` with resolved parameters.
        pub fn run(kind: &str, params: &serde_yaml::Value, ctx: &StageContext) -> Result<StageReport> {
            $(
                if kind == <$ty as Stage>::KIND {
                    let typed: <$ty as Stage>::Params = serde_yaml::from_value(params.clone())?;
                    return <$ty as Stage>::run(&typed, ctx);
                }
            )*
            anyhow::bail!("unknown stage kind `{kind}`")
        }
    };
}

stage_kinds!(
    crate::stages::faces::FacesStage,
    crate::stages::masks::MasksStage,
    crate::stages::segmentation::TrainSegStage,
    crate::stages::segmentation::EvalSegStage,
    crate::stages::inpainting::TrainInpaintStage,
    crate::stages::inpainting::EvalInpaintStage,
    crate::stages::inpainting::EvalBaselineStage,
    crate::stages::stylegan::TrainStyleGanStage,
    crate::stages::psp::TrainPspStage,
    crate::stages::psp::EvalPspStage,
    crate::stages::photos::EvalUnmaskStage,
    crate::stages::reports::AblationReportStage,
    crate::stages::reports::NightlyStage,
);
