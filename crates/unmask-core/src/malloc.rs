//! glibc's malloc set up for tensor-sized buffers, called first thing by every binary.
//!
//! A model's forward and backward pass allocate and free megabyte tensors at every layer. By
//! default glibc serves a buffer above its mmap threshold straight from the kernel and hands
//! freed memory at the top of its heap back, so each pass touches fresh pages: in the 256 px
//! generator bench a sixth of the samples were page faults and the zeroing of new pages.
//! Keeping buffers up to 32 MiB in the heap *and* not trimming it lets them be reused
//! (`gan_inference_256/width/8` about 1.35x faster). Either setting alone is slower than
//! neither: setting one turns off glibc's dynamic adjustment of both.

/// Largest buffer kept in the heap (glibc's own ceiling on 64-bit targets).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 32 << 20;
/// Free memory kept at the top of the heap before any is given back to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 1 << 30;

/// Applies the settings; cheap, and a no-op off glibc. Call before the first big tensor.
pub fn keep_freed_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning parameters (glibc takes its arena
    // lock for it); no memory is touched and any value is valid.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
