//! The sessions Java holds, by `long` handle (core's `Registry`). A handle
//! is a counter, never an address, and is never reused: a stale handle
//! finds nothing and becomes an ILLEGAL_SESSION error instead of a
//! dangling read.

use spread_core::client::{Mailbox, Registry};
use spread_core::Error;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

static TABLE: Registry<i64> = Registry::new();

pub fn insert(mailbox: Mailbox) -> i64 {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    let handle = NEXT.fetch_add(1, Ordering::Relaxed);
    TABLE.insert(handle, mailbox);
    handle
}

pub fn get(handle: i64) -> Result<Arc<Mailbox>, Error> {
    TABLE.get(handle).ok_or(Error::IllegalSession)
}

pub fn remove(handle: i64) -> Result<Arc<Mailbox>, Error> {
    TABLE.remove(handle).ok_or(Error::IllegalSession)
}
