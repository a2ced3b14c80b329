//! One pass's wait on the descriptors: which (fd, fd_type) pairs are ready,
//! with select(2)'s meaning of ready but poll(2)'s freedom from FD_SETSIZE.

use super::fds::{FdTable, EXCEPT_FD, READ_FD, WRITE_FD};
use super::wake;
use libc::{c_int, c_short, pollfd};
use std::collections::BTreeMap;

const READ: u8 = 1 << READ_FD;
const WRITE: u8 = 1 << WRITE_FD;
const EXCEPT: u8 = 1 << EXCEPT_FD;

/// What poll is asked to watch for a set of fd types.
fn events_for(types: u8) -> c_short {
    let mut ev = 0;
    if types & READ != 0 {
        ev |= libc::POLLIN;
    }
    if types & WRITE != 0 {
        ev |= libc::POLLOUT;
    }
    if types & EXCEPT != 0 {
        ev |= libc::POLLPRI;
    }
    ev
}

/// The fd types among `wanted` that `revents` makes ready, mapped as
/// Linux's select does (hang-up and error count as readable, error as
/// writable). A closed descriptor, which select would fail on as a whole,
/// counts as ready for everything wanted so its owner hears about it.
fn ready_types(revents: c_short, wanted: u8) -> u8 {
    if revents & libc::POLLNVAL != 0 {
        return wanted;
    }
    let mut ready = 0;
    if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
        ready |= READ;
    }
    if revents & (libc::POLLOUT | libc::POLLERR) != 0 {
        ready |= WRITE;
    }
    if revents & libc::POLLPRI != 0 {
        ready |= EXCEPT;
    }
    ready & wanted
}

pub(crate) struct PollSet {
    /// Sorted by fd, one per descriptor, then the wake-up pipe if any.
    pfds: Vec<pollfd>,
    /// The descriptor of each of the first `fds.len()` pfds (kept apart
    /// because a muted pollfd's own fd is -1).
    fds: Vec<c_int>,
    wanted: Vec<u8>,
    ready: Vec<u8>,
}

impl PollSet {
    /// The pairs the table wants waited on, plus the wake-up pipe.
    pub fn new(table: &FdTable, wake_fd: Option<c_int>) -> Self {
        let mut by_fd: BTreeMap<c_int, u8> = BTreeMap::new();
        for (fd, fd_type) in table.interest() {
            *by_fd.entry(fd).or_default() |= 1 << fd_type;
        }
        let mut set = PollSet {
            pfds: Vec::with_capacity(by_fd.len() + 1),
            fds: Vec::with_capacity(by_fd.len()),
            wanted: Vec::with_capacity(by_fd.len()),
            ready: vec![0; by_fd.len()],
        };
        for (fd, types) in by_fd {
            set.pfds.push(pollfd {
                fd,
                events: events_for(types),
                revents: 0,
            });
            set.fds.push(fd);
            set.wanted.push(types);
        }
        if let Some(fd) = wake_fd {
            set.pfds.push(pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        set
    }

    /// Waits up to `timeout_us` (0: just look) and returns the number of
    /// ready pairs, or -1 when poll failed (EINTR included): as in 5.0.1
    /// such a pass handles no descriptor, and the loop's next pass polls
    /// again after checking for an exit request and due timers.
    pub fn poll(&mut self, timeout_us: i64) -> i64 {
        for p in &mut self.pfds {
            p.revents = 0;
        }
        self.ready.fill(0);
        if sys_poll(&mut self.pfds, timeout_us) < 0 {
            return -1;
        }
        let mut count = 0;
        for i in 0..self.fds.len() {
            let revents = self.pfds[i].revents;
            if revents == 0 {
                continue;
            }
            let ready = ready_types(revents, self.wanted[i]);
            self.ready[i] = ready;
            count += i64::from(ready.count_ones());
            if ready == 0 {
                // Hang-up or error on a descriptor wanted only for EXCEPT:
                // select would ignore it, but poll reports it every time, so
                // leave it out of this pass's further waiting rather than
                // spin.
                self.pfds[i].fd = -1;
            }
        }
        if self.pfds.len() > self.fds.len() && self.pfds[self.fds.len()].revents != 0 {
            wake::drain();
        }
        count
    }

    pub fn is_ready(&self, fd: c_int, fd_type: usize) -> bool {
        match self.fds.binary_search(&fd) {
            Ok(i) => self.ready[i] & (1 << fd_type) != 0,
            Err(_) => false,
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn sys_poll(pfds: &mut [pollfd], timeout_us: i64) -> c_int {
    // ppoll keeps the microsecond precision timers are kept in.
    let us = timeout_us.max(0);
    let ts = libc::timespec {
        tv_sec: (us / 1_000_000) as libc::time_t,
        tv_nsec: ((us % 1_000_000) * 1000) as libc::c_long,
    };
    // SAFETY: `pfds` is a valid array of its length; `ts` a valid timespec;
    // no signal mask change is asked for.
    unsafe {
        libc::ppoll(
            pfds.as_mut_ptr(),
            pfds.len() as libc::nfds_t,
            &ts,
            std::ptr::null(),
        )
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn sys_poll(pfds: &mut [pollfd], timeout_us: i64) -> c_int {
    // Rounded up: waking before a deadline would only cost an extra pass.
    let ms = (timeout_us.max(0) + 999) / 1000;
    let ms = ms.min(i64::from(c_int::MAX)) as c_int;
    // SAFETY: `pfds` is a valid array of its length.
    unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::fds::{FdEvent, HIGH_PRIORITY, LOW_PRIORITY, MEDIUM_PRIORITY};
    use crate::events::UserData;
    use std::ptr::null_mut;

    extern "C" fn cb(_fd: c_int, _code: c_int, _data: *mut libc::c_void) {}

    fn pipe() -> (c_int, c_int) {
        let mut ends = [-1; 2];
        // SAFETY: `ends` has room for the two descriptors pipe(2) writes.
        assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
        (ends[0], ends[1])
    }

    fn close(fd: c_int) {
        // SAFETY: each test closes only the pipe ends it made, once.
        unsafe { libc::close(fd) };
    }

    fn table(pairs: &[(c_int, usize, usize)]) -> FdTable {
        let mut t = FdTable::new();
        for &(fd, fd_type, prio) in pairs {
            let ev = FdEvent {
                fd,
                fd_type,
                func: cb,
                code: 0,
                data: UserData(null_mut()),
                active: true,
            };
            t.attach(ev, prio);
        }
        t
    }

    #[test]
    fn readiness_of_a_pipe() {
        let (r, w) = pipe();
        let t = table(&[
            (r, READ_FD, LOW_PRIORITY),
            (w, WRITE_FD, HIGH_PRIORITY),
            (r, EXCEPT_FD, MEDIUM_PRIORITY),
        ]);
        let mut set = PollSet::new(&t, None);
        assert_eq!(set.poll(0), 1);
        assert!(set.is_ready(w, WRITE_FD));
        assert!(!set.is_ready(r, READ_FD));
        assert!(!set.is_ready(w, READ_FD));

        // SAFETY: writing one byte from a static buffer to our pipe.
        assert_eq!(unsafe { libc::write(w, b"x".as_ptr().cast(), 1) }, 1);
        assert_eq!(set.poll(0), 2);
        assert!(set.is_ready(r, READ_FD));
        assert!(!set.is_ready(r, EXCEPT_FD));

        // End of file reads as readable, as with select.
        close(w);
        let t = table(&[(r, READ_FD, LOW_PRIORITY)]);
        let mut set = PollSet::new(&t, None);
        let mut buf = [0u8; 4];
        // SAFETY: reading at most 4 bytes into a local 4-byte buffer.
        unsafe { libc::read(r, buf.as_mut_ptr().cast(), 4) };
        assert_eq!(set.poll(0), 1);
        assert!(set.is_ready(r, READ_FD));
        close(r);
    }

    #[test]
    fn hang_up_does_not_spin_an_except_only_wait() {
        let (r, w) = pipe();
        close(w);
        let t = table(&[(r, EXCEPT_FD, LOW_PRIORITY)]);
        let mut set = PollSet::new(&t, None);
        assert_eq!(set.poll(0), 0);
        let start = std::time::Instant::now();
        assert_eq!(set.poll(30_000), 0);
        assert!(start.elapsed() >= std::time::Duration::from_millis(25));
        close(r);
    }

    #[test]
    fn closed_descriptor_is_ready_for_what_was_wanted() {
        // Far above any RLIMIT_NOFILE, so never open, even with other
        // tests opening descriptors meanwhile.
        let r = 900_000;
        let t = table(&[(r, READ_FD, LOW_PRIORITY), (r, WRITE_FD, LOW_PRIORITY)]);
        let mut set = PollSet::new(&t, None);
        assert_eq!(set.poll(0), 2);
        assert!(set.is_ready(r, READ_FD) && set.is_ready(r, WRITE_FD));
    }

    #[test]
    fn timeout_waits() {
        let t = FdTable::new();
        let mut set = PollSet::new(&t, None);
        let start = std::time::Instant::now();
        assert_eq!(set.poll(20_000), 0);
        assert!(start.elapsed() >= std::time::Duration::from_millis(20));
    }
}
