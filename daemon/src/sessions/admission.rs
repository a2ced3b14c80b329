//! Connections whose handshake has not succeeded yet. They draw from a
//! small pool of their own instead of the session slots, so connections
//! that never finish a handshake cannot lock clients out of the daemon;
//! and each source may run only a few at once, so one host cannot take
//! the whole pool.
//!
//! A connection that finds its source's share (or the pool) in use waits
//! its turn, unread, in a bounded waiting room: a host starting many
//! clients at once gets them all in, a few at a time. Only when the
//! waiting room is full is a connection turned away at once.

use crate::auth::Peer;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Handshakes in progress at once, from every source together.
pub const MAX_HANDSHAKES: usize = 64;
/// Handshakes in progress at once from one source: an IP address, or the
/// Unix socket (all its peers are this host).
pub const MAX_HANDSHAKES_PER_SOURCE: usize = 8;
/// Connections waiting for their turn. Each costs a descriptor and a small
/// task, nothing read.
pub const MAX_WAITING: usize = 1024;
/// How long a connection waits for its turn before it is turned away.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The handshake pool.
#[derive(Debug)]
pub struct Admission {
    all: Arc<Semaphore>,
    /// The share of each source that has connections here (holding a
    /// permit or waiting for one); gone when it has none.
    sources: Mutex<HashMap<Peer, Source>>,
    waiting: AtomicUsize,
    per_source: usize,
    max_waiting: usize,
}

#[derive(Debug)]
struct Source {
    permits: Arc<Semaphore>,
    connections: usize,
}

/// What a new connection gets.
pub enum Entry {
    /// A permit to run its handshake now.
    Now(Permit),
    /// A place in the waiting room.
    Wait(Ticket),
    /// Nothing: the waiting room is full.
    Full,
}

/// Held while a handshake runs.
#[derive(Debug)]
pub struct Permit {
    _all: OwnedSemaphorePermit,
    _mine: OwnedSemaphorePermit,
    _source: SourceRef,
}

/// A place in the waiting room.
#[derive(Debug)]
pub struct Ticket {
    source: SourceRef,
    mine: Arc<Semaphore>,
    all: Arc<Semaphore>,
    _waiting: Waiting,
}

/// Counts a connection toward its source's entry.
#[derive(Debug)]
struct SourceRef {
    admission: Arc<Admission>,
    peer: Peer,
}

#[derive(Debug)]
struct Waiting(Arc<Admission>);

impl Admission {
    pub fn new() -> Arc<Admission> {
        Admission::with_limits(MAX_HANDSHAKES, MAX_HANDSHAKES_PER_SOURCE, MAX_WAITING)
    }

    pub fn with_limits(all: usize, per_source: usize, max_waiting: usize) -> Arc<Admission> {
        Arc::new(Admission {
            all: Arc::new(Semaphore::new(all)),
            sources: Mutex::new(HashMap::new()),
            waiting: AtomicUsize::new(0),
            per_source,
            max_waiting,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Peer, Source>> {
        self.sources.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection from `peer`; never waits.
    pub fn enter(self: &Arc<Self>, peer: Peer) -> Entry {
        let (source, mine) = self.source(peer);
        // Permits go to waiters first, so these never overtake one.
        if let Ok(m) = mine.clone().try_acquire_owned() {
            if let Ok(a) = self.all.clone().try_acquire_owned() {
                return Entry::Now(Permit {
                    _all: a,
                    _mine: m,
                    _source: source,
                });
            }
        }
        let max = self.max_waiting;
        let room = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                (w < max).then_some(w + 1)
            });
        if room.is_err() {
            return Entry::Full;
        }
        Entry::Wait(Ticket {
            source,
            mine,
            all: self.all.clone(),
            _waiting: Waiting(self.clone()),
        })
    }

    fn source(self: &Arc<Self>, peer: Peer) -> (SourceRef, Arc<Semaphore>) {
        let mut sources = self.lock();
        let s = sources.entry(peer).or_insert_with(|| Source {
            permits: Arc::new(Semaphore::new(self.per_source)),
            connections: 0,
        });
        s.connections += 1;
        let permits = s.permits.clone();
        let r = SourceRef {
            admission: self.clone(),
            peer,
        };
        (r, permits)
    }

    /// Connections waiting for their turn.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Sources with connections here.
    pub fn sources(&self) -> usize {
        self.lock().len()
    }
}

impl Ticket {
    /// Waits for a permit, at most `patience`; None when it ran out.
    pub async fn permit(self, patience: Duration) -> Option<Permit> {
        let wait = async {
            // Closed semaphores are never made: both acquires succeed.
            let mine = self.mine.clone().acquire_owned().await.ok()?;
            let all = self.all.clone().acquire_owned().await.ok()?;
            Some((mine, all))
        };
        let (mine, all) = tokio::time::timeout(patience, wait).await.ok()??;
        Some(Permit {
            _all: all,
            _mine: mine,
            _source: self.source,
        })
    }
}

impl Drop for SourceRef {
    fn drop(&mut self) {
        let mut sources = self.admission.lock();
        if let Some(s) = sources.get_mut(&self.peer) {
            s.connections -= 1;
            if s.connections == 0 {
                sources.remove(&self.peer);
            }
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(last: u8) -> Peer {
        Peer::Ip(IpAddr::from([10, 0, 0, last]))
    }

    fn now(e: Entry) -> Permit {
        match e {
            Entry::Now(p) => p,
            Entry::Wait(_) => panic!("waits"),
            Entry::Full => panic!("full"),
        }
    }

    #[tokio::test]
    async fn a_source_beyond_its_share_waits_and_others_go_on() {
        let a = Admission::with_limits(4, 2, 10);
        let p1 = now(a.enter(ip(1)));
        let _p2 = now(a.enter(ip(1)));
        let Entry::Wait(t) = a.enter(ip(1)) else {
            panic!("a third from one source should wait")
        };
        let _other = now(a.enter(Peer::Unix));
        assert_eq!(a.waiting(), 1);
        drop(p1);
        let p3 = t.permit(Duration::from_secs(1)).await.expect("its turn");
        assert_eq!(a.waiting(), 0);
        drop(p3);
        drop(_p2);
        drop(_other);
        assert_eq!(a.sources(), 0, "sources without connections are forgotten");
    }

    #[tokio::test]
    async fn a_full_pool_makes_everyone_wait_and_the_room_is_bounded() {
        let a = Admission::with_limits(2, 2, 1);
        let _p1 = now(a.enter(ip(1)));
        let _p2 = now(a.enter(ip(2)));
        let Entry::Wait(t) = a.enter(ip(3)) else {
            panic!("should wait for the pool")
        };
        assert!(matches!(a.enter(ip(4)), Entry::Full));
        assert!(t.permit(Duration::from_millis(20)).await.is_none());
        assert_eq!(a.waiting(), 0);
        assert!(matches!(a.enter(ip(4)), Entry::Wait(_)));
    }
}
