//! `ablation.md`: the table per mask source, the paired differences, the parameter note and
//! the segmenter's scores.

use super::{parameter_note, Parts, MASK_SECTIONS, PAIRED_NOTE};
use crate::table;

pub(super) fn report(parts: &Parts) -> String {
    let mut md = format!(
        "# Ablation: `{}`\n\nCode version `{}`. {} GAN variants trained on the same data with the same seed and budget; every row scored on the same {} test pairs. Cells: mean [95% bootstrap interval, {} resamples]; the best mean of each column in bold (lower is better for L1 and LPIPS, higher for PSNR and SSIM).\n\n",
        parts.inputs.pipeline,
        parts.inputs.code_version,
        parts.trainings.len(),
        parts.rows.first().map_or(0, |r| r.pairs),
        parts.params.resamples
    );
    if (parts.params.confidence - 0.95).abs() > 1e-9 {
        md = md.replace("95%", &format!("{:.0}%", parts.params.confidence * 100.0));
    }
    for (masks, title) in MASK_SECTIONS {
        if parts.rows.iter().any(|r| r.masks == masks) {
            md.push_str(&format!(
                "## {title}\n\n{}\n",
                table::markdown(parts.rows, masks)
            ));
            if parts.paired.iter().any(|p| p.masks == masks) {
                md.push_str(&format!(
                    "### Paired differences\n\n{PAIRED_NOTE}\n\n{}\n",
                    crate::paired::markdown(parts.paired, masks)
                ));
            }
        }
    }
    if let Some(note) = parameter_note(parts.rows) {
        md.push_str(&format!("{note}\n\n"));
    }
    if let Some(seg) = parts.seg_eval {
        md.push_str(&format!(
            "## The segmenter\n\n{}\n",
            seg.trim_start_matches(|c| c != '\n').trim()
        ));
    }
    md
}
