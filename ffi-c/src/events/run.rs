//! E_handle_events: the loop of 5.0.1's events.c.
//!
//! Each pass: run the due timers in deadline order; look at the
//! descriptors without waiting and, if none is ready, wait for one until
//! the next deadline; then serve every ready descriptor of the highest of
//! HIGH and MEDIUM that has one, and one ready LOW descriptor, round-robin.
//! Timers wait, on the first passes of each call, until a pass serves no
//! HIGH or MEDIUM descriptor, so descriptors ready at entry go first.
#![allow(non_snake_case)]

use super::fds::{HIGH_PRIORITY, MEDIUM_PRIORITY};
use super::poll::PollSet;
use super::state::with_state;
use super::timers::Next;
use super::{exit, guard, time, wake};

/// The wait when no timer is queued (5.0.1's), after which the loop simply
/// goes round again.
const IDLE_WAIT_US: i64 = 10_000 * 1_000_000;

/// Returns when a callback (or a signal handler, or another thread) calls
/// E_exit_events or E_exit_events_async_safe.
#[no_mangle]
pub extern "C" fn E_handle_events() {
    guard((), run)
}

fn run() {
    let wake_fd = wake::reader();
    exit::clear();
    // Drained after clearing: a request landing in between keeps its flag,
    // so losing its byte costs nothing.
    wake::drain();
    let mut timers_held = true;

    while !exit::requested() {
        let mut timeout = IDLE_WAIT_US;
        loop {
            let now = time::now_micros();
            match with_state(|s| s.timers.next(now, !timers_held)) {
                Next::Empty => break,
                Next::WaitFor(us) => {
                    timeout = us.max(0);
                    break;
                }
                Next::Fire(t) => {
                    // SAFETY: a non-NULL function pointer the C caller queued
                    // with this signature (E_queue), with its own code and
                    // data; no lock or borrow is held while it runs.
                    unsafe { (t.func)(t.code, t.data.0) };
                    if exit::requested() {
                        return;
                    }
                }
            }
        }

        let mut set = with_state(|s| PollSet::new(&s.fds, wake_fd));
        let mut num_ready = set.poll(0);
        if num_ready == 0 && !exit::requested() {
            num_ready = set.poll(timeout);
        }

        let mut served_high = false;
        for prio in [HIGH_PRIORITY, MEDIUM_PRIORITY] {
            if num_ready <= 0 || served_high {
                break;
            }
            // Slot by slot, re-read under the lock each time: a callback may
            // attach, detach or deactivate, and a descriptor it detached or
            // deactivated must not be called later in the pass (its data
            // may already be freed).
            let mut index = 0;
            while num_ready > 0 {
                let Some((ev, threshold)) =
                    with_state(|s| s.fds.slot(prio, index).map(|ev| (ev, s.fds.threshold())))
                else {
                    break;
                };
                index += 1;
                if !(ev.active && prio >= threshold && set.is_ready(ev.fd, ev.fd_type)) {
                    continue;
                }
                // SAFETY: a non-NULL function pointer the C caller attached
                // for this descriptor with this signature (E_attach_fd), with
                // its own fd, code and data; no lock or borrow is held.
                unsafe { (ev.func)(ev.fd, ev.code, ev.data.0) };
                served_high = true;
                num_ready -= 1;
                if exit::requested() {
                    return;
                }
            }
        }
        if !served_high {
            timers_held = false;
        }

        // One LOW descriptor, even in a pass that served HIGH or MEDIUM ones,
        // as long as the pass's count of ready pairs is not used up.
        if num_ready > 0 {
            if let Some(ev) = with_state(|s| s.fds.pick_low(|fd, ty| set.is_ready(fd, ty))) {
                // SAFETY: as for the HIGH and MEDIUM callbacks above: the
                // caller's attached function, fd, code and data, no lock held.
                unsafe { (ev.func)(ev.fd, ev.code, ev.data.0) };
                if exit::requested() {
                    return;
                }
            }
        }
    }
}
