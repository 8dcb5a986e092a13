//! The few dense solves the crate needs; small enough that a linear-algebra crate is not worth
//! its build time.

/// Solves the `n` x `n` system `a x = b` (row-major `a`) by Gaussian elimination with partial
/// pivoting. Returns `None` when a pivot falls below `rel_tol` times the largest absolute entry
/// of `a`, which is how callers detect singular or ill-conditioned problems.
pub(crate) fn solve(n: usize, a: &mut [f64], b: &mut [f64], rel_tol: f64) -> Option<Vec<f64>> {
    debug_assert_eq!(a.len(), n * n);
    debug_assert_eq!(b.len(), n);
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if !(scale.is_finite() && scale > 0.0) || b.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let tol = scale * rel_tol;
    for col in 0..n {
        let (pivot_row, pivot) =
            (col..n)
                .map(|r| (r, a[r * n + col].abs()))
                .fold(
                    (col, -1.0),
                    |best, cur| if cur.1 > best.1 { cur } else { best },
                );
        if !(pivot > tol) {
            return None;
        }
        if pivot_row != col {
            for k in 0..n {
                a.swap(col * n + k, pivot_row * n + k);
            }
            b.swap(col, pivot_row);
        }
        let diag = a[col * n + col];
        for r in col + 1..n {
            let f = a[r * n + col] / diag;
            if f == 0.0 {
                continue;
            }
            for k in col..n {
                a[r * n + k] -= f * a[col * n + k];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let mut s = b[r];
        for k in r + 1..n {
            s -= a[r * n + k] * x[k];
        }
        x[r] = s / a[r * n + r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Least squares `min |m x - y|` through the normal equations; `m` has `cols` columns,
/// row-major. Adequate here because callers normalise their data first.
pub(crate) fn least_squares(m: &[f64], y: &[f64], cols: usize, rel_tol: f64) -> Option<Vec<f64>> {
    let rows = y.len();
    debug_assert_eq!(m.len(), rows * cols);
    let mut ata = vec![0.0; cols * cols];
    let mut aty = vec![0.0; cols];
    for r in 0..rows {
        let row = &m[r * cols..(r + 1) * cols];
        for i in 0..cols {
            aty[i] += row[i] * y[r];
            for j in 0..cols {
                ata[i * cols + j] += row[i] * row[j];
            }
        }
    }
    solve(cols, &mut ata, &mut aty, rel_tol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_detects_singular() {
        let mut a = vec![0.0, 2.0, 1.0, 1.0];
        let mut b = vec![4.0, 3.0];
        let x = solve(2, &mut a, &mut b, 1e-12).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
        let mut a = vec![1.0, 2.0, 2.0, 4.0];
        let mut b = vec![1.0, 2.0];
        assert!(solve(2, &mut a, &mut b, 1e-12).is_none());
        let mut a = vec![f64::NAN, 0.0, 0.0, 1.0];
        let mut b = vec![1.0, 2.0];
        assert!(solve(2, &mut a, &mut b, 1e-12).is_none());
    }
}
