//! The kernels on plain `f32` slices in NCHW order, free of burn so they can be tested on
//! their own. `crate::flex` feeds them burn-flex's tensors.

pub mod conv;
pub mod depthwise;
pub mod gemm;
pub mod pool;
pub mod transpose;

/// A pointer that parallel jobs writing disjoint parts of one buffer may share.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr(pub *mut f32);

// SAFETY: only used for writes to disjoint ranges, as each call site argues.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// The element `offset` places in (a method, so closures capture the `Send` wrapper).
    ///
    /// # Safety
    /// `offset` must lie inside the buffer.
    pub(crate) unsafe fn at(self, offset: usize) -> *mut f32 {
        unsafe { self.0.add(offset) }
    }

    /// # Safety
    /// `offset + len` must lie inside the buffer, and no other live slice may overlap it.
    pub(crate) unsafe fn slice<'a>(self, offset: usize, len: usize) -> &'a mut [f32] {
        unsafe { std::slice::from_raw_parts_mut(self.0.add(offset), len) }
    }
}
