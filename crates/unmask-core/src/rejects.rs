//! Per-sample rejections (an unreadable photo, a face a mask cannot be placed on) are data,
//! but a data stage that throws away most of its input has failed: [`ensure_few_rejected`]
//! turns too many of them into an error that names the commonest reasons.

use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// The share of rejected samples a data stage accepts unless told otherwise.
pub const DEFAULT_MAX_REJECT_FRACTION: f64 = 0.1;

/// The kind of a reason: its text before the first `:` or `(` (`"unreadable image: a.png:
/// truncated PNG"` is `unreadable image`), so reasons that differ only in the file group.
pub fn reason_kind(reason: &str) -> &str {
    let end = reason.find([':', '(']).unwrap_or(reason.len());
    reason[..end].trim()
}

/// `reason kind xN`, commonest first (ties by name).
pub fn grouped_reasons<'a>(reasons: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reasons {
        *by.entry(reason_kind(r)).or_default() += 1;
    }
    let mut v: Vec<(&str, usize)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter().map(|(r, n)| format!("{r} x{n}")).collect()
}

/// Checks a share of `field` in (0, 1] (1 accepts any number of rejections).
pub fn check_fraction(field: &str, value: f64) -> Result<()> {
    if !(value > 0.0 && value <= 1.0) {
        bail!("{field} must be in (0, 1], got {value}");
    }
    Ok(())
}

/// The limit a stage puts on its rejections.
#[derive(Clone, Copy, Debug)]
pub struct RejectLimit<'a> {
    /// The largest accepted share of lost samples, in (0, 1].
    pub max_fraction: f64,
    /// What the samples are, plural ("faces").
    pub what: &'a str,
    /// The parameter that sets the limit, for the message.
    pub field: &'a str,
}

/// Fails when more than `limit.max_fraction` of `total` samples were lost. `rejected` holds
/// `(sample, reason)` for the reasons; `lost` counts the samples they cost (a face that
/// cannot be read costs all its masked versions).
pub fn ensure_few_rejected(
    rejected: &[(String, String)],
    lost: usize,
    total: usize,
    limit: RejectLimit,
) -> Result<()> {
    let RejectLimit {
        max_fraction,
        what,
        field,
    } = limit;
    if total == 0 || lost == 0 {
        return Ok(());
    }
    let share = lost as f64 / total as f64;
    if share <= max_fraction {
        return Ok(());
    }
    let reasons = grouped_reasons(rejected.iter().map(|r| r.1.as_str()));
    let examples: Vec<String> = rejected
        .iter()
        .take(3)
        .map(|(id, reason)| format!("{id}: {reason}"))
        .collect();
    bail!(
        "{lost} of {total} {what} rejected ({:.1}%, more than {field} = {max_fraction}); commonest reasons: {}; for example {}",
        100.0 * share,
        reasons.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
        examples.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejects(n: usize, reason: &str) -> Vec<(String, String)> {
        (0..n)
            .map(|i| (format!("face_{i}"), reason.to_string()))
            .collect()
    }

    #[test]
    fn reasons_group_by_kind_commonest_first() {
        let r = [
            "unreadable image: a.png: truncated PNG",
            "no face found",
            "unreadable image: b.png: empty file",
        ];
        assert_eq!(
            grouped_reasons(r),
            vec!["unreadable image x2", "no face found x1"]
        );
        assert_eq!(reason_kind("not a JPEG (starts with \"hi\")"), "not a JPEG");
    }

    #[test]
    fn too_many_rejections_fail_with_the_reasons_and_a_few_are_accepted() {
        let mut many = rejects(1963, "unreadable image: x.png: No such file or directory");
        many.extend(rejects(2, "mask placement failed: degenerate"));
        let limit = |max_fraction| RejectLimit {
            max_fraction,
            what: "faces",
            field: "masks.max_reject_fraction",
        };
        let err = ensure_few_rejected(&many, many.len(), 2000, limit(0.1))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("1965 of 2000 faces rejected (98.2%"),
            "{err}"
        );
        assert!(err.contains("masks.max_reject_fraction = 0.1"), "{err}");
        assert!(
            err.contains("unreadable image x1963, mask placement failed x2"),
            "{err}"
        );
        assert!(err.contains("face_0: unreadable image"), "{err}");
        ensure_few_rejected(&rejects(10, "bad"), 10, 100, limit(0.1)).unwrap();
        assert!(ensure_few_rejected(&rejects(11, "bad"), 11, 100, limit(0.1)).is_err());
        // One rejected face that cost three masked samples of 20.
        assert!(ensure_few_rejected(&rejects(1, "bad"), 3, 20, limit(0.1)).is_err());
        ensure_few_rejected(&rejects(100, "bad"), 100, 100, limit(1.0)).unwrap();
        assert!(check_fraction("f", 0.0).is_err() && check_fraction("f", 1.5).is_err());
        check_fraction("f", 1.0).unwrap();
    }
}
