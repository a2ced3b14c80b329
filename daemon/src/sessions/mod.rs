//! Client sessions: listeners, handshakes, and each session's reader and
//! writer tasks. The only part of the daemon that does client I/O.

pub mod admission;
pub mod backlog;
pub mod handshake;
pub mod listen;
pub mod pacing;
pub mod refusals;
pub mod registry;
pub mod session;
pub mod socket_file;
pub mod tls;
pub mod validate;

use crate::auth::{AuthPolicy, Who, AUTH_REASONS};
use crate::engine::{SessionId, SessionInfo};
use bytes::Bytes;
use registry::Registry;
use spread_core::wire::Header;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What session tasks tell the core.
#[derive(Debug)]
pub enum Cmd {
    Open {
        id: SessionId,
        info: SessionInfo,
        name: Vec<u8>,
        peer: String,
        out: Outbound,
        /// It took MaxMessageSize in its handshake.
        large_messages: bool,
        /// Who it is, for the group access rules.
        who: Who,
    },
    Request {
        id: SessionId,
        header: Header,
        frame: Bytes,
    },
    Refuse {
        id: SessionId,
        header: Header,
        names: Bytes,
        why: String,
    },
    Gone {
        id: SessionId,
        reason: String,
    },
}

/// The core's handle on a session's writer.
#[derive(Debug)]
pub struct Outbound {
    pub tx: mpsc::UnboundedSender<backlog::Queued>,
    /// What was handed to the writer and not yet written to the socket.
    pub backlog: backlog::Backlog,
    /// Set to end the session's tasks at once.
    pub abort: watch::Sender<bool>,
    /// Set while the daemon does not read from the client (a local reader
    /// its messages go to is behind).
    pub pause: watch::Sender<bool>,
}

impl Outbound {
    /// Queues `frame` for the writer; `charge` counts it in the daemon's
    /// total.
    pub fn send(&self, frame: Bytes, charge: Arc<backlog::Charge>) {
        let len = frame.len();
        self.backlog.push(len);
        if self.tx.send(backlog::Queued { frame, charge }).is_err() {
            self.backlog.taken(len);
        }
    }

    /// Ends the session's tasks at once, discarding what is queued (a
    /// client that stopped reading would never take it).
    pub fn cut_off(&self, backlogs: &backlog::Backlogs) {
        backlogs.cut(&self.backlog);
        let _ = self.abort.send(true);
    }
}

/// What every session task shares.
#[derive(Debug)]
pub struct Shared {
    pub daemon_name: String,
    /// The authentication policy in force (a reload replaces it).
    pub auth: RwLock<Arc<AuthPolicy>>,
    /// Handshakes an authentication method refused, by reason
    /// ([`crate::auth::AUTH_REASONS`]).
    pub auth_refused: [AtomicU64; AUTH_REASONS.len()],
    /// Handshakes that failed otherwise (names, versions, timeouts, ...).
    pub handshakes_failed: AtomicU64,
    pub registry: Registry,
    /// What waits for the sessions' writers, all together.
    pub backlogs: backlog::Backlogs,
    /// Lines about refusals, a few a period and then a count.
    pub refusals: refusals::Refusals,
    /// Permits for handshakes in progress.
    pub admission: Arc<admission::Admission>,
    pub core: mpsc::Sender<Cmd>,
    pub next_id: AtomicU64,
    /// Limit for each handshake step.
    pub step_timeout: Duration,
    /// MaxMessageSize, offered in the handshake (0: none); a reload
    /// changes it for the sessions that took it too.
    pub max_message_size: AtomicUsize,
}

impl Shared {
    /// The authentication policy in force.
    pub fn auth_policy(&self) -> Arc<AuthPolicy> {
        self.auth.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts a reloaded policy in force for the clients that come next.
    pub fn set_auth_policy(&self, policy: AuthPolicy) {
        *self.auth.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(policy);
    }

    /// MaxMessageSize in force.
    pub fn max_message_size(&self) -> Option<usize> {
        Some(self.max_message_size.load(Ordering::Relaxed)).filter(|&n| n > 0)
    }

    /// What a session may send: MaxMessageSize if it took the offer.
    pub fn size_limit(&self, large_messages: bool) -> validate::SizeLimit {
        match self.max_message_size() {
            Some(n) if large_messages => validate::SizeLimit::Body(n),
            _ => validate::SizeLimit::Interoperable,
        }
    }
}
