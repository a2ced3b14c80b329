//! The descriptor table: per priority, the (fd, fd_type) pairs with their
//! callbacks, whether each is active, and the threshold below which
//! priorities are not served.
#![allow(non_snake_case)]

use super::state::with_state;
use super::{guard, UserData};
use libc::{c_int, c_void};

/// `void (*func)(int fd, int code, void *data)`, NULL as `None`. Spelled
/// out in the `Option` (not via `FdCallback`) so cbindgen sees a function
/// pointer.
pub type FdFn = Option<unsafe extern "C" fn(fd: c_int, code: c_int, data: *mut c_void)>;

/// A descriptor's callback once known not to be NULL.
pub(crate) type FdCallback = unsafe extern "C" fn(fd: c_int, code: c_int, data: *mut c_void);

pub(crate) const MAX_FD_EVENTS: usize = 2000;
pub(crate) const NUM_PRIORITY: usize = 3;
pub(crate) const LOW_PRIORITY: usize = 0;
pub(crate) const MEDIUM_PRIORITY: usize = 1;
pub(crate) const HIGH_PRIORITY: usize = 2;
pub(crate) const NUM_FDTYPES: usize = 3;
pub(crate) const READ_FD: usize = 0;
pub(crate) const WRITE_FD: usize = 1;
pub(crate) const EXCEPT_FD: usize = 2;

fn priority(p: c_int) -> Option<usize> {
    usize::try_from(p).ok().filter(|&p| p < NUM_PRIORITY)
}

fn fd_type(t: c_int) -> Option<usize> {
    usize::try_from(t).ok().filter(|&t| t < NUM_FDTYPES)
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FdEvent {
    pub fd: c_int,
    pub fd_type: usize,
    pub func: FdCallback,
    pub code: c_int,
    pub data: UserData,
    pub active: bool,
}

impl FdEvent {
    fn is(&self, fd: c_int, fd_type: usize) -> bool {
        self.fd == fd && self.fd_type == fd_type
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Attached {
    Added,
    Replaced,
    Full,
}

#[derive(Debug)]
pub(crate) struct FdTable {
    queues: [Vec<FdEvent>; NUM_PRIORITY],
    threshold: usize,
    /// Where the next search for a ready LOW descriptor starts.
    round_robin: usize,
}

impl FdTable {
    pub const fn new() -> Self {
        FdTable {
            queues: [Vec::new(), Vec::new(), Vec::new()],
            threshold: LOW_PRIORITY,
            round_robin: 0,
        }
    }

    pub fn attach(&mut self, ev: FdEvent, prio: usize) -> Attached {
        let queue = &mut self.queues[prio];
        if let Some(old) = queue.iter_mut().find(|e| e.is(ev.fd, ev.fd_type)) {
            *old = FdEvent { active: true, ..ev };
            return Attached::Replaced;
        }
        if queue.len() >= MAX_FD_EVENTS {
            return Attached::Full;
        }
        queue.push(FdEvent { active: true, ..ev });
        Attached::Added
    }

    /// Removes by moving the last entry into the hole, as 5.0.1 does: the
    /// order of a queue decides the order callbacks run in.
    pub fn detach(&mut self, fd: c_int, fd_type: usize, prio: usize) -> bool {
        let queue = &mut self.queues[prio];
        match queue.iter().position(|e| e.is(fd, fd_type)) {
            Some(i) => {
                queue.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Detaches the pair at every priority; false if it was attached at none.
    pub fn detach_everywhere(&mut self, fd: c_int, fd_type: usize) -> bool {
        let mut found = false;
        for prio in 0..NUM_PRIORITY {
            found |= self.detach(fd, fd_type, prio);
        }
        found
    }

    /// Sets the flag at every priority the pair is attached at; false if it
    /// is attached nowhere.
    pub fn set_active(&mut self, fd: c_int, fd_type: usize, active: bool) -> bool {
        let mut found = false;
        for e in self
            .queues
            .iter_mut()
            .flatten()
            .filter(|e| e.is(fd, fd_type))
        {
            e.active = active;
            found = true;
        }
        found
    }

    pub fn num_active(&self, prio: usize) -> usize {
        self.queues[prio].iter().filter(|e| e.active).count()
    }

    pub fn threshold(&self) -> usize {
        self.threshold
    }

    pub fn set_threshold(&mut self, prio: usize) {
        self.threshold = prio;
    }

    /// The entry now in slot `index` of `prio`; the loop re-reads slots one
    /// at a time because callbacks may reshape the queue between them.
    pub fn slot(&self, prio: usize, index: usize) -> Option<FdEvent> {
        self.queues[prio].get(index).copied()
    }

    /// The pairs the loop waits on: active ones at or above the threshold.
    pub fn interest(&self) -> impl Iterator<Item = (c_int, usize)> + '_ {
        self.queues[self.threshold..]
            .iter()
            .flatten()
            .filter(|e| e.active)
            .map(|e| (e.fd, e.fd_type))
    }

    /// The one LOW descriptor to serve this pass: the first ready one from
    /// the round-robin position on, which then moves past it.
    pub fn pick_low(&mut self, is_ready: impl Fn(c_int, usize) -> bool) -> Option<FdEvent> {
        if self.threshold != LOW_PRIORITY {
            return None;
        }
        let queue = &self.queues[LOW_PRIORITY];
        let n = queue.len();
        let start = self.round_robin;
        let j = (0..n)
            .map(|i| (i + start) % n)
            .find(|&j| queue[j].active && is_ready(queue[j].fd, queue[j].fd_type))?;
        self.round_robin = (j + 1) % n;
        Some(queue[j])
    }
}

/// 0 when added, 1 when the pair was already attached at `priority` and got
/// the new callback, code and data (and is active again); -1 for a bad
/// priority, fd_type, negative fd or NULL func, or when `priority` already
/// holds MAX_FD_EVENTS descriptors.
#[no_mangle]
pub extern "C" fn E_attach_fd(
    fd: c_int,
    fd_type: c_int,
    func: FdFn,
    code: c_int,
    data: *mut c_void,
    priority: c_int,
) -> c_int {
    guard(-1, || {
        let Some(prio) = self::priority(priority) else {
            return -1;
        };
        let Some(fd_type) = self::fd_type(fd_type) else {
            return -1;
        };
        // poll(2) takes any descriptor, so there is no FD_SETSIZE bound.
        if fd < 0 {
            return -1;
        }
        let Some(func) = func else { return -1 };
        let ev = FdEvent {
            fd,
            fd_type,
            func,
            code,
            data: UserData(data),
            active: true,
        };
        match with_state(|s| s.fds.attach(ev, prio)) {
            Attached::Added => 0,
            Attached::Replaced => 1,
            Attached::Full => -1,
        }
    })
}

/// Detaches the pair from every priority: 0 if it was attached at any,
/// -1 if at none or for a bad fd_type.
#[no_mangle]
pub extern "C" fn E_detach_fd(fd: c_int, fd_type: c_int) -> c_int {
    guard(-1, || {
        let Some(fd_type) = self::fd_type(fd_type) else {
            return -1;
        };
        if with_state(|s| s.fds.detach_everywhere(fd, fd_type)) {
            0
        } else {
            -1
        }
    })
}

/// 0 if the pair was attached at `priority` and is now detached; -1 if it
/// was not, or for a bad fd_type or priority.
#[no_mangle]
pub extern "C" fn E_detach_fd_priority(fd: c_int, fd_type: c_int, priority: c_int) -> c_int {
    guard(-1, || {
        let Some(fd_type) = self::fd_type(fd_type) else {
            return -1;
        };
        let Some(prio) = self::priority(priority) else {
            return -1;
        };
        if with_state(|s| s.fds.detach(fd, fd_type, prio)) {
            0
        } else {
            -1
        }
    })
}

/// `priority` on success, -1 for a bad one.
#[no_mangle]
pub extern "C" fn E_set_active_threshold(priority: c_int) -> c_int {
    guard(-1, || match self::priority(priority) {
        Some(prio) => {
            with_state(|s| s.fds.set_threshold(prio));
            priority
        }
        None => -1,
    })
}

fn set_active(fd: c_int, fd_type: c_int, active: bool) -> c_int {
    guard(-1, || {
        let Some(fd_type) = self::fd_type(fd_type) else {
            return -1;
        };
        if with_state(|s| s.fds.set_active(fd, fd_type, active)) {
            0
        } else {
            -1
        }
    })
}

/// 0 if the pair is attached at some priority (it is now active at all of
/// them), -1 if it is attached nowhere or for a bad fd_type.
#[no_mangle]
pub extern "C" fn E_activate_fd(fd: c_int, fd_type: c_int) -> c_int {
    set_active(fd, fd_type, true)
}

/// As E_activate_fd, making the pair inactive.
#[no_mangle]
pub extern "C" fn E_deactivate_fd(fd: c_int, fd_type: c_int) -> c_int {
    set_active(fd, fd_type, false)
}

/// The number of active descriptors at `priority`, or -1 for a bad one.
#[no_mangle]
pub extern "C" fn E_num_active(priority: c_int) -> c_int {
    guard(-1, || match self::priority(priority) {
        // At most MAX_FD_EVENTS, so it fits.
        Some(prio) => with_state(|s| s.fds.num_active(prio)) as c_int,
        None => -1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{test_lock, E_init};
    use std::ptr::null_mut;

    extern "C" fn cb_a(_fd: c_int, _code: c_int, _data: *mut c_void) {}
    extern "C" fn cb_b(_fd: c_int, _code: c_int, _data: *mut c_void) {}

    const R: c_int = READ_FD as c_int;
    const W: c_int = WRITE_FD as c_int;
    const X: c_int = EXCEPT_FD as c_int;
    const LOW: c_int = LOW_PRIORITY as c_int;
    const MED: c_int = MEDIUM_PRIORITY as c_int;
    const HIGH: c_int = HIGH_PRIORITY as c_int;

    fn fds_at(prio: usize) -> Vec<c_int> {
        with_state(|s| s.fds.queues[prio].iter().map(|e| e.fd).collect())
    }

    #[test]
    fn attach_validates_and_replaces() {
        let _l = test_lock();
        E_init();
        assert_eq!(E_attach_fd(5, R, Some(cb_a), 0, null_mut(), -1), -1);
        assert_eq!(E_attach_fd(5, R, Some(cb_a), 0, null_mut(), 3), -1);
        assert_eq!(E_attach_fd(5, -1, Some(cb_a), 0, null_mut(), LOW), -1);
        assert_eq!(E_attach_fd(5, 3, Some(cb_a), 0, null_mut(), LOW), -1);
        assert_eq!(E_attach_fd(-1, R, Some(cb_a), 0, null_mut(), LOW), -1);
        assert_eq!(E_attach_fd(5, R, None, 0, null_mut(), LOW), -1);
        assert_eq!(E_num_active(LOW), 0);

        // Beyond FD_SETSIZE is fine with poll(2).
        assert_eq!(E_attach_fd(70_000, R, Some(cb_a), 0, null_mut(), LOW), 0);
        assert_eq!(E_attach_fd(5, R, Some(cb_a), 7, null_mut(), LOW), 0);
        assert_eq!(E_attach_fd(5, W, Some(cb_a), 7, null_mut(), LOW), 0);
        assert_eq!(E_attach_fd(5, R, Some(cb_a), 7, null_mut(), HIGH), 0);
        assert_eq!(E_num_active(LOW), 3);

        let mut x = 0u8;
        let px: *mut c_void = (&mut x as *mut u8).cast();
        assert_eq!(E_attach_fd(5, R, Some(cb_b), 9, px, LOW), 1);
        assert_eq!(E_num_active(LOW), 3);
        let ev = with_state(|s| s.fds.slot(LOW_PRIORITY, 1)).unwrap();
        assert_eq!(
            (ev.fd, ev.fd_type, ev.code, ev.data),
            (5, READ_FD, 9, UserData(px))
        );
        assert_eq!(ev.func as usize, cb_b as FdCallback as usize);
        // The HIGH attachment of the same pair is a separate entry.
        let high = with_state(|s| s.fds.slot(HIGH_PRIORITY, 0)).unwrap();
        assert_eq!(
            (high.code, high.func as usize),
            (7, cb_a as FdCallback as usize)
        );
    }

    #[test]
    fn detach_everywhere_or_at_one_priority() {
        let _l = test_lock();
        E_init();
        for prio in [LOW, MED, HIGH] {
            assert_eq!(E_attach_fd(4, R, Some(cb_a), 0, null_mut(), prio), 0);
        }
        assert_eq!(E_attach_fd(4, W, Some(cb_a), 0, null_mut(), LOW), 0);

        assert_eq!(E_detach_fd_priority(4, R, MED), 0);
        assert_eq!(E_detach_fd_priority(4, R, MED), -1);
        assert_eq!(E_detach_fd_priority(4, R, 3), -1);
        assert_eq!(E_detach_fd_priority(4, 7, LOW), -1);
        assert_eq!(
            (E_num_active(LOW), E_num_active(MED), E_num_active(HIGH)),
            (2, 0, 1)
        );

        assert_eq!(E_detach_fd(4, R), 0);
        assert_eq!((E_num_active(LOW), E_num_active(HIGH)), (1, 0));
        assert_eq!(E_detach_fd(4, R), -1);
        assert_eq!(E_detach_fd(4, X), -1);
        assert_eq!(E_detach_fd(4, -2), -1);
        assert_eq!(E_detach_fd(4, W), 0);
        assert_eq!(E_num_active(LOW), 0);
    }

    #[test]
    fn detach_moves_the_last_entry_into_the_hole() {
        let _l = test_lock();
        E_init();
        for fd in 10..15 {
            E_attach_fd(fd, R, Some(cb_a), 0, null_mut(), MED);
        }
        assert_eq!(E_detach_fd(11, R), 0);
        assert_eq!(fds_at(MEDIUM_PRIORITY), vec![10, 14, 12, 13]);
        assert_eq!(E_detach_fd(13, R), 0);
        assert_eq!(fds_at(MEDIUM_PRIORITY), vec![10, 14, 12]);
    }

    #[test]
    fn activation_bookkeeping() {
        let _l = test_lock();
        E_init();
        E_attach_fd(3, R, Some(cb_a), 0, null_mut(), LOW);
        E_attach_fd(3, R, Some(cb_a), 0, null_mut(), HIGH);
        E_attach_fd(6, X, Some(cb_a), 0, null_mut(), HIGH);
        assert_eq!((E_num_active(LOW), E_num_active(HIGH)), (1, 2));

        assert_eq!(E_deactivate_fd(3, R), 0);
        assert_eq!((E_num_active(LOW), E_num_active(HIGH)), (0, 1));
        assert_eq!(
            E_deactivate_fd(3, R),
            0,
            "already inactive still counts as found"
        );
        assert_eq!((E_num_active(LOW), E_num_active(HIGH)), (0, 1));
        assert_eq!(E_deactivate_fd(3, W), -1);
        assert_eq!(E_deactivate_fd(3, 9), -1);
        assert_eq!(E_activate_fd(99, R), -1);
        assert_eq!(E_activate_fd(3, -1), -1);

        // Inactive pairs are not waited on.
        let waited = with_state(|s| s.fds.interest().collect::<Vec<_>>());
        assert_eq!(waited, vec![(6, EXCEPT_FD)]);

        assert_eq!(E_activate_fd(3, R), 0);
        assert_eq!((E_num_active(LOW), E_num_active(HIGH)), (1, 2));

        // Attaching again re-activates.
        E_deactivate_fd(6, X);
        assert_eq!(E_num_active(HIGH), 1);
        assert_eq!(E_attach_fd(6, X, Some(cb_a), 0, null_mut(), HIGH), 1);
        assert_eq!(E_num_active(HIGH), 2);

        assert_eq!(E_num_active(-1), -1);
        assert_eq!(E_num_active(3), -1);
        assert_eq!(E_num_active(MED), 0);
    }

    #[test]
    fn threshold_limits_what_is_waited_on() {
        let _l = test_lock();
        E_init();
        E_attach_fd(1, R, Some(cb_a), 0, null_mut(), LOW);
        E_attach_fd(2, R, Some(cb_a), 0, null_mut(), MED);
        E_attach_fd(3, W, Some(cb_a), 0, null_mut(), HIGH);
        let waited = || with_state(|s| s.fds.interest().map(|(fd, _)| fd).collect::<Vec<_>>());
        assert_eq!(waited(), vec![1, 2, 3]);

        assert_eq!(E_set_active_threshold(MED), MED);
        assert_eq!(E_set_active_threshold(MED), MED);
        assert_eq!(waited(), vec![2, 3]);
        assert_eq!(E_set_active_threshold(HIGH), HIGH);
        assert_eq!(waited(), vec![3]);
        assert_eq!(E_set_active_threshold(3), -1);
        assert_eq!(E_set_active_threshold(-1), -1);
        assert_eq!(waited(), vec![3]);
        // Bookkeeping is independent of the threshold.
        assert_eq!(E_num_active(LOW), 1);
        assert_eq!(E_set_active_threshold(LOW), LOW);
        assert_eq!(waited(), vec![1, 2, 3]);

        // E_init puts the threshold back to LOW.
        E_set_active_threshold(HIGH);
        E_init();
        assert_eq!(with_state(|s| s.fds.threshold()), LOW_PRIORITY);
    }

    #[test]
    fn at_most_max_fd_events_per_priority() {
        let _l = test_lock();
        E_init();
        for fd in 0..MAX_FD_EVENTS as c_int {
            assert_eq!(E_attach_fd(fd, R, Some(cb_a), 0, null_mut(), MED), 0);
        }
        assert_eq!(E_attach_fd(5000, R, Some(cb_a), 0, null_mut(), MED), -1);
        assert_eq!(E_attach_fd(0, W, Some(cb_a), 0, null_mut(), MED), -1);
        // Replacing needs no room; other priorities have their own room.
        assert_eq!(E_attach_fd(7, R, Some(cb_b), 1, null_mut(), MED), 1);
        assert_eq!(E_attach_fd(5000, R, Some(cb_a), 0, null_mut(), HIGH), 0);
        assert_eq!(E_num_active(MED), MAX_FD_EVENTS as c_int);
        E_detach_fd(3, R);
        assert_eq!(E_attach_fd(5000, R, Some(cb_a), 0, null_mut(), MED), 0);
        E_init();
        assert_eq!(E_num_active(MED), 0);
    }

    #[test]
    fn low_priority_round_robin() {
        let mut t = FdTable::new();
        let ev = |fd| FdEvent {
            fd,
            fd_type: READ_FD,
            func: cb_a,
            code: 0,
            data: UserData(null_mut()),
            active: true,
        };
        for fd in [10, 11, 12, 13] {
            t.attach(ev(fd), LOW_PRIORITY);
        }
        let all = |_: c_int, _: usize| true;
        let picks: Vec<c_int> = (0..6).map(|_| t.pick_low(all).unwrap().fd).collect();
        assert_eq!(picks, vec![10, 11, 12, 13, 10, 11]);

        let odd = |fd: c_int, _: usize| fd % 2 == 1;
        let picks: Vec<c_int> = (0..3).map(|_| t.pick_low(odd).unwrap().fd).collect();
        assert_eq!(picks, vec![13, 11, 13]);
        assert!(t.pick_low(|_, _| false).is_none());

        t.set_active(11, READ_FD, false);
        let picks: Vec<c_int> = (0..3).map(|_| t.pick_low(all).unwrap().fd).collect();
        assert_eq!(picks, vec![10, 12, 13]);

        t.set_threshold(MEDIUM_PRIORITY);
        assert!(t.pick_low(all).is_none());
    }
}
