//! Session slots and private names, shared by handshakes and the core.
//!
//! A name stays taken from the moment its handshake claims it until the
//! session's disconnect has been processed, as in 5.0.1.

use std::collections::HashSet;
use std::sync::Mutex;

#[derive(Debug)]
pub struct Registry {
    inner: Mutex<Inner>,
    max_sessions: usize,
}

#[derive(Debug, Default)]
struct Inner {
    slots: usize,
    names: HashSet<Vec<u8>>,
}

impl Registry {
    pub fn new(max_sessions: usize) -> Registry {
        Registry {
            inner: Mutex::new(Inner::default()),
            max_sessions,
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
        self.lock().names.remove(name);
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
