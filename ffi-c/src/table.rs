//! The process's open mailboxes. A mailbox is the session's socket
//! descriptor, as in 5.0.1, so applications can poll it.
//!
//! Calls hold an `Arc` to their session for their whole duration, so a
//! concurrent `SP_disconnect` can shut the socket down (waking a blocked
//! receive with an error) but never closes the descriptor under a call:
//! it is closed when the last call returns, and no call ever reads from a
//! descriptor number that was reused.

use crate::types::Mailbox as MailboxId;
use spread_core::client::Mailbox;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

fn table() -> MutexGuard<'static, HashMap<MailboxId, Arc<Mailbox>>> {
    static TABLE: OnceLock<Mutex<HashMap<MailboxId, Arc<Mailbox>>>> = OnceLock::new();
    TABLE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

pub fn insert(mbox: Mailbox) -> MailboxId {
    let id = mbox.raw_fd();
    table().insert(id, Arc::new(mbox));
    id
}

pub fn get(id: MailboxId) -> Option<Arc<Mailbox>> {
    table().get(&id).cloned()
}

pub fn remove(id: MailboxId) -> Option<Arc<Mailbox>> {
    table().remove(&id)
}
