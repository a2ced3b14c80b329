//! Node.js binding of the Spread client: a thin map of
//! `spread_core::client::Mailbox` for the JavaScript layer in `index.js`.
//!
//! Nothing here blocks the JavaScript thread. Receives wait on the mailbox's
//! descriptor in napi's tokio runtime and then take whole messages with
//! `try_receive`; sends are short blocking writes done on tokio's blocking
//! pool, one writer per mailbox at a time. Results come back through one
//! threadsafe function per mailbox, which `unref()` can release from the
//! event loop.
//!
//! `NativeFlushMailbox` (`flush.rs`) maps `spread_core::flush::FlushMailbox`
//! (Flush Spread) the same way, each call answering with a promise.

mod error;
mod flush;
mod mailbox;
mod message;

pub use error::{error_name, strerror, NativeError};
pub use flush::{connect_flush, FlushMessage, NativeFlushMailbox};
pub use mailbox::{connect, ConnectOptions, NativeEvent, NativeMailbox, Outcome};
pub use message::{Batch, GroupId, Message};

use napi_derive::napi;
use spread_core::consts;

// The numbers of sp.h the JavaScript layer builds its `Service` map and
// options from; they come from core so they cannot drift.
#[napi]
pub const UNRELIABLE_MESS: u32 = consts::UNRELIABLE_MESS;
#[napi]
pub const RELIABLE_MESS: u32 = consts::RELIABLE_MESS;
#[napi]
pub const FIFO_MESS: u32 = consts::FIFO_MESS;
#[napi]
pub const CAUSAL_MESS: u32 = consts::CAUSAL_MESS;
#[napi]
pub const AGREED_MESS: u32 = consts::AGREED_MESS;
#[napi]
pub const SAFE_MESS: u32 = consts::SAFE_MESS;
#[napi]
pub const SELF_DISCARD: u32 = consts::SELF_DISCARD;
#[napi]
pub const LOW_PRIORITY: i32 = consts::LOW_PRIORITY;
#[napi]
pub const MEDIUM_PRIORITY: i32 = consts::MEDIUM_PRIORITY;
#[napi]
pub const HIGH_PRIORITY: i32 = consts::HIGH_PRIORITY;
#[napi]
pub const MAX_GROUPS_PER_MESSAGE: u32 = consts::MAX_GROUPS_PER_MESSAGE as u32;
#[napi]
pub const MAX_MESSAGE_LEN: u32 = consts::MAX_INTEROPERABLE_PAYLOAD as u32;
#[napi]
pub const DEFAULT_SPREAD_PORT: u32 = consts::DEFAULT_SPREAD_PORT as u32;
#[napi]
pub const ILLEGAL_SESSION: i32 = consts::ILLEGAL_SESSION;
#[napi]
pub const CONNECTION_CLOSED: i32 = consts::CONNECTION_CLOSED;
#[napi]
pub const NET_ERROR_ON_SESSION: i32 = consts::NET_ERROR_ON_SESSION;
#[napi]
pub const FL_MIN_LEGAL_MESS_TYPE: i32 = consts::FL_MIN_LEGAL_MESS_TYPE as i32;
