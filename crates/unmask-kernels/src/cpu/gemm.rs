//! One call shape for the `gemm` crate: `dst (+)= lhs x rhs` with explicit strides, so the
//! kernels can read transposed operands and NCHW planes in place.

/// A matrix operand: element `(i, j)` lies at `ptr[i * row + j * col]`.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub data: &'a [f32],
    pub row: usize,
    pub col: usize,
}

impl<'a> View<'a> {
    /// Row-major `rows x cols`.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            row: cols,
            col: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            row: 1,
            col: cols,
        }
    }

    /// The same elements read as the transpose.
    pub fn transpose(self) -> Self {
        Self {
            row: self.col,
            col: self.row,
            ..self
        }
    }

    fn reach(&self, rows: usize, cols: usize) -> usize {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * self.row + (cols - 1) * self.col + 1
        }
    }
}

/// Whether the GEMM may split its work over rayon's threads. The split changes which thread
/// computes a block, not the order of any sum, so results do not depend on it.
#[derive(Clone, Copy)]
pub enum Threads {
    One,
    All,
}

/// `dst[m x n] (row stride dst_row) = (accumulate ? dst : 0) + lhs[m x k] x rhs[k x n]`.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    dst: &mut [f32],
    dst_row: usize,
    lhs: View,
    rhs: View,
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
    threads: Threads,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= (m - 1) * dst_row + n, "gemm: destination size");
    // SAFETY: the destination was checked above and is borrowed mutably alone.
    unsafe {
        gemm_into(
            dst.as_mut_ptr(),
            [dst_row, 1],
            lhs,
            rhs,
            m,
            k,
            n,
            accumulate,
            threads,
        )
    }
}

/// [`gemm`] into a raw destination with `[row, column]` strides, for parallel jobs whose
/// destinations interleave without overlapping, and for results written transposed.
///
/// # Safety
/// `dst + i * strides[0] + j * strides[1]` for `i < m`, `j < n` must be valid for writes, and
/// no other thread may access those elements during the call.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_into(
    dst: *mut f32,
    strides: [usize; 2],
    lhs: View,
    rhs: View,
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
    threads: Threads,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        lhs.data.len() >= lhs.reach(m, k) && rhs.data.len() >= rhs.reach(k, n),
        "gemm: operand sizes"
    );
    if k == 0 {
        if !accumulate {
            for row in 0..m {
                for col in 0..n {
                    // SAFETY: inside the destination by the caller's contract.
                    unsafe { *dst.add(row * strides[0] + col * strides[1]) = 0.0 };
                }
            }
        }
        return;
    }
    let parallelism = match threads {
        Threads::One => gemm::Parallelism::None,
        Threads::All => gemm::Parallelism::Rayon(0),
    };
    // SAFETY: the assert above keeps every operand element the strides address inside its
    // slice; the destination is the caller's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            strides[1] as isize,
            strides[0] as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col as isize,
            lhs.row as isize,
            rhs.data.as_ptr(),
            rhs.col as isize,
            rhs.row as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_operands_match_the_definition() {
        // lhs 2x3 given transposed (stored 3x2), rhs 3x2 row-major.
        let lhs_t = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let rhs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = vec![0.0; 4];
        gemm(
            &mut out,
            2,
            View::transposed(&lhs_t, 2),
            View::rows(&rhs, 2),
            2,
            3,
            2,
            false,
            Threads::One,
        );
        assert_eq!(out, vec![22.0, 28.0, 49.0, 64.0]);
        // Accumulating into a wider destination row.
        let mut wide = [1.0, 1.0, 9.0, 1.0, 1.0, 9.0];
        gemm(
            &mut wide,
            3,
            View::transposed(&lhs_t, 2),
            View::rows(&rhs, 2),
            2,
            3,
            2,
            true,
            Threads::All,
        );
        assert_eq!(wide, [23.0, 29.0, 9.0, 50.0, 65.0, 9.0]);
    }
}
