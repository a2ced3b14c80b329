//! The timer queue: one entry per (func, code, data), ordered by deadline
//! on the monotonic clock, first queued first among equal deadlines.
#![allow(non_snake_case)]

use super::state::with_state;
use super::{guard, time, UserData};
use crate::types::SpTime;
use libc::{c_int, c_void};
use std::collections::VecDeque;

/// `void (*func)(int code, void *data)`, NULL as `None`. Spelled out in the
/// `Option` (not via `TimerCallback`) so cbindgen sees a function pointer.
pub type TimerFn = Option<unsafe extern "C" fn(code: c_int, data: *mut c_void)>;

/// A timer's callback once known not to be NULL.
pub(crate) type TimerCallback = unsafe extern "C" fn(code: c_int, data: *mut c_void);

#[derive(Clone, Copy, Debug)]
pub(crate) struct Timer {
    /// Microseconds on the monotonic clock.
    pub deadline: i64,
    pub func: TimerCallback,
    pub code: c_int,
    pub data: UserData,
}

impl Timer {
    /// 5.0.1 identifies a timer by the function's address, not by calling
    /// it, so addresses are what we compare.
    fn is(&self, func: TimerCallback, code: c_int, data: UserData) -> bool {
        self.func as usize == func as usize && self.code == code && self.data == data
    }
}

/// What the loop should do about the head of the queue.
pub(crate) enum Next {
    Empty,
    Fire(Timer),
    /// Microseconds until the earliest deadline (negative when overdue but
    /// not allowed to fire yet).
    WaitFor(i64),
}

#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    entries: VecDeque<Timer>,
}

impl TimerQueue {
    pub const fn new() -> Self {
        TimerQueue {
            entries: VecDeque::new(),
        }
    }

    pub fn queue(&mut self, timer: Timer) {
        self.remove(timer.func, timer.code, timer.data);
        let at = self
            .entries
            .partition_point(|e| e.deadline <= timer.deadline);
        self.entries.insert(at, timer);
    }

    pub fn remove(&mut self, func: TimerCallback, code: c_int, data: UserData) -> bool {
        match self.entries.iter().position(|e| e.is(func, code, data)) {
            Some(i) => {
                self.entries.remove(i);
                true
            }
            None => false,
        }
    }

    pub fn contains(&self, func: TimerCallback, code: c_int, data: UserData) -> bool {
        self.entries.iter().any(|e| e.is(func, code, data))
    }

    /// Pops the head if it is due at `now` and firing is allowed.
    pub fn next(&mut self, now: i64, may_fire: bool) -> Next {
        match self.entries.front() {
            None => Next::Empty,
            Some(head) if may_fire && now >= head.deadline => {
                Next::Fire(self.entries.pop_front().expect("head exists"))
            }
            Some(head) => Next::WaitFor(head.deadline.saturating_sub(now)),
        }
    }

    #[cfg(test)]
    pub fn codes(&self) -> Vec<c_int> {
        self.entries.iter().map(|e| e.code).collect()
    }
}

/// Always 0 when `func` is non-NULL, as in 5.0.1 (which cannot fail);
/// -1 for a NULL `func`, which 5.0.1 would call and crash on.
#[no_mangle]
pub extern "C" fn E_queue(
    func: TimerFn,
    code: c_int,
    data: *mut c_void,
    delta_time: SpTime,
) -> c_int {
    guard(-1, || {
        let Some(func) = func else { return -1 };
        let deadline = time::now_micros().saturating_add(time::to_micros(delta_time));
        with_state(|s| {
            s.timers.queue(Timer {
                deadline,
                func,
                code,
                data: UserData(data),
            })
        });
        0
    })
}

/// 0 if the timer was queued and is now removed, -1 if it was not queued.
#[no_mangle]
pub extern "C" fn E_dequeue(func: TimerFn, code: c_int, data: *mut c_void) -> c_int {
    guard(-1, || {
        let Some(func) = func else { return -1 };
        if with_state(|s| s.timers.remove(func, code, UserData(data))) {
            0
        } else {
            -1
        }
    })
}

/// 1 if the timer is queued, 0 if not.
#[no_mangle]
pub extern "C" fn E_in_queue(func: TimerFn, code: c_int, data: *mut c_void) -> c_int {
    guard(0, || {
        let Some(func) = func else { return 0 };
        c_int::from(with_state(|s| {
            s.timers.contains(func, code, UserData(data))
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{test_lock, E_init};
    use std::ptr::null_mut;

    extern "C" fn tick(_code: c_int, _data: *mut c_void) {}
    extern "C" fn tock(_code: c_int, _data: *mut c_void) {}

    fn at(deadline: i64, code: c_int) -> Timer {
        Timer {
            deadline,
            func: tick,
            code,
            data: UserData(null_mut()),
        }
    }

    fn ms(n: i64) -> SpTime {
        time::from_micros(n * 1000)
    }

    #[test]
    fn equal_deadlines_keep_queue_order() {
        let mut q = TimerQueue::new();
        q.queue(at(20, 1));
        q.queue(at(10, 2));
        q.queue(at(20, 3));
        q.queue(at(10, 4));
        q.queue(at(30, 5));
        q.queue(at(5, 6));
        assert_eq!(q.codes(), vec![6, 2, 4, 1, 3, 5]);
    }

    #[test]
    fn queueing_again_moves_the_timer() {
        let mut q = TimerQueue::new();
        q.queue(at(10, 1));
        q.queue(at(20, 2));
        q.queue(at(30, 1));
        assert_eq!(q.codes(), vec![2, 1]);
        // Re-queued at the same deadline as another: it goes after it.
        q.queue(at(20, 1));
        assert_eq!(q.codes(), vec![2, 1]);
        q.queue(at(5, 2));
        assert_eq!(q.codes(), vec![2, 1]);
        q.queue(at(25, 2));
        assert_eq!(q.codes(), vec![1, 2]);
    }

    #[test]
    fn next_fires_only_when_due_and_allowed() {
        let mut q = TimerQueue::new();
        assert!(matches!(q.next(0, true), Next::Empty));
        q.queue(at(100, 1));
        q.queue(at(200, 2));
        assert!(matches!(q.next(50, true), Next::WaitFor(50)));
        assert!(matches!(q.next(150, false), Next::WaitFor(-50)));
        assert!(matches!(q.next(150, true), Next::Fire(t) if t.code == 1));
        assert!(matches!(q.next(150, true), Next::WaitFor(50)));
        assert!(matches!(q.next(200, true), Next::Fire(t) if t.code == 2));
        assert!(matches!(q.next(200, true), Next::Empty));
    }

    #[test]
    fn triple_identity_queue_dequeue_in_queue() {
        let _l = test_lock();
        assert_eq!(E_init(), 0);
        let mut x = 0u8;
        let px: *mut c_void = (&mut x as *mut u8).cast();

        assert_eq!(E_queue(Some(tick), 1, null_mut(), ms(1000)), 0);
        assert_eq!(E_queue(Some(tick), 1, null_mut(), ms(2000)), 0);
        assert_eq!(E_queue(Some(tick), 2, null_mut(), ms(1000)), 0);
        assert_eq!(E_queue(Some(tick), 1, px, ms(1000)), 0);
        assert_eq!(E_queue(Some(tock), 1, null_mut(), ms(1000)), 0);
        // Four distinct triples; the second queueing replaced the first.
        assert_eq!(with_state(|s| s.timers.entries.len()), 4);

        assert_eq!(E_in_queue(Some(tick), 1, null_mut()), 1);
        assert_eq!(E_in_queue(Some(tick), 3, null_mut()), 0);
        assert_eq!(E_dequeue(Some(tick), 1, null_mut()), 0);
        assert_eq!(E_dequeue(Some(tick), 1, null_mut()), -1);
        assert_eq!(E_in_queue(Some(tick), 1, null_mut()), 0);
        assert_eq!(E_in_queue(Some(tick), 1, px), 1);
        assert_eq!(E_in_queue(Some(tock), 1, null_mut()), 1);
        assert_eq!(E_dequeue(Some(tock), 1, px), -1);
        assert_eq!(E_dequeue(Some(tock), 1, null_mut()), 0);

        // E_init empties the queue.
        assert_eq!(E_init(), 0);
        assert_eq!(E_in_queue(Some(tick), 1, px), 0);
    }

    #[test]
    fn deadlines_follow_the_delta() {
        let _l = test_lock();
        E_init();
        E_queue(Some(tick), 3, null_mut(), ms(300));
        E_queue(Some(tick), 1, null_mut(), ms(100));
        E_queue(Some(tick), 4, null_mut(), ms(-50));
        E_queue(Some(tick), 2, null_mut(), ms(200));
        assert_eq!(with_state(|s| s.timers.codes()), vec![4, 1, 2, 3]);
        let before = time::now_micros();
        let head = with_state(|s| s.timers.entries[0].deadline);
        assert!(head < before);
        E_init();
    }

    #[test]
    fn null_function_is_refused() {
        let _l = test_lock();
        E_init();
        assert_eq!(E_queue(None, 1, null_mut(), ms(1)), -1);
        assert_eq!(E_dequeue(None, 1, null_mut()), -1);
        assert_eq!(E_in_queue(None, 1, null_mut()), 0);
        assert!(with_state(|s| s.timers.entries.is_empty()));
    }
}
