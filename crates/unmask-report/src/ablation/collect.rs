//! What the report reads: the evaluation stages' scores, one row per evaluation with its
//! intervals, the paired per-image differences, and how each variant's parameters differ
//! from the base.

use super::{AblationInputs, AblationReportParams, InputStage};
use crate::bootstrap::mean_interval;
use crate::paired::{ImageScores, PairedRow};
use crate::table::{Row, METRICS};
use anyhow::{bail, Context, Result};
use std::path::Path;
use unmask_core::evaluation::{EvalInfo, PSP_RAW, TELEA};
use unmask_train::trainer::SUMMARY_FILE;

/// One evaluation the report reads.
pub(super) struct Evaluation<'a> {
    pub stage: &'a InputStage,
    pub info: EvalInfo,
    pub baseline: bool,
    /// StyleGAN2 + pSp (`eval-psp`), named after its method like a baseline.
    pub psp: bool,
}

impl Evaluation<'_> {
    /// Named after its method (a baseline's, or pSp's raw or composite) rather than a variant.
    pub fn named_by_method(&self) -> bool {
        self.baseline || self.psp || self.info.model.is_none()
    }
}

/// The `eval-inpaint`, `eval-psp` and `eval-baseline` stages of `inputs`, checked to have
/// scored the same pairs at the same size with the same holes.
pub(super) fn evaluations(inputs: &AblationInputs) -> Result<Vec<Evaluation<'_>>> {
    let mut evals = Vec::new();
    for (kind, baseline) in [
        ("eval-inpaint", false),
        ("eval-psp", false),
        ("eval-baseline", true),
    ] {
        for stage in inputs.of_kind(kind) {
            let info = EvalInfo::load(&stage.dir)
                .with_context(|| format!("reading the evaluation of stage `{}`", stage.name))?;
            evals.push(Evaluation {
                stage,
                info,
                baseline,
                psp: kind == "eval-psp",
            });
        }
    }
    if evals.is_empty() {
        bail!("the ablation report needs `eval-inpaint`, `eval-psp` or `eval-baseline` stages in `needs`");
    }
    let first = &evals[0];
    for e in &evals[1..] {
        let (a, b) = (&first.info, &e.info);
        if (a.split.as_str(), a.image_size, a.count) != (b.split.as_str(), b.image_size, b.count) {
            bail!(
                "stages `{}` and `{}` scored different things ({} {} pairs at {} px vs {} {} pairs at {} px); set the baselines' image_size to the GAN's generator.image_size",
                first.stage.name, e.stage.name, a.count, a.split, a.image_size, b.count, b.split, b.image_size
            );
        }
        if a.hole_dilation != b.hole_dilation {
            bail!(
                "stages `{}` and `{}` filled different holes (grown by {} and {} of the side); set the baselines' hole_dilation to the GAN's generator.hole_dilation",
                first.stage.name, e.stage.name, a.hole_dilation, b.hole_dilation
            );
        }
    }
    Ok(evals)
}

/// One row per evaluation (named after its variant or baseline, with its parameter changes
/// against the base training) and, in the same order, its per-image scores. `psp_training`
/// is the `train-psp` stage whose size and speed the pSp rows show.
pub(super) fn rows(
    evals: &[Evaluation],
    trainings: &[&InputStage],
    psp_training: Option<&InputStage>,
    params: &AblationReportParams,
) -> Result<(Vec<Row>, Vec<ImageScores>)> {
    let base_params = base_training(trainings).map(|t| &t.params);
    let mut rows = Vec::new();
    let mut image_scores = Vec::new();
    for e in evals {
        // A variant's evaluation shares its name; a pipeline without variants (quickstart)
        // has one training, which its evaluations score.
        let training = if e.baseline || e.psp {
            None
        } else {
            trainings
                .iter()
                .find(|t| t.variant() == e.stage.variant())
                .or(if trainings.len() == 1 {
                    trainings.first()
                } else {
                    None
                })
        };
        let name = match training {
            _ if e.baseline || e.psp => e.info.method.clone(),
            Some(t) => t.variant().to_string(),
            None => e.stage.variant().to_string(),
        };
        // Read loosely: the summary's NaN scores are written as null.
        let trained = if e.psp {
            psp_training
        } else {
            training.copied()
        };
        let outcome: Option<serde_json::Value> = match trained {
            Some(t) if !e.baseline => Some(unmask_train::checkpoint::read_json(
                &t.dir.join(SUMMARY_FILE),
            )?),
            _ => None,
        };
        let changes = match (training, base_params) {
            _ if e.baseline => "classical fill".to_string(),
            _ if e.psp => psp_changes(&e.info.method),
            (Some(t), Some(base)) => differences(base, &t.params),
            _ => "a model from another pipeline".to_string(),
        };
        let masks = serde_json::to_value(e.info.masks)?
            .as_str()
            .unwrap_or("truth")
            .to_string();
        let per_image = read_scores(&e.stage.dir)?;
        let metrics = METRICS
            .iter()
            .zip(&per_image.columns)
            .map(|(m, values)| {
                mean_interval(
                    values,
                    params.resamples,
                    params.confidence,
                    params.seed,
                    &format!("{name}:{masks}:{}", m.key),
                )
            })
            .collect();
        rows.push(Row {
            name,
            baseline: e.baseline,
            masks,
            changes,
            // pSp's count is the encoder's and the generator's together.
            generator_params: outcome
                .as_ref()
                .and_then(|o| {
                    o["generator_parameters"]
                        .as_u64()
                        .or(o["parameters"].as_u64())
                })
                .map(|p| p as usize),
            train_images_per_s: outcome.as_ref().and_then(|o| o["images_per_s"].as_f64()),
            pairs: e.info.count,
            metrics,
        });
        image_scores.push(per_image);
    }
    Ok((rows, image_scores))
}

/// What a pSp row is, from the method its evaluation recorded.
fn psp_changes(method: &str) -> String {
    if method == PSP_RAW {
        "StyleGAN2 + pSp, raw output".into()
    } else {
        "StyleGAN2 + pSp, pasted into the known pixels".into()
    }
}

/// The `metrics.md` of the `eval-seg` stage, if one is among the inputs.
pub(super) fn segmenter_scores(inputs: &AblationInputs) -> Result<Option<String>> {
    inputs
        .of_kind("eval-seg")
        .next()
        .map(|s| std::fs::read_to_string(s.dir.join(unmask_train::scores::METRICS_MD)))
        .transpose()
        .context("reading the segmenter's evaluation")
}

/// The image ids and metric columns of an evaluation's `per_image.parquet`.
fn read_scores(dir: &Path) -> Result<ImageScores> {
    let path = dir.join(unmask_train::scores::PER_IMAGE);
    let df = unmask_core::manifest::read_parquet(&path)?;
    Ok(ImageScores {
        ids: unmask_core::manifest::str_column(&df, "id", &path)?,
        // An evaluation written before a metric existed shows it as not computed.
        columns: METRICS
            .iter()
            .map(|m| match df.column(m.key) {
                Ok(_) => unmask_core::manifest::f64_column(&df, m.key, &path),
                Err(_) => Ok(vec![f64::NAN; df.height()]),
            })
            .collect::<Result<_>>()?,
    })
}

/// Every row against the base variant and against Telea with the same masks (where those
/// exist), image by image.
pub(super) fn paired_rows(
    rows: &[Row],
    scores: &[ImageScores],
    params: &AblationReportParams,
) -> Vec<PairedRow> {
    let mut out = Vec::new();
    for masks in ["truth", "segmenter"] {
        let find =
            |pred: &dyn Fn(&Row) -> bool| rows.iter().position(|r| r.masks == masks && pred(r));
        let references = [
            find(&|r| !r.baseline && r.changes == "base"),
            find(&|r| r.baseline && r.name == TELEA),
        ];
        for reference in references.into_iter().flatten() {
            for (i, row) in rows.iter().enumerate() {
                // Telea against the base would mirror the base against Telea.
                let mirrored =
                    reference == references[0].unwrap_or(usize::MAX) && Some(i) == references[1];
                if row.masks != masks || i == reference || mirrored {
                    continue;
                }
                let against = &rows[reference].name;
                let (pairs, differences) = crate::paired::compare(
                    &scores[i],
                    &scores[reference],
                    params.resamples,
                    params.confidence,
                    params.seed,
                    &format!("{}:{against}:{masks}", row.name),
                );
                out.push(PairedRow {
                    name: row.name.clone(),
                    against: against.clone(),
                    masks: masks.to_string(),
                    pairs,
                    differences,
                });
            }
        }
    }
    out
}

/// The base of an ablation: the training that differs from the others in the fewest keys
/// (each variant changes the base by a key or two, so the base is the centre of the star);
/// ties go to the first listed.
fn base_training<'a>(trainings: &[&'a InputStage]) -> Option<&'a InputStage> {
    let count = |a: &InputStage, b: &InputStage| {
        let d = differences(&a.params, &b.params);
        if d == "base" {
            0
        } else {
            d.split(", ").count()
        }
    };
    trainings
        .iter()
        .min_by_key(|t| trainings.iter().map(|o| count(t, o)).sum::<usize>())
        .copied()
}

/// The dotted keys whose values differ between two parameter sets, as `key=value` (or `base`).
pub fn differences(base: &serde_json::Value, other: &serde_json::Value) -> String {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten("", base, &mut a);
    flatten("", other, &mut b);
    let changed: Vec<String> = b
        .iter()
        .filter(|(k, v)| a.iter().find(|(ka, _)| ka == k).map(|(_, va)| va) != Some(v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if changed.is_empty() {
        "base".into()
    } else {
        changed.join(", ")
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::Number(n) => out.push((prefix.to_string(), short_number(n))),
        other => out.push((
            prefix.to_string(),
            other.to_string().trim_matches('"').to_string(),
        )),
    }
}

/// A number as written in the pipeline file: parameters held as `f32` reach the stamps widened
/// to `f64` (0.2 becomes 0.20000000298023224), so the shortest `f32` spelling is used when it
/// stands for the same value.
fn short_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(v) if n.is_f64() && (v as f32) as f64 == v => (v as f32).to_string(),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_list_changed_dotted_keys() {
        let base = serde_json::json!({"generator": {"conv": "imputed", "width": 8}, "lr": 0.001});
        let gated = serde_json::json!({"generator": {"conv": "gated", "width": 8}, "lr": 0.001});
        assert_eq!(differences(&base, &base), "base");
        let widened = serde_json::json!({"losses": {"adversarial": 0.2f32 as f64, "hole": 5.0}});
        let wide = serde_json::json!({"losses": {"adversarial": 0.1, "hole": 5.0}});
        assert_eq!(differences(&wide, &widened), "losses.adversarial=0.2");
        // A value no f32 holds exactly keeps its f64 spelling.
        let exact = serde_json::json!({"losses": {"adversarial": 0.1, "hole": 5.0}});
        assert_eq!(differences(&widened, &exact), "losses.adversarial=0.1");
        assert_eq!(differences(&base, &gated), "generator.conv=gated");
    }
}
