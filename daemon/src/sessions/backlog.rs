//! Output waiting for the sessions' writers, counted in messages and in
//! bytes, for each session and for the daemon as a whole, and the limits
//! on it: a client that stops reading is disconnected before the daemon
//! holds more for it than MaxSessionMessages or MaxSessionBytes allow, and
//! when all sessions together hold more than MaxQueuedBytes the one with
//! the most goes.

use crate::engine::SessionId;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Set in a session's byte count once it is cut off: its bytes no longer
/// count toward the daemon's total (they are being discarded).
const DETACHED: usize = 1 << (usize::BITS - 1);

/// The daemon's total, from which every session's count is made.
#[derive(Clone, Debug, Default)]
pub struct Backlogs {
    total: Arc<AtomicUsize>,
}

impl Backlogs {
    /// A new session's count.
    pub fn session(&self) -> Backlog {
        Backlog {
            mine: Arc::new(Counts::default()),
            total: self.total.clone(),
        }
    }

    /// Bytes queued for all sessions not cut off.
    pub fn bytes(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

#[derive(Debug, Default)]
struct Counts {
    messages: AtomicUsize,
    bytes: AtomicUsize,
}

/// One session's count: the core adds what it queues, the writer takes
/// away what it takes to write (or discards).
#[derive(Clone, Debug)]
pub struct Backlog {
    mine: Arc<Counts>,
    total: Arc<AtomicUsize>,
}

impl Backlog {
    /// A frame of `len` bytes was queued.
    pub fn push(&self, len: usize) {
        self.mine.messages.fetch_add(1, Ordering::AcqRel);
        // The daemon's total first: the writer can take the frame away only
        // after this returns, so the total never drops below the truth.
        let before = self.mine.bytes.load(Ordering::Acquire);
        if before & DETACHED == 0 {
            self.total.fetch_add(len, Ordering::AcqRel);
        }
        self.mine.bytes.fetch_add(len, Ordering::AcqRel);
    }

    /// A frame of `len` bytes left the queue (written or discarded).
    pub fn taken(&self, len: usize) {
        self.mine.messages.fetch_sub(1, Ordering::AcqRel);
        let before = self.mine.bytes.fetch_sub(len, Ordering::AcqRel);
        if before & DETACHED == 0 {
            self.total.fetch_sub(len, Ordering::AcqRel);
        }
    }

    /// The session is cut off and its queue will be discarded: its bytes
    /// leave the daemon's total now, so that nobody else is cut off for
    /// them meanwhile. The writer's later `taken` leave the total alone.
    pub fn detach(&self) {
        let before = self.mine.bytes.fetch_or(DETACHED, Ordering::AcqRel);
        if before & DETACHED == 0 {
            self.total.fetch_sub(before, Ordering::AcqRel);
        }
    }

    pub fn is_detached(&self) -> bool {
        self.mine.bytes.load(Ordering::Acquire) & DETACHED != 0
    }

    pub fn messages(&self) -> usize {
        self.mine.messages.load(Ordering::Acquire)
    }

    pub fn bytes(&self) -> usize {
        self.mine.bytes.load(Ordering::Acquire) & !DETACHED
    }

    /// Bytes queued for all sessions not cut off.
    pub fn total_bytes(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

/// How much may wait for writers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// MaxSessionMessages.
    pub messages: usize,
    /// MaxSessionBytes.
    pub bytes: usize,
    /// MaxQueuedBytes, for all sessions together.
    pub total_bytes: usize,
}

/// The limit a frame would break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    Messages(usize),
    Bytes(usize),
    /// The daemon's: someone must go, the session with the most queued.
    Total(usize),
}

impl fmt::Display for Over {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Over::Messages(n) => write!(f, "{n} messages queued and not read (MaxSessionMessages)"),
            Over::Bytes(n) => write!(f, "more than {n} bytes queued and not read (MaxSessionBytes)"),
            Over::Total(n) => write!(
                f,
                "the most bytes queued and not read when all sessions' exceeded {n} (MaxQueuedBytes)"
            ),
        }
    }
}

impl QueueLimits {
    /// Whether a frame of `len` bytes may join `b`'s queue. An empty queue
    /// takes any frame, so that no limit is smaller than a message.
    pub fn check(&self, b: &Backlog, len: usize) -> Result<(), Over> {
        if b.messages() >= self.messages {
            return Err(Over::Messages(self.messages));
        }
        let bytes = b.bytes();
        if bytes > 0 && bytes + len > self.bytes {
            return Err(Over::Bytes(self.bytes));
        }
        if b.total_bytes() + len > self.total_bytes {
            return Err(Over::Total(self.total_bytes));
        }
        Ok(())
    }
}

/// The session with the most bytes queued, among those not cut off already
/// and holding any.
pub fn largest<'a>(sessions: impl Iterator<Item = (SessionId, &'a Backlog)>) -> Option<SessionId> {
    sessions
        .filter(|(_, b)| !b.is_detached() && b.bytes() > 0)
        .max_by_key(|(id, b)| (b.bytes(), std::cmp::Reverse(*id)))
        .map(|(id, _)| id)
}

/// What a writer that stops leaves in `rx` is discarded, and counted as
/// gone; nothing more can be queued.
pub fn discard(rx: &mut tokio::sync::mpsc::UnboundedReceiver<bytes::Bytes>, backlog: &Backlog) {
    rx.close();
    while let Ok(m) = rx.try_recv() {
        backlog.taken(m.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> QueueLimits {
        QueueLimits {
            messages: 3,
            bytes: 100,
            total_bytes: 150,
        }
    }

    #[test]
    fn each_limit_is_named() {
        let all = Backlogs::default();
        let a = all.session();
        let l = limits();
        assert_eq!(l.check(&a, 120), Ok(()), "an empty queue takes any frame");
        a.push(60);
        assert_eq!(l.check(&a, 50), Err(Over::Bytes(100)));
        assert_eq!(l.check(&a, 40), Ok(()));
        a.push(10);
        a.push(10);
        assert_eq!(l.check(&a, 1), Err(Over::Messages(3)));
        let b = all.session();
        b.push(70);
        assert_eq!(all.bytes(), 150);
        assert_eq!(l.check(&b, 1), Err(Over::Total(150)));
        assert!(Over::Bytes(100).to_string().contains("MaxSessionBytes"));
    }

    #[test]
    fn a_detached_session_leaves_the_total_at_once() {
        let all = Backlogs::default();
        let (a, b) = (all.session(), all.session());
        a.push(100);
        a.push(50);
        b.push(20);
        assert_eq!(
            largest([(SessionId(1), &a), (SessionId(2), &b)].into_iter()),
            Some(SessionId(1))
        );
        a.taken(100);
        a.detach();
        assert_eq!(all.bytes(), 20);
        assert_eq!(a.bytes(), 50);
        a.taken(50);
        assert_eq!((all.bytes(), a.bytes(), a.messages()), (20, 0, 0));
        assert_eq!(
            largest([(SessionId(1), &a), (SessionId(2), &b)].into_iter()),
            Some(SessionId(2))
        );
        a.push(5);
        assert_eq!(all.bytes(), 20, "a detached session adds nothing");
    }

    #[test]
    fn what_a_writer_leaves_is_counted_as_gone() {
        let all = Backlogs::default();
        let b = all.session();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for n in [10usize, 20] {
            b.push(n);
            tx.send(bytes::Bytes::from(vec![0u8; n])).unwrap();
        }
        discard(&mut rx, &b);
        assert_eq!((all.bytes(), b.messages()), (0, 0));
        assert!(tx.send(bytes::Bytes::new()).is_err(), "closed for good");
    }
}
