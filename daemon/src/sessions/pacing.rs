//! Local senders wait for local readers. While a session is behind (half of
//! MaxSessionMessages or MaxSessionBytes waits for its writer), the daemon
//! stops reading from the local sessions whose messages are queued for it:
//! their sockets fill and they block, as over TCP, until it has caught up
//! (a quarter of the limits). A reader that keeps reading is thus never cut
//! off by senders of its own daemon. One that takes nothing at all for
//! [`STALL`] while behind is no longer waited for: its senders go on, and
//! MaxSessionMessages or MaxSessionBytes cut it off as before, so that a
//! client that stopped reading cannot stop its senders for good.

use super::backlog::{Backlog, QueueLimits};
use crate::engine::SessionId;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long a reader that is behind may take nothing before its senders
/// stop waiting for it.
pub const STALL: Duration = Duration::from_secs(2);

/// Where a reader that made no progress was.
#[derive(Clone, Copy, Debug)]
struct Progress {
    taken: u64,
    since: Instant,
}

#[derive(Debug)]
pub struct Pacing {
    limits: QueueLimits,
    /// Readers behind, and when they last took a frame.
    behind: HashMap<SessionId, Progress>,
    /// Senders not read from, and the readers they wait for.
    paused: HashMap<SessionId, HashSet<SessionId>>,
    /// Readers that stalled: nobody waits for them until they catch up.
    stalled: HashSet<SessionId>,
}

/// Whether a sender waits for a reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// It waits from now on: stop reading from it.
    Started,
    /// It was already waiting.
    Already,
    /// It does not wait: the reader is itself, or stalled.
    No,
}

/// What [`Pacing::review`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Review {
    /// Senders to read from again.
    pub resume: Vec<SessionId>,
    /// Readers that took nothing for [`STALL`] while behind: their senders
    /// no longer wait for them.
    pub stalled: Vec<SessionId>,
}

impl Pacing {
    pub fn new(limits: QueueLimits) -> Pacing {
        Pacing {
            limits,
            behind: HashMap::new(),
            paused: HashMap::new(),
            stalled: HashSet::new(),
        }
    }

    /// Whether `b` has so much waiting that its senders should wait.
    pub fn is_behind(&self, b: &Backlog) -> bool {
        b.messages() >= (self.limits.messages / 2).max(1) || b.bytes() >= self.limits.bytes / 2
    }

    /// A frame of `sender` (a local session) is for `reader`, which is
    /// behind: the sender waits, unless the reader stalled.
    pub fn hold(
        &mut self,
        reader: SessionId,
        reader_backlog: &Backlog,
        sender: SessionId,
        now: Instant,
    ) -> Hold {
        if sender == reader || self.stalled.contains(&reader) {
            return Hold::No;
        }
        self.behind.entry(reader).or_insert_with(|| {
            reader_backlog.wake_below(self.limits.messages / 4 + 1);
            Progress {
                taken: reader_backlog.taken_so_far(),
                since: now,
            }
        });
        let waits_for = self.paused.entry(sender).or_default();
        let new = waits_for.is_empty();
        waits_for.insert(reader);
        if new {
            Hold::Started
        } else {
            Hold::Already
        }
    }

    /// Readers that caught up (or are gone: `backlog_of` gives None) let
    /// their senders go, and so do readers without progress for [`STALL`]
    /// (named in the review).
    pub fn review<'a>(
        &mut self,
        backlog_of: impl Fn(SessionId) -> Option<&'a Backlog>,
        now: Instant,
    ) -> Review {
        let mut review = Review::default();
        let mut done = Vec::new();
        let limits = self.limits;
        let caught_up =
            |b: &Backlog| b.messages() <= limits.messages / 4 && b.bytes() <= limits.bytes / 4;
        for (&reader, progress) in &mut self.behind {
            let Some(b) = backlog_of(reader) else {
                done.push(reader);
                continue;
            };
            let taken = b.taken_so_far();
            if taken != progress.taken {
                *progress = Progress { taken, since: now };
            }
            if caught_up(b) {
                done.push(reader);
            } else if now.saturating_duration_since(progress.since) >= STALL {
                review.stalled.push(reader);
                done.push(reader);
            } else {
                // Not caught up yet: be told when it is.
                b.wake_below(limits.messages / 4 + 1);
            }
        }
        self.stalled
            .retain(|&r| backlog_of(r).is_some_and(|b| !caught_up(b)));
        self.stalled.extend(review.stalled.iter().copied());
        for reader in done {
            self.behind.remove(&reader);
            self.paused.retain(|&sender, waits_for| {
                waits_for.remove(&reader);
                if waits_for.is_empty() {
                    review.resume.push(sender);
                    return false;
                }
                true
            });
        }
        review.resume.sort();
        review.stalled.sort();
        review
    }

    /// Whether any reader is behind or stalled (the core then reviews
    /// periodically).
    pub fn active(&self) -> bool {
        !self.behind.is_empty() || !self.stalled.is_empty()
    }

    /// A session is gone: as a sender it waits for nothing any more.
    pub fn forget_sender(&mut self, id: SessionId) {
        self.paused.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::backlog::Backlogs;

    fn limits() -> QueueLimits {
        QueueLimits {
            messages: 8,
            bytes: 1 << 20,
            total_bytes: 1 << 30,
        }
    }

    #[test]
    fn senders_wait_until_their_readers_catch_up() {
        let all = Backlogs::default();
        let (r1, r2) = (all.session(), all.session());
        let mut p = Pacing::new(limits());
        let t0 = Instant::now();
        for _ in 0..4 {
            r1.push(10);
            r2.push(10);
        }
        assert!(p.is_behind(&r1));
        let (reader1, reader2, sender) = (SessionId(1), SessionId(2), SessionId(3));
        assert_eq!(p.hold(reader1, &r1, sender, t0), Hold::Started);
        assert_eq!(p.hold(reader2, &r2, sender, t0), Hold::Already);
        assert_eq!(p.hold(reader1, &r1, reader1, t0), Hold::No, "itself");
        let of = |id: SessionId| match id.0 {
            1 => Some(&r1),
            2 => Some(&r2),
            _ => None,
        };
        assert_eq!(p.review(of, t0), Review::default());
        for _ in 0..2 {
            r1.taken(10);
        }
        assert_eq!(
            p.review(of, t0),
            Review::default(),
            "reader 2 is still behind"
        );
        for _ in 0..2 {
            r2.taken(10);
        }
        let r = p.review(of, t0);
        assert_eq!(r.resume, vec![sender]);
        assert!(!p.active());
    }

    #[test]
    fn a_reader_that_takes_nothing_is_named_after_the_stall_time() {
        let all = Backlogs::default();
        let r = all.session();
        let mut p = Pacing::new(limits());
        let t0 = Instant::now();
        for _ in 0..6 {
            r.push(10);
        }
        assert_eq!(p.hold(SessionId(1), &r, SessionId(2), t0), Hold::Started);
        let of = |_| Some(&r);
        assert!(p.review(of, t0 + STALL / 2).stalled.is_empty());
        r.taken(10);
        assert!(
            p.review(of, t0 + STALL).stalled.is_empty(),
            "progress restarts the clock"
        );
        let r2 = p.review(of, t0 + STALL + STALL);
        assert_eq!(r2.stalled, vec![SessionId(1)]);
        assert_eq!(r2.resume, vec![SessionId(2)], "its sender goes on");
        assert_eq!(
            p.hold(SessionId(1), &r, SessionId(2), t0),
            Hold::No,
            "nobody waits for a stalled reader"
        );
        // Once it caught up it is waited for again.
        for _ in 0..5 {
            r.taken(10);
        }
        p.review(of, t0 + STALL * 3);
        assert!(!p.active());
        for _ in 0..6 {
            r.push(10);
        }
        assert_eq!(p.hold(SessionId(1), &r, SessionId(2), t0), Hold::Started);
    }
}
