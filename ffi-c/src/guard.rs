//! What every exported function needs: no panic crosses into C, and C
//! strings are read with a bound.

use libc::c_char;
use spread_core::consts::SP_BUG;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; a panic (a bug of ours) becomes `on_panic` instead of
/// unwinding into the caller's C frames.
pub fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// `guard` for functions that return a Spread code.
pub fn guard_code(f: impl FnOnce() -> i32) -> i32 {
    guard(SP_BUG, f)
}

/// The bytes of a NUL-terminated string, reading at most `max` bytes;
/// `None` for a NULL pointer.
///
/// # Safety
/// `p` is NULL or points to at least `max` readable bytes or to a NUL
/// within them.
pub unsafe fn c_bytes<'a>(p: *const c_char, max: usize) -> Option<&'a [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is not NULL, and the caller guarantees a NUL within
    // `max` readable bytes or `max` readable bytes, which is all strnlen
    // reads.
    let len = unsafe { libc::strnlen(p, max) };
    // SAFETY: strnlen found `len` <= `max` bytes before a NUL (or the
    // bound), all readable by the caller's guarantee; they are not written
    // while the slice lives, as the caller's string is its input.
    Some(unsafe { std::slice::from_raw_parts(p as *const u8, len) })
}

/// Copies `src` into a C buffer of `cap` bytes as `strncpy` would: the
/// bytes, then NULs up to `cap` (no NUL if `src` fills it).
///
/// # Safety
/// `dst` points to `cap` writable bytes.
pub unsafe fn copy_padded(dst: *mut c_char, cap: usize, src: &[u8]) {
    let n = src.len().min(cap);
    // SAFETY: `n` <= `src.len()` bytes are readable from `src`, and `n` <=
    // `cap` bytes are writable at `dst` by the caller's guarantee; every
    // caller passes bytes of its own (a local or a decoded name), never the
    // C buffer itself, so the two do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst as *mut u8, n) };
    // SAFETY: `dst + n .. dst + cap` lies within the caller's `cap`
    // writable bytes.
    unsafe { std::ptr::write_bytes((dst as *mut u8).add(n), 0, cap - n) };
}
