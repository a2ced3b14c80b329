//! Replay protection for sealed datagrams. A daemon's datagrams form one
//! stream per run (its epoch and salt), numbered from 0; a receiver keeps,
//! per sender, the stream it hears and which of its last 1,024 numbers came.
//! A newer epoch is the sender restarted; an older one is refused unless
//! the stream heard has been silent long enough that its sender may have
//! restarted with its clock set back. A monitor's requests carry their
//! time; they are taken within a minute of the receiver's clock and each
//! only once.

use std::collections::{HashMap, VecDeque};

/// Numbers remembered below the highest seen.
const WINDOW: u64 = 1024;
/// A stream silent this long may be replaced by an older epoch.
pub const SILENT_US: u64 = 30_000_000;
/// How far a monitor's clock may be from ours.
pub const MONITOR_SKEW_US: u64 = 60_000_000;
/// Senders (daemons) and monitor requests remembered at most.
const MAX_SENDERS: usize = 4096;
const MAX_MONITOR_REQUESTS: usize = 4096;

/// Where a datagram stands in its sender's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Fresh,
    /// Its number came before (or fell behind the window).
    Replayed,
    /// An older run of the sender than the one heard.
    Stale,
    /// A monitor request outside the time it may be taken in, or more
    /// requests than can be remembered.
    Untimely,
}

/// A stream: one run of a sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamId {
    pub sender: u32,
    pub epoch: u64,
    pub salt: u32,
}

#[derive(Clone, Debug)]
struct Window {
    /// Whether any number came yet.
    any: bool,
    top: u64,
    /// Bit i: number `top - i` came.
    seen: [u64; (WINDOW / 64) as usize],
}

impl Window {
    fn new() -> Window {
        Window {
            any: false,
            top: 0,
            seen: [0; (WINDOW / 64) as usize],
        }
    }

    fn bit(&self, back: u64) -> bool {
        self.seen[(back / 64) as usize] & (1 << (back % 64)) != 0
    }

    fn fresh(&self, n: u64) -> bool {
        !self.any || n > self.top || (self.top - n < WINDOW && !self.bit(self.top - n))
    }

    fn mark(&mut self, n: u64) {
        if !self.any {
            self.any = true;
            self.top = n;
        } else if n > self.top {
            self.shift(n - self.top);
            self.top = n;
        }
        let back = self.top - n;
        if back < WINDOW {
            self.seen[(back / 64) as usize] |= 1 << (back % 64);
        }
    }

    /// Moves the window up by `by` numbers.
    fn shift(&mut self, by: u64) {
        if by >= WINDOW {
            self.seen = [0; (WINDOW / 64) as usize];
            return;
        }
        let (words, bits) = ((by / 64) as usize, by % 64);
        let len = self.seen.len();
        for i in (0..len).rev() {
            let lo = i.checked_sub(words).map_or(0, |j| self.seen[j]);
            let below = i.checked_sub(words + 1).map_or(0, |j| self.seen[j]);
            self.seen[i] = if bits == 0 {
                lo
            } else {
                lo << bits | below >> (64 - bits)
            };
        }
    }
}

#[derive(Clone, Debug)]
struct Heard {
    epoch: u64,
    salt: u32,
    window: Window,
    at_us: u64,
}

/// What a receiver remembers of the streams it takes.
#[derive(Debug, Default)]
pub struct Replay {
    daemons: HashMap<u32, Heard>,
    monitor_seen: HashMap<(StreamId, u64), u64>,
    monitor_order: VecDeque<((StreamId, u64), u64)>,
}

impl Replay {
    /// Whether number `n` of a daemon's stream may be taken at `now_us`
    /// (monotonic). Nothing is remembered until [`Replay::take_daemon`].
    pub fn check_daemon(&self, s: StreamId, n: u64, now_us: u64) -> Verdict {
        let Some(h) = self.daemons.get(&s.sender) else {
            return Verdict::Fresh;
        };
        if (h.epoch, h.salt) == (s.epoch, s.salt) {
            return if h.window.fresh(n) {
                Verdict::Fresh
            } else {
                Verdict::Replayed
            };
        }
        if s.epoch > h.epoch || now_us.saturating_sub(h.at_us) >= SILENT_US {
            Verdict::Fresh
        } else {
            Verdict::Stale
        }
    }

    /// Remembers a daemon's datagram that was checked fresh and opened.
    pub fn take_daemon(&mut self, s: StreamId, n: u64, now_us: u64) {
        if !self.daemons.contains_key(&s.sender) && self.daemons.len() >= MAX_SENDERS {
            // Only key holders get here; forgetting the longest silent is
            // the least harm.
            if let Some(old) = self
                .daemons
                .iter()
                .min_by_key(|(_, h)| h.at_us)
                .map(|(k, _)| *k)
            {
                self.daemons.remove(&old);
            }
        }
        let h = self.daemons.entry(s.sender).or_insert_with(|| Heard {
            epoch: s.epoch,
            salt: s.salt,
            window: Window::new(),
            at_us: now_us,
        });
        if (h.epoch, h.salt) != (s.epoch, s.salt) {
            *h = Heard {
                epoch: s.epoch,
                salt: s.salt,
                window: Window::new(),
                at_us: now_us,
            };
        }
        h.window.mark(n);
        h.at_us = now_us;
    }

    /// Whether a monitor's request may be taken at `wall_us` (since the
    /// Unix epoch): its epoch is the time it was sent.
    pub fn check_monitor(&mut self, s: StreamId, n: u64, wall_us: u64) -> Verdict {
        self.expire_monitor(wall_us);
        if s.epoch.abs_diff(wall_us) > MONITOR_SKEW_US {
            return Verdict::Untimely;
        }
        if self.monitor_seen.contains_key(&(s, n)) {
            return Verdict::Replayed;
        }
        if self.monitor_seen.len() >= MAX_MONITOR_REQUESTS {
            return Verdict::Untimely;
        }
        Verdict::Fresh
    }

    /// Remembers a monitor request that was checked fresh and opened, for
    /// as long as it could be taken.
    pub fn take_monitor(&mut self, s: StreamId, n: u64) {
        let until = s.epoch + MONITOR_SKEW_US;
        if self.monitor_seen.insert((s, n), until).is_none() {
            self.monitor_order.push_back(((s, n), until));
        }
    }

    fn expire_monitor(&mut self, wall_us: u64) {
        while let Some(&(k, until)) = self.monitor_order.front() {
            // Requests are kept in arrival order, and taken only within
            // the skew: what is still there past twice the skew is done.
            if until + MONITOR_SKEW_US > wall_us && self.monitor_order.len() <= MAX_MONITOR_REQUESTS
            {
                break;
            }
            self.monitor_order.pop_front();
            self.monitor_seen.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(epoch: u64) -> StreamId {
        StreamId {
            sender: 7,
            epoch,
            salt: 1,
        }
    }

    fn take(r: &mut Replay, s: StreamId, n: u64, now: u64) -> Verdict {
        let v = r.check_daemon(s, n, now);
        if v == Verdict::Fresh {
            r.take_daemon(s, n, now);
        }
        v
    }

    #[test]
    fn each_number_is_taken_once_within_the_window() {
        let mut r = Replay::default();
        let s = stream(100);
        assert_eq!(take(&mut r, s, 0, 0), Verdict::Fresh);
        assert_eq!(take(&mut r, s, 0, 0), Verdict::Replayed);
        assert_eq!(take(&mut r, s, 5, 0), Verdict::Fresh);
        // Late but not yet taken: reordering is fine.
        for n in [3, 1, 4, 2] {
            assert_eq!(take(&mut r, s, n, 0), Verdict::Fresh, "{n}");
        }
        for n in 0..=5 {
            assert_eq!(take(&mut r, s, n, 0), Verdict::Replayed, "{n}");
        }
        // Far ahead: the window moves; what fell out of it is refused.
        assert_eq!(take(&mut r, s, 5000, 0), Verdict::Fresh);
        assert_eq!(take(&mut r, s, 5000 - WINDOW + 1, 0), Verdict::Fresh);
        assert_eq!(take(&mut r, s, 5000 - WINDOW, 0), Verdict::Replayed);
        assert_eq!(take(&mut r, s, 5, 0), Verdict::Replayed);
    }

    #[test]
    fn window_shifts_keep_every_bit() {
        // Marks a pseudo-random set and checks it against a plain set.
        let mut r = Replay::default();
        let s = stream(1);
        let mut taken = std::collections::HashSet::new();
        let mut x = 12345u64;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let top = r.daemons.get(&7).map_or(0, |h| h.window.top);
            let n = (top + (x >> 33) % 200).saturating_sub(150);
            let want = if taken.contains(&n) || (top >= WINDOW && n <= top - WINDOW) {
                Verdict::Replayed
            } else {
                Verdict::Fresh
            };
            assert_eq!(take(&mut r, s, n, 0), want, "{n} top {top}");
            taken.insert(n);
        }
    }

    #[test]
    fn a_restart_is_a_newer_epoch_and_old_runs_are_refused() {
        let mut r = Replay::default();
        assert_eq!(take(&mut r, stream(100), 9, 0), Verdict::Fresh);
        assert_eq!(take(&mut r, stream(200), 0, 1), Verdict::Fresh);
        assert_eq!(take(&mut r, stream(100), 10, 2), Verdict::Stale);
        // Same epoch, another salt: a second run that started in the same
        // microsecond is as doubtful as an older one.
        let twin = StreamId {
            salt: 2,
            ..stream(200)
        };
        assert_eq!(take(&mut r, twin, 0, 3), Verdict::Stale);
        // After a silence an older epoch is taken (a clock set back).
        assert_eq!(take(&mut r, stream(50), 0, 1 + SILENT_US), Verdict::Fresh);
        assert_eq!(take(&mut r, stream(200), 1, 2 + SILENT_US), Verdict::Fresh);
    }

    #[test]
    fn monitor_requests_are_taken_once_and_only_in_time() {
        let mut r = Replay::default();
        let now = 1_000_000_000_000;
        let s = stream(now - 1_000_000);
        assert_eq!(r.check_monitor(s, 0, now), Verdict::Fresh);
        r.take_monitor(s, 0);
        assert_eq!(r.check_monitor(s, 0, now), Verdict::Replayed);
        assert_eq!(r.check_monitor(s, 1, now), Verdict::Fresh);
        let old = stream(now - MONITOR_SKEW_US - 1);
        assert_eq!(r.check_monitor(old, 0, now), Verdict::Untimely);
        let ahead = stream(now + MONITOR_SKEW_US + 1);
        assert_eq!(r.check_monitor(ahead, 0, now), Verdict::Untimely);
        // Later the request is forgotten, and refused by its time.
        let later = now + 3 * MONITOR_SKEW_US;
        assert_eq!(r.check_monitor(s, 0, later), Verdict::Untimely);
        assert!(r.monitor_seen.is_empty());
    }
}
