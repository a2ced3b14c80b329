//! Asking E_handle_events to return.
#![allow(non_snake_case)]

use super::wake;
use std::sync::atomic::{AtomicU8, Ordering};

const RUN: u8 = 0;
const EXIT_NORMAL: u8 = 1;
const EXIT_ASYNC_SAFE: u8 = 2;

/// An atomic rather than part of the locked state: signal handlers set it.
static EXIT: AtomicU8 = AtomicU8::new(RUN);

pub(crate) fn requested() -> bool {
    EXIT.load(Ordering::SeqCst) != RUN
}

/// As 5.0.1, a request made while no loop runs is forgotten when the next
/// one starts.
pub(crate) fn clear() {
    EXIT.store(RUN, Ordering::SeqCst);
}

/// Makes E_handle_events return as soon as the running callback returns.
/// Also wakes the loop, so another thread may call it.
#[no_mangle]
pub extern "C" fn E_exit_events() {
    // Nothing here can panic, so there is no guard.
    EXIT.store(EXIT_NORMAL, Ordering::SeqCst);
    wake::poke();
}

/// E_exit_events for signal handlers: an atomic store and one write(2) to
/// the wake-up pipe, so a loop blocked in poll returns even when the signal
/// went to another thread.
#[no_mangle]
pub extern "C" fn E_exit_events_async_safe() {
    // No catch_unwind: nothing here can panic, and a signal handler should
    // run as little as possible.
    EXIT.store(EXIT_ASYNC_SAFE, Ordering::SeqCst);
    wake::poke();
}
