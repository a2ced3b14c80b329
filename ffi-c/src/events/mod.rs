//! Spread's event loop (`include/sp_events.h`): sp_time arithmetic, timers,
//! file-descriptor callbacks and `E_handle_events`, with the semantics of
//! Spread 5.0.1's `libspread-util/src/events.c`.
//!
//! State is process-wide, as 5.0.1 keeps it in globals, so a program may
//! register callbacks on one thread and run the loop on another. It sits
//! behind one `Mutex` that is only ever held inside `state::with_state`
//! closures: callbacks are arbitrary C function pointers that may call back
//! into this API (attach, detach, queue, dequeue, exit, even a nested loop),
//! so no lock or borrow is ever held while one runs. The exit request and
//! the wake-up pipe are atomics instead, because `E_exit_events_async_safe`
//! runs in signal handlers.

mod exit;
mod fds;
mod poll;
mod run;
mod state;
mod time;
mod timers;
mod wake;

#[cfg(test)]
mod loop_tests;

pub use exit::{E_exit_events, E_exit_events_async_safe};
// The header's constants stay crate-private: sp_events.h defines them for C.
pub use fds::{
    E_activate_fd, E_attach_fd, E_deactivate_fd, E_detach_fd, E_detach_fd_priority, E_num_active,
    E_set_active_threshold, FdFn,
};
pub use run::E_handle_events;
pub use state::E_init;
pub use time::{
    E_add_time, E_compare_time, E_delay, E_get_time, E_get_time_monotonic, E_neg_time, E_sub_time,
};
pub use timers::{E_dequeue, E_in_queue, E_queue, TimerFn};

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; a panic (a bug of ours) becomes `on_panic` instead of
/// unwinding into the caller's C frames.
fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// The user's `void *data`, kept only to be handed back to the callback
/// that registered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UserData(pub *mut libc::c_void);

// SAFETY: we never dereference the pointer; it is passed back to C exactly
// as 5.0.1 does, on whichever thread runs the loop. Thread discipline for
// what it points to is the C program's business, as with 5.0.1.
unsafe impl Send for UserData {}

/// The event state is global, so tests that touch it take turns.
#[cfg(test)]
pub(crate) fn test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
