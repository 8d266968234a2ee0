//! Memory reuse for large activations. A GConv layer makes several tensors of
//! rows x Cout*Ng elements per pass; glibc serves blocks above its mmap threshold with
//! fresh pages and returns them on free, so every such tensor pays page faults on first
//! touch (measured: a 50 MB fill costs ten times an in-place pass on the 2-core machine).
//! Raising the threshold to glibc's maximum (32 MiB) and disabling heap trimming lets freed
//! blocks be reused; micro-batches are sized to stay under the threshold
//! ([`crate::Gcnet::auto_micro_batch`]).

use std::sync::Once;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
}

/// Raises glibc's mmap threshold to 32 MiB and turns off heap trimming, once per process
/// (no effect on other platforms).
pub fn keep_freed_memory() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes allocator parameters; it is called once, before
        // the network allocates its tensors.
        unsafe {
            const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
            const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, i32::MAX);
        }
    });
}
