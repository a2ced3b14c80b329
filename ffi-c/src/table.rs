//! The process's open mailboxes. A mailbox is the session's socket
//! descriptor, as in 5.0.1, so applications can poll it.
//!
//! Calls hold an `Arc` to their session for their whole duration, so a
//! concurrent `SP_disconnect` can shut the socket down (waking a blocked
//! receive with an error) but never closes the descriptor under a call:
//! it is closed when the last call returns, and no call ever reads from a
//! descriptor number that was reused.

use crate::types;
use spread_core::client::{Mailbox as Client, Registry};
use std::sync::Arc;

static TABLE: Registry<types::Mailbox> = Registry::new();

pub fn insert(mbox: Client) -> types::Mailbox {
    let id = mbox.raw_fd();
    TABLE.insert(id, mbox);
    id
}

pub fn get(id: types::Mailbox) -> Option<Arc<Client>> {
    TABLE.get(id)
}

pub fn remove(id: types::Mailbox) -> Option<Arc<Client>> {
    TABLE.remove(id)
}
