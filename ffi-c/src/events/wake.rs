//! The self-pipe that wakes a loop blocked in poll(2) when it is asked to
//! exit from a signal handler or another thread.
//!
//! The pipe is made once and never closed: a signal handler may be about to
//! write to it at any moment, and a closed descriptor number could be reused
//! by the program for something else.

use libc::c_int;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

static READ_END: AtomicI32 = AtomicI32::new(-1);
static WRITE_END: AtomicI32 = AtomicI32::new(-1);
static MAKING: Mutex<()> = Mutex::new(());

/// The read end, made on first use; `None` if the pipe cannot be made, in
/// which case a signal still interrupts poll on the loop's own thread.
pub(crate) fn reader() -> Option<c_int> {
    let fd = READ_END.load(Ordering::Acquire);
    if fd >= 0 {
        return Some(fd);
    }
    let _making = MAKING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fd = READ_END.load(Ordering::Acquire);
    if fd >= 0 {
        return Some(fd);
    }
    let mut ends = [-1 as c_int; 2];
    // SAFETY: `ends` has room for the two descriptors pipe(2) writes.
    if unsafe { libc::pipe(ends.as_mut_ptr()) } != 0 {
        return None;
    }
    for end in ends {
        // Non-blocking so neither a full pipe (many wake-ups) nor draining
        // an empty one can block; close-on-exec so exec'd children do not
        // inherit it.
        // SAFETY: fcntl on descriptors we just made.
        unsafe {
            let fl = libc::fcntl(end, libc::F_GETFL);
            libc::fcntl(end, libc::F_SETFL, fl | libc::O_NONBLOCK);
            libc::fcntl(end, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    WRITE_END.store(ends[1], Ordering::Release);
    READ_END.store(ends[0], Ordering::Release);
    Some(ends[0])
}

/// Empties the pipe so past wake-ups do not cut a later wait short.
pub(crate) fn drain() {
    let fd = READ_END.load(Ordering::Acquire);
    if fd < 0 {
        return;
    }
    let mut buf = [0u8; 64];
    // SAFETY: reading into a local buffer of the stated length.
    while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// Async-signal-safe: an atomic load and write(2), no lock, no allocation,
/// and errno is left as the interrupted code had it.
pub(crate) fn poke() {
    let fd = WRITE_END.load(Ordering::Acquire);
    if fd < 0 {
        return;
    }
    let saved = errno::get();
    let byte = 1u8;
    // SAFETY: writing one byte from a local. A full pipe (EAGAIN) already
    // holds a pending wake-up, so the result does not matter.
    unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    errno::set(saved);
}

mod errno {
    use libc::c_int;

    #[cfg(any(target_os = "linux", target_os = "emscripten", target_os = "redox"))]
    fn location() -> *mut c_int {
        // SAFETY: returns this thread's errno slot.
        unsafe { libc::__errno_location() }
    }

    #[cfg(any(target_os = "android", target_os = "netbsd", target_os = "openbsd"))]
    fn location() -> *mut c_int {
        // SAFETY: returns this thread's errno slot.
        unsafe { libc::__errno() }
    }

    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "dragonfly"
    ))]
    fn location() -> *mut c_int {
        // SAFETY: returns this thread's errno slot.
        unsafe { libc::__error() }
    }

    #[cfg(not(any(
        target_os = "linux",
        target_os = "emscripten",
        target_os = "redox",
        target_os = "android",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "dragonfly"
    )))]
    fn location() -> *mut c_int {
        std::ptr::null_mut()
    }

    pub(super) fn get() -> c_int {
        let p = location();
        if p.is_null() {
            0
        } else {
            // SAFETY: a valid per-thread slot.
            unsafe { *p }
        }
    }

    pub(super) fn set(value: c_int) {
        let p = location();
        if !p.is_null() {
            // SAFETY: a valid per-thread slot.
            unsafe { *p = value };
        }
    }
}
