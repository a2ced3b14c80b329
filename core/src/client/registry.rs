//! Open sessions by handle, for callers that give their users a number
//! instead of an object (the C ABI's mailbox, a JNI `long`).
//!
//! A call takes its own `Arc` of the session for its whole duration, so a
//! concurrent disconnect shuts the socket down (a blocked receive wakes up
//! with an error) but never frees the session, or closes its descriptor,
//! under that call: that happens when the last call returns.

use super::Mailbox;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A map from caller-chosen keys (`K`) to open sessions (`S`: a
/// [`Mailbox`], or a session built on one such as a
/// [`crate::flush::FlushMailbox`]), safe to share between threads.
pub struct Registry<K, S = Mailbox> {
    map: Mutex<BTreeMap<K, Arc<S>>>,
}

impl<K: Ord + Copy, S> Registry<K, S> {
    /// An empty registry; `const` so that it can be a `static`.
    pub const fn new() -> Registry<K, S> {
        Registry {
            map: Mutex::new(BTreeMap::new()),
        }
    }

    fn map(&self) -> MutexGuard<'_, BTreeMap<K, Arc<S>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `session` under `key` (replacing what was there).
    pub fn insert(&self, key: K, session: S) {
        self.map().insert(key, Arc::new(session));
    }

    /// The session under `key`, kept alive by the returned `Arc` for as long
    /// as the caller holds it.
    pub fn get(&self, key: K) -> Option<Arc<S>> {
        self.map().get(&key).cloned()
    }

    /// Takes the session out: later lookups of `key` find nothing. It stays
    /// alive until the returned `Arc` and those of calls in progress are
    /// dropped.
    pub fn remove(&self, key: K) -> Option<Arc<S>> {
        self.map().remove(&key)
    }
}

impl<K: Ord + Copy, S> Default for Registry<K, S> {
    fn default() -> Self {
        Registry::new()
    }
}
