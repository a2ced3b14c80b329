//! The sessions Java holds, by `long` handle.
//!
//! A call takes its own `Arc` of the session for its whole duration, so a
//! concurrent disconnect shuts the socket down (a blocked receive wakes up
//! with an error) but never frees the session under that call. A handle is
//! a counter, never an address, and is never reused: a stale handle finds
//! nothing and becomes an ILLEGAL_SESSION error instead of a dangling read.

use spread_core::client::Mailbox;
use spread_core::Error;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

fn table() -> MutexGuard<'static, HashMap<i64, Arc<Mailbox>>> {
    static TABLE: OnceLock<Mutex<HashMap<i64, Arc<Mailbox>>>> = OnceLock::new();
    TABLE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

pub fn insert(mailbox: Mailbox) -> i64 {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    let handle = NEXT.fetch_add(1, Ordering::Relaxed);
    table().insert(handle, Arc::new(mailbox));
    handle
}

pub fn get(handle: i64) -> Result<Arc<Mailbox>, Error> {
    table().get(&handle).cloned().ok_or(Error::IllegalSession)
}

pub fn remove(handle: i64) -> Result<Arc<Mailbox>, Error> {
    table().remove(&handle).ok_or(Error::IllegalSession)
}
