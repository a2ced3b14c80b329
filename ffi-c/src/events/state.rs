//! The process-wide event state and E_init.
#![allow(non_snake_case)]

use super::fds::FdTable;
use super::timers::TimerQueue;
use super::{guard, wake};
use libc::c_int;
use std::sync::{Mutex, PoisonError};

#[derive(Debug)]
pub(crate) struct State {
    pub timers: TimerQueue,
    pub fds: FdTable,
}

impl State {
    const fn new() -> Self {
        State {
            timers: TimerQueue::new(),
            fds: FdTable::new(),
        }
    }
}

/// Constant-initialised, so every function works without E_init.
static STATE: Mutex<State> = Mutex::new(State::new());

/// The only way to the state. Taking a closure keeps the lock's scope
/// visible: callers must not call out to C, or to the exported API, inside.
pub(crate) fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    // A panic under the lock (a bug of ours, caught at the FFI boundary)
    // leaves the state consistent enough to go on: every update is a single
    // Vec operation.
    let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
    f(&mut state)
}

/// Forgets every timer and descriptor and serves all priorities again.
/// Always 0.
#[no_mangle]
pub extern "C" fn E_init() -> c_int {
    guard(0, || {
        with_state(|s| *s = State::new());
        // Made here so that a signal handler calling
        // E_exit_events_async_safe never has to.
        wake::reader();
        0
    })
}
