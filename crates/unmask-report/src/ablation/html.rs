//! `report.html`: the tables, paired differences, loss curves, the example faces through
//! every variant, the segmenter's scores and the run's configuration, in one page.

use super::collect::Evaluation;
use super::examples::{self, ExampleImages};
use super::{parameter_note, Parts, MASK_SECTIONS, PAIRED_NOTE};
use crate::chart::{line_chart_svg, smoothed, Series};
use crate::html::{escape, inline_png, page, table};
use crate::table::{self, Row, METRICS};
use anyhow::Result;
use unmask_train::log::MetricLog;
use unmask_train::trainer::STEP_LOG;

pub(super) fn report(parts: &Parts, evals: &[Evaluation]) -> Result<String> {
    let Parts {
        inputs,
        params,
        rows,
        paired,
        trainings,
        seg_eval,
    } = *parts;
    let mut body = format!(
        "<h1>Ablation: {}</h1>\n<p>Code version <code>{}</code>. {} GAN variants trained on the same data, seed and budget; every row scored on the same {} test pairs. Cells: mean [{:.0}% bootstrap interval, {} resamples]; the best mean of each column is highlighted.</p>\n",
        escape(&inputs.pipeline),
        escape(&inputs.code_version),
        trainings.len(),
        rows.first().map_or(0, |r| r.pairs),
        params.confidence * 100.0,
        params.resamples
    );
    for (masks, title) in MASK_SECTIONS {
        if rows.iter().any(|r| r.masks == masks) {
            body.push_str(&format!("<h2>{title}</h2>\n{}", html_table(rows, masks)));
            if paired.iter().any(|p| p.masks == masks) {
                body.push_str(&format!(
                    "<h3>Paired differences</h3>\n<p>{}</p>\n{}",
                    escape(PAIRED_NOTE),
                    crate::paired::html(paired, masks)
                ));
            }
        }
    }
    if let Some(note) = parameter_note(rows) {
        body.push_str(&format!("<p>{}</p>\n", escape(&note)));
    }
    body.push_str("<h2>Training</h2>\n");
    for (column, title, label) in [
        (
            "l1_refine",
            "Refine-network L1 (hole-weighted), running mean of 10 steps",
            "L1",
        ),
        (
            "discriminator",
            "Discriminator hinge loss, running mean of 10 steps",
            "loss",
        ),
    ] {
        let mut series = Vec::new();
        for t in trainings {
            let log = MetricLog::load(&t.dir.join(STEP_LOG), u64::MAX)?;
            if let Some(values) = log.column(column) {
                let points: Vec<(f64, f64)> = log
                    .steps()
                    .iter()
                    .zip(values)
                    .map(|(&s, &v)| (s as f64, v))
                    .collect();
                series.push(Series {
                    name: t.variant().to_string(),
                    points: smoothed(&points, 10),
                });
            }
        }
        body.push_str(&line_chart_svg(title, "step", label, &series)?);
        body.push('\n');
    }
    if let Some(examples) = examples::images(inputs, evals, params.examples)? {
        body.push_str(&examples_html(&examples, evals[0].info.image_size as u32)?);
    }
    if let Some(seg) = seg_eval {
        body.push_str(&format!(
            "<h2>Segmenter scores</h2>\n<pre>{}</pre>\n",
            escape(seg)
        ));
    }
    body.push_str("<h2>Configuration</h2>\n");
    for s in &inputs.stages {
        body.push_str(&format!(
            "<details><summary>{} ({})</summary><pre>{}</pre></details>\n",
            escape(&s.name),
            escape(&s.kind),
            escape(&serde_json::to_string_pretty(&s.params)?)
        ));
    }
    Ok(page(&format!("Ablation: {}", inputs.pipeline), &body))
}

fn html_table(rows: &[Row], masks: &str) -> String {
    let chosen: Vec<&Row> = rows.iter().filter(|r| r.masks == masks).collect();
    let best = table::best_rows(&chosen);
    let mut out = String::from("<table><tr><th>variant</th><th>changes</th><th>generator params</th><th>train img/s</th><th>pairs</th>");
    for m in METRICS {
        out.push_str(&format!("<th>{}</th>", escape(m.label)));
    }
    out.push_str("</tr>\n");
    for (i, r) in chosen.iter().enumerate() {
        out.push_str(&format!(
            "<tr{}><td>{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td>",
            if r.baseline {
                " class=\"baseline\""
            } else {
                ""
            },
            escape(&r.name),
            escape(&r.changes),
            r.generator_params.map_or("-".into(), |p| p.to_string()),
            r.train_images_per_s
                .map_or("-".into(), |s| format!("{s:.1}")),
            r.pairs
        ));
        for (k, m) in METRICS.iter().enumerate() {
            let class = if best[k] == Some(i) {
                " class=\"best\""
            } else {
                ""
            };
            out.push_str(&format!("<td{class}>{}</td>", m.format(&r.metrics[k])));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

fn examples_html(ex: &ExampleImages, size: u32) -> Result<String> {
    let shown = (size * 2).clamp(96, 160);
    let mut out = String::from("<h2>The same test faces through every variant (true masks)</h2>\n");
    let header: Vec<String> = ex.columns.iter().map(|(n, _)| escape(n)).collect();
    let count = ex.columns.first().map_or(0, |c| c.1.len());
    let mut rows = Vec::new();
    for i in 0..count {
        let mut cells = Vec::new();
        for (name, imgs) in &ex.columns {
            cells.push(inline_png(&imgs[i], shown, name)?);
        }
        rows.push(cells);
    }
    out.push_str(&table(&header, &rows, "grid"));
    if !ex.segmentation.is_empty() {
        out.push_str("<h2>Segmentation examples</h2>\n");
        let header = vec![
            "masked photo".to_string(),
            "true mask".to_string(),
            "segmenter's mask".to_string(),
        ];
        let mut rows = Vec::new();
        for (img, truth, predicted) in &ex.segmentation {
            rows.push(vec![
                inline_png(img, 128, "masked")?,
                inline_png(truth, 128, "true mask")?,
                inline_png(predicted, 128, "segmenter")?,
            ]);
        }
        out.push_str(&table(&header, &rows, "grid"));
    }
    Ok(out)
}
