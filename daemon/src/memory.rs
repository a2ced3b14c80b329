//! How the daemon asks its allocator to give memory back.
//!
//! glibc's allocator serves blocks of 128 KiB and more with their own
//! mappings, returned to the system when freed; but after each such block
//! is freed it raises that threshold to the block's size (up to 32 MiB), so
//! from then on the largest messages, their reassembly and a merge's state
//! exchange are cut from the heap, where what is freed stays resident,
//! scattered among live blocks that keep its pages. Under session churn
//! with messages up to 5.0.1's largest, a daemon's RSS so rose for as long
//! as the soak ran (`daemon/tests/soak.rs`: 43 to 68 MB in 60 s with 1,000
//! sessions, 115 MB after five minutes), although nothing was leaked
//! (`malloc_trim` on the idle daemon took it from 71 to 7 MB, and trimming
//! every 5 s under load did not help: the free pages are not whole). With
//! the threshold held at its initial 128 KiB the same run stays at 22 to 30
//! MB.

/// glibc's initial mmap threshold, which [`hold_mmap_threshold`] keeps.
pub const MMAP_THRESHOLD: usize = 128 * 1024;

/// Holds glibc's mmap threshold at [`MMAP_THRESHOLD`] (setting it turns
/// its raising off), unless the operator set it (`MALLOC_MMAP_THRESHOLD_`,
/// or `mmap_threshold` in `GLIBC_TUNABLES`). Nothing on other C libraries.
pub fn hold_mmap_threshold() {
    let set_by_operator = std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
        || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("mmap_threshold"));
    if set_by_operator {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; it is called
    // at start, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
    }
}
