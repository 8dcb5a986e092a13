//! The example images of the report, read from what the evaluation stages kept: the same
//! test faces filled by every evaluation with the true masks, and segmented by the
//! `eval-seg` stage if there is one. No model runs here.

use super::collect::Evaluation;
use super::AblationInputs;
use anyhow::{Context, Result};
use image::DynamicImage;
use unmask_core::evaluation::MaskSource;
use unmask_core::examples::ExampleSet;

pub(super) struct ExampleImages {
    /// `(title, one image per face)`: the masked input, each filler, the target.
    pub columns: Vec<(String, Vec<DynamicImage>)>,
    /// Masked input, true mask, predicted mask, per face.
    pub segmentation: Vec<(DynamicImage, DynamicImage, DynamicImage)>,
}

/// Up to `count` example faces of the evaluations with the true masks, each column named
/// after its variant or baseline; `None` when `count` is 0 or no evaluation kept examples.
pub(super) fn images(
    inputs: &AblationInputs,
    evals: &[Evaluation],
    count: usize,
) -> Result<Option<ExampleImages>> {
    if count == 0 {
        return Ok(None);
    }
    let mut columns: Vec<(String, Vec<DynamicImage>)> = Vec::new();
    let mut ends = None;
    let mut ids: Option<Vec<String>> = None;
    for e in evals.iter().filter(|e| e.info.masks == MaskSource::Truth) {
        let Some(set) = read(&e.stage.dir, &e.stage.name)? else {
            continue;
        };
        let ids = ids.get_or_insert_with(|| set.ids.clone());
        anyhow::ensure!(
            *ids == set.ids,
            "stage `{}` kept other example faces than the first evaluation; rerun it",
            e.stage.name
        );
        let name = if e.named_by_method() {
            e.info.method.clone()
        } else {
            e.stage.variant().to_string()
        };
        columns.push((name, first(column(&set, "filled", &e.stage.name)?, count)));
        ends.get_or_insert((
            first(column(&set, "masked", &e.stage.name)?, count),
            first(column(&set, "target", &e.stage.name)?, count),
        ));
    }
    let Some((masked, target)) = ends else {
        return Ok(None);
    };
    columns.insert(0, ("masked input".into(), masked));
    columns.push(("target".into(), target));
    let mut segmentation = Vec::new();
    if let Some(stage) = inputs.of_kind("eval-seg").next() {
        if let Some(set) = read(&stage.dir, &stage.name)? {
            let [masked, truth, predicted] = ["masked", "truth", "predicted"]
                .map(|c| column(&set, c, &stage.name).map(|imgs| first(imgs, count)));
            segmentation = zip3(masked?, truth?, predicted?);
        }
    }
    Ok(Some(ExampleImages {
        columns,
        segmentation,
    }))
}

fn read(dir: &std::path::Path, stage: &str) -> Result<Option<ExampleSet>> {
    ExampleSet::read(dir).with_context(|| format!("reading the example images of stage `{stage}`"))
}

fn column<'a>(set: &'a ExampleSet, name: &str, stage: &str) -> Result<&'a [DynamicImage]> {
    set.column(name)
        .with_context(|| format!("the example images of stage `{stage}` have no `{name}` column"))
}

fn first(imgs: &[DynamicImage], count: usize) -> Vec<DynamicImage> {
    imgs.iter().take(count).cloned().collect()
}

fn zip3<T>(a: Vec<T>, b: Vec<T>, c: Vec<T>) -> Vec<(T, T, T)> {
    a.into_iter()
        .zip(b)
        .zip(c)
        .map(|((a, b), c)| (a, b, c))
        .collect()
}
