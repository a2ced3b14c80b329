//! Session slots and private names, shared by handshakes and the core.
//!
//! A name stays taken from the moment its handshake claims it until the
//! session's disconnect has been processed, as in 5.0.1.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug)]
pub struct Registry {
    inner: Mutex<Inner>,
    max_sessions: usize,
    /// Signalled whenever a name is released.
    released: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    slots: usize,
    names: HashSet<Vec<u8>>,
    /// Taken names whose sessions are ending (their disconnect is on its
    /// way through the daemon).
    closing: HashSet<Vec<u8>>,
}

impl Registry {
    pub fn new(max_sessions: usize) -> Registry {
        Registry {
            inner: Mutex::new(Inner::default()),
            max_sessions,
            released: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a session slot; false when the daemon is full.
    pub fn take_slot(&self) -> bool {
        let mut g = self.lock();
        if g.slots >= self.max_sessions {
            return false;
        }
        g.slots += 1;
        true
    }

    /// Whether every slot is taken (a new connection is refused at once).
    pub fn is_full(&self) -> bool {
        self.lock().slots >= self.max_sessions
    }

    pub fn release_slot(&self) {
        let mut g = self.lock();
        g.slots = g.slots.saturating_sub(1);
    }

    /// Claims `name`; false if a session of this daemon has it.
    pub fn claim(&self, name: &[u8]) -> bool {
        self.lock().names.insert(name.to_vec())
    }

    /// Claims the first name `candidate` yields that is free.
    pub fn claim_any(&self, mut candidate: impl FnMut() -> Vec<u8>) -> Vec<u8> {
        let mut g = self.lock();
        loop {
            let name = candidate();
            if g.names.insert(name.clone()) {
                return name;
            }
        }
    }

    pub fn release_name(&self, name: &[u8]) {
        let mut g = self.lock();
        g.names.remove(name);
        g.closing.remove(name);
        drop(g);
        self.released.notify_waiters();
    }

    /// The session holding `name` is ending.
    pub fn mark_closing(&self, name: &[u8]) {
        let mut g = self.lock();
        if g.names.contains(name) {
            g.closing.insert(name.to_vec());
        }
    }

    /// Claims `name`; if its holder is ending, waits up to `patience` for
    /// it to be released, so a client that disconnects and reconnects at
    /// once gets its name back. False if it stays taken.
    pub async fn claim_patiently(&self, name: &[u8], patience: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let released = self.released.notified();
            {
                let mut g = self.lock();
                if g.names.insert(name.to_vec()) {
                    return true;
                }
                if !g.closing.contains(name) {
                    return false;
                }
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return false;
            }
        }
    }

    pub fn sessions(&self) -> usize {
        self.lock().slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_names() {
        let r = Registry::new(2);
        assert!(r.take_slot() && r.take_slot() && !r.take_slot());
        r.release_slot();
        assert!(r.take_slot());
        assert!(r.claim(b"a") && !r.claim(b"a"));
        let mut n = 0;
        let got = r.claim_any(|| {
            n += 1;
            if n < 3 {
                b"a".to_vec()
            } else {
                b"b".to_vec()
            }
        });
        assert_eq!(got, b"b");
        r.release_name(b"a");
        assert!(r.claim(b"a"));
    }
}
