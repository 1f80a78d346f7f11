//! Process-wide allocator settings for the training and benchmark hot loops.
//!
//! A SAC update allocates and frees dozens of 0.1-1 MB activation and gradient buffers. With
//! glibc's defaults many of them are served by fresh `mmap`s or trimmed back to the kernel on
//! free, so every update page-faults the same memory in again. Keeping them on the heap (a fixed
//! 32 MB mmap threshold, trimming only above 1 GB free) made the one-thread update ~15% faster
//! here (docs/benchmarks.md, `bench sac`).

/// Applies the settings; `main` calls it once at start-up for every command (the app too: its
/// resident memory then stays higher after a spike, which is harmless). A no-op off glibc.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocator parameters; it is called at start-up.
    unsafe {
        let _ = libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        let _ = libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
