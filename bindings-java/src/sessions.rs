//! The sessions Java holds, by `long` handle (core's `Registry`): plain
//! `Mailbox`es and `FlushMailbox`es in tables of their own. A handle is a
//! counter shared by both, never an address, and is never reused: a stale
//! handle, or one of the other kind, finds nothing and becomes an
//! ILLEGAL_SESSION error instead of a dangling read.

use spread_core::client::{Mailbox, Registry};
use spread_core::flush::FlushMailbox;
use spread_core::Error;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

static TABLE: Registry<i64> = Registry::new();
static FLUSH: Registry<i64, FlushMailbox> = Registry::new();

fn next_handle() -> i64 {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn insert(mailbox: Mailbox) -> i64 {
    let handle = next_handle();
    TABLE.insert(handle, mailbox);
    handle
}

pub fn get(handle: i64) -> Result<Arc<Mailbox>, Error> {
    TABLE.get(handle).ok_or(Error::IllegalSession)
}

pub fn remove(handle: i64) -> Result<Arc<Mailbox>, Error> {
    TABLE.remove(handle).ok_or(Error::IllegalSession)
}

pub fn insert_flush(session: FlushMailbox) -> i64 {
    let handle = next_handle();
    FLUSH.insert(handle, session);
    handle
}

pub fn get_flush(handle: i64) -> Result<Arc<FlushMailbox>, Error> {
    FLUSH.get(handle).ok_or(Error::IllegalSession)
}

pub fn remove_flush(handle: i64) -> Result<Arc<FlushMailbox>, Error> {
    FLUSH.remove(handle).ok_or(Error::IllegalSession)
}
