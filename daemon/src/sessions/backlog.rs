//! Output waiting for the sessions' writers, and the limits on it: a client
//! that stops reading is disconnected before the daemon holds more for it
//! than MaxSessionMessages or MaxSessionBytes allow, and when the frames
//! waiting for all writers together take more than MaxQueuedBytes the
//! session with the most queued goes.
//!
//! A session counts every frame in its queue. The daemon counts each frame
//! once however many queues hold it (a message to a group is one frame
//! shared by its members), so that its budget measures memory, and a
//! burst to a large group does not cut off members who are merely behind.

use crate::engine::SessionId;
use bytes::Bytes;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Notify;

/// The bytes of every frame waiting for any writer.
#[derive(Clone, Debug, Default)]
pub struct Backlogs {
    total: Arc<AtomicUsize>,
    /// Sessions cut off whose writers have yet to discard their queues
    /// (the daemon's total drops when they have).
    discarding: Arc<Mutex<Vec<Backlog>>>,
    /// Told when a session that was behind has caught up (see
    /// [`Backlog::wake_below`]).
    caught_up: Arc<Notify>,
}

impl Backlogs {
    /// A new session's count.
    pub fn session(&self) -> Backlog {
        Backlog(Arc::new(Counts {
            caught_up: self.caught_up.clone(),
            ..Counts::default()
        }))
    }

    /// Resolves when a session marked with [`Backlog::wake_below`] has
    /// fewer messages queued than the mark.
    pub async fn caught_up(&self) {
        self.caught_up.notified().await
    }

    /// Counts `frame` until the last queue it is handed to lets it go.
    pub fn charge(&self, frame: &Bytes) -> Arc<Charge> {
        self.total.fetch_add(frame.len(), Ordering::AcqRel);
        Arc::new(Charge {
            len: frame.len(),
            total: self.total.clone(),
        })
    }

    pub fn bytes(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// `b`'s session is cut off; its writer discards its queue.
    pub fn cut(&self, b: &Backlog) {
        self.lock().push(b.clone());
    }

    /// Whether a session cut off has not discarded its queue yet.
    pub fn discarding(&self) -> bool {
        let mut d = self.lock();
        d.retain(|b| b.bytes() > 0);
        !d.is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Backlog>> {
        self.discarding.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Charges for frames handed out one after another, the same frame
    /// (a message to a group, once for each member) charged once.
    pub fn charger(&self) -> Charger<'_> {
        Charger {
            backlogs: self,
            last: None,
        }
    }
}

pub struct Charger<'a> {
    backlogs: &'a Backlogs,
    last: Option<(Bytes, Arc<Charge>)>,
}

impl Charger<'_> {
    pub fn charge(&mut self, frame: &Bytes) -> Arc<Charge> {
        if let Some((f, c)) = &self.last {
            if f.as_ptr() == frame.as_ptr() && f.len() == frame.len() {
                return c.clone();
            }
        }
        let c = self.backlogs.charge(frame);
        self.last = Some((frame.clone(), c.clone()));
        c
    }
}

/// A frame's place in the daemon's total, shared by the queues holding it.
#[derive(Debug)]
pub struct Charge {
    len: usize,
    total: Arc<AtomicUsize>,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.total.fetch_sub(self.len, Ordering::AcqRel);
    }
}

/// What a session's queue holds: a frame and its share of the total.
#[derive(Debug)]
pub struct Queued {
    pub frame: Bytes,
    pub charge: Arc<Charge>,
}

#[derive(Debug, Default)]
struct Counts {
    messages: AtomicUsize,
    bytes: AtomicUsize,
    /// Frames the writer ever took: whether a reader makes progress.
    taken: AtomicU64,
    /// When non-zero: tell `caught_up` once fewer messages than this wait.
    wake_below: AtomicUsize,
    caught_up: Arc<Notify>,
}

/// One session's count: the core adds what it queues, the writer takes
/// away what it takes to write (or discards).
#[derive(Clone, Debug)]
pub struct Backlog(Arc<Counts>);

impl Backlog {
    /// A frame of `len` bytes was queued.
    pub fn push(&self, len: usize) {
        self.0.messages.fetch_add(1, Ordering::AcqRel);
        self.0.bytes.fetch_add(len, Ordering::AcqRel);
    }

    /// A frame of `len` bytes left the queue (written or discarded).
    pub fn taken(&self, len: usize) {
        let left = self.0.messages.fetch_sub(1, Ordering::AcqRel) - 1;
        self.0.bytes.fetch_sub(len, Ordering::AcqRel);
        self.0.taken.fetch_add(1, Ordering::AcqRel);
        let mark = self.0.wake_below.load(Ordering::Acquire);
        if mark != 0
            && left < mark
            && self
                .0
                .wake_below
                .compare_exchange(mark, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.0.caught_up.notify_one();
        }
    }

    /// Asks to be told (by [`Backlogs::caught_up`]) once fewer than `mark`
    /// messages are queued.
    pub fn wake_below(&self, mark: usize) {
        self.0.wake_below.store(mark.max(1), Ordering::Release);
        if self.messages() < mark {
            self.0.caught_up.notify_one();
        }
    }

    /// How many frames the writer has taken so far.
    pub fn taken_so_far(&self) -> u64 {
        self.0.taken.load(Ordering::Acquire)
    }

    pub fn messages(&self) -> usize {
        self.0.messages.load(Ordering::Acquire)
    }

    pub fn bytes(&self) -> usize {
        self.0.bytes.load(Ordering::Acquire)
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
    /// Whether a frame of `len` bytes may join `b`'s queue, the daemon's
    /// total being `total` with the frame counted. An empty queue takes
    /// any frame, so that no session limit is smaller than a message.
    pub fn check(&self, b: &Backlog, len: usize, total: usize) -> Result<(), Over> {
        if b.messages() >= self.messages {
            return Err(Over::Messages(self.messages));
        }
        let bytes = b.bytes();
        if bytes > 0 && bytes + len > self.bytes {
            return Err(Over::Bytes(self.bytes));
        }
        if total > self.total_bytes {
            return Err(Over::Total(self.total_bytes));
        }
        Ok(())
    }
}

impl Backlogs {
    /// Who goes when the daemon's total is exceeded: the session with the
    /// most bytes queued, unless one cut off is still discarding (what
    /// that frees is to be seen first: it may be enough).
    pub fn victim<'a>(
        &self,
        sessions: impl Iterator<Item = (SessionId, &'a Backlog)>,
    ) -> Option<SessionId> {
        if self.discarding() {
            return None;
        }
        sessions
            .map(|(id, b)| (b.bytes(), std::cmp::Reverse(id)))
            .filter(|(bytes, _)| *bytes > 0)
            .max()
            .map(|(_, std::cmp::Reverse(id))| id)
    }
}

/// What a writer that stops leaves in `rx` is discarded, and counted as
/// gone; nothing more can be queued.
pub fn discard(rx: &mut UnboundedReceiver<Queued>, backlog: &Backlog) {
    rx.close();
    while let Ok(q) = rx.try_recv() {
        backlog.taken(q.frame.len());
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
        let a = Backlogs::default().session();
        let l = limits();
        assert_eq!(
            l.check(&a, 120, 120),
            Ok(()),
            "an empty queue takes any frame"
        );
        a.push(60);
        assert_eq!(l.check(&a, 50, 110), Err(Over::Bytes(100)));
        assert_eq!(l.check(&a, 40, 100), Ok(()));
        a.push(10);
        a.push(10);
        assert_eq!(l.check(&a, 1, 81), Err(Over::Messages(3)));
        let b = Backlogs::default().session();
        assert_eq!(l.check(&b, 1, 151), Err(Over::Total(150)));
        assert!(Over::Bytes(100).to_string().contains("MaxSessionBytes"));
    }

    #[test]
    fn a_frame_counts_once_until_its_last_queue_lets_go() {
        let all = Backlogs::default();
        let frame = Bytes::from(vec![0u8; 40]);
        let charge = all.charge(&frame);
        let queued: Vec<Queued> = (0..3)
            .map(|_| Queued {
                frame: frame.clone(),
                charge: charge.clone(),
            })
            .collect();
        drop(charge);
        assert_eq!(all.bytes(), 40);
        let mut queued = queued.into_iter();
        drop(queued.next());
        drop(queued.next());
        assert_eq!(all.bytes(), 40);
        drop(queued);
        assert_eq!(all.bytes(), 0);
    }

    #[test]
    fn a_charger_charges_a_frame_handed_out_again_once() {
        let all = Backlogs::default();
        let (f, g) = (Bytes::from(vec![0u8; 40]), Bytes::from(vec![0u8; 40]));
        let mut charger = all.charger();
        let charges = [&f, &f, &f.clone(), &g].map(|x| charger.charge(x));
        drop(charger);
        assert_eq!(all.bytes(), 80);
        assert!(Arc::ptr_eq(&charges[0], &charges[2]));
        drop(charges);
        assert_eq!(all.bytes(), 0);
    }

    #[test]
    fn the_largest_goes_after_any_cut_off_has_discarded() {
        let all = Backlogs::default();
        let (a, b) = (all.session(), all.session());
        a.push(100);
        b.push(20);
        let both = || [(SessionId(1), &a), (SessionId(2), &b)].into_iter();
        assert_eq!(all.victim(both()), Some(SessionId(1)));
        all.cut(&a);
        // Even once it is no longer among the sessions.
        assert_eq!(all.victim(both().skip(1)), None);
        a.taken(100);
        assert_eq!(all.victim(both()), Some(SessionId(2)));
        b.taken(20);
        assert_eq!(all.victim(both()), None);
    }

    #[test]
    fn what_a_writer_leaves_is_counted_as_gone() {
        let all = Backlogs::default();
        let b = all.session();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for n in [10usize, 20] {
            let frame = Bytes::from(vec![0u8; n]);
            b.push(n);
            let charge = all.charge(&frame);
            tx.send(Queued { frame, charge }).unwrap();
        }
        discard(&mut rx, &b);
        assert_eq!((all.bytes(), b.messages(), b.bytes()), (0, 0, 0));
        let frame = Bytes::new();
        let charge = all.charge(&frame);
        assert!(
            tx.send(Queued { frame, charge }).is_err(),
            "closed for good"
        );
    }
}
