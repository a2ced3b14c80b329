//! The process's open mailboxes. A mailbox is the session's socket
//! descriptor, as in 5.0.1, so applications can poll it.
//!
//! Calls hold an `Arc` to their session for their whole duration, so a
//! concurrent `SP_disconnect` can shut the socket down (waking a blocked
//! receive with an error) but never closes the descriptor under a call:
//! it is closed when the last call returns, and no call ever reads from a
//! descriptor number that was reused.

use crate::types;
use spread_core::client::Mailbox as Client;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

fn table() -> MutexGuard<'static, HashMap<types::Mailbox, Arc<Client>>> {
    static TABLE: OnceLock<Mutex<HashMap<types::Mailbox, Arc<Client>>>> = OnceLock::new();
    TABLE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

pub fn insert(mbox: Client) -> types::Mailbox {
    let id = mbox.raw_fd();
    table().insert(id, Arc::new(mbox));
    id
}

pub fn get(id: types::Mailbox) -> Option<Arc<Client>> {
    table().get(&id).cloned()
}

pub fn remove(id: types::Mailbox) -> Option<Arc<Client>> {
    table().remove(&id)
}
