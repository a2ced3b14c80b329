//! `NativeFlushMailbox`: Flush Spread (`spread_core::flush::FlushMailbox`)
//! for the JavaScript layer's `FlushMailbox`.
//!
//! As for `NativeMailbox`, nothing blocks the JavaScript thread: requests
//! (join, leave, flush, sends, close) are queued in call order and written
//! by one writer at a time on tokio's blocking pool; a receive waits for the
//! descriptor in napi's tokio runtime and then takes a message without
//! blocking. Each call answers with a promise of its own.

use crate::error::NativeError;
use crate::mailbox::{closed_error, lock, ConnectOptions, Descriptor};
use crate::message::{cause_name, name, names, service_name, Bytes, GroupId};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use spread_core::client;
use spread_core::flush::{FlushError, FlushMailbox, FlushMessage as Core, Received};
use spread_core::{Error as SpreadError, GroupName};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::{oneshot, watch};

/// One message of a Flush mailbox, told apart by `kind`; `more` is how
/// many messages are queued behind it (`FL_receive`'s `more_messages`).
#[napi(
    discriminant = "kind",
    discriminant_case = "camelCase",
    object_from_js = false
)]
pub enum FlushMessage {
    /// An application message, delivered in the view it was sent in.
    Data {
        /// The sender's private group.
        sender: String,
        /// The group; for a subgroupcast or unicast, the receivers and then
        /// the group.
        groups: Vec<String>,
        #[napi(js_name = "type")]
        mess_type: i32,
        #[napi(
            ts_type = "'unreliable' | 'reliable' | 'fifo' | 'causal' | 'agreed' | 'safe' | 'unknown'"
        )]
        service: &'static str,
        /// The raw service type (`SUBGROUP_CAST` set for a subgroupcast or
        /// unicast).
        service_type: u32,
        endian_mismatch: bool,
        #[napi(ts_type = "Buffer")]
        data: Bytes,
        more: u32,
    },
    /// The view of `group` is about to change: call `flush(group)` once
    /// ready.
    FlushRequest { group: String, more: u32 },
    /// A new view of `group`, installed once every member flushed.
    View {
        group: String,
        members: Vec<String>,
        /// This mailbox's place in `members`.
        my_index: u32,
        group_id: GroupId,
        #[napi(ts_type = "'join' | 'leave' | 'disconnect' | 'network'")]
        cause: &'static str,
        /// Join, leave, disconnect: the member that changed; network: the
        /// members of the last view that came along into this one.
        vs_set: Vec<String>,
        service_type: u32,
        more: u32,
    },
    /// Members of the view are gone: messages until the next view are
    /// delivered in a transitional view.
    Transition { group: String, more: u32 },
    /// This mailbox's own leave of `group` took effect.
    SelfLeave { group: String, more: u32 },
    /// A message the daemon refused, returned to its sender.
    Reject {
        old_type: u32,
        sender: String,
        groups: Vec<String>,
        #[napi(js_name = "type")]
        mess_type: i32,
        endian_mismatch: bool,
        #[napi(ts_type = "Buffer")]
        data: Bytes,
        more: u32,
    },
}

impl From<Received> for FlushMessage {
    fn from(r: Received) -> Self {
        let more = r.more as u32;
        match r.message {
            Core::Data(d) => FlushMessage::Data {
                sender: name(&d.sender),
                groups: names(&d.groups),
                mess_type: i32::from(d.mess_type),
                service: service_name(d.service_type),
                service_type: d.service_type,
                endian_mismatch: d.endian_mismatch,
                data: Bytes(d.data),
                more,
            },
            Core::FlushRequest { group } => FlushMessage::FlushRequest {
                group: name(&group),
                more,
            },
            Core::View(v) => FlushMessage::View {
                group: name(&v.group),
                members: names(&v.members),
                my_index: v.my_index as u32,
                group_id: v.group_id.into(),
                cause: cause_name(v.cause()),
                vs_set: names(&v.vs_set),
                service_type: v.service_type,
                more,
            },
            Core::Transition { group } => FlushMessage::Transition {
                group: name(&group),
                more,
            },
            Core::SelfLeave { group } => FlushMessage::SelfLeave {
                group: name(&group),
                more,
            },
            Core::Reject(r) => FlushMessage::Reject {
                old_type: r.old_type,
                sender: name(&r.sender),
                groups: names(&r.groups),
                mess_type: i32::from(r.mess_type),
                endian_mismatch: r.endian_mismatch,
                data: Bytes(r.data),
                more,
            },
        }
    }
}

enum Request {
    Join(String),
    Leave(String),
    Flush(String),
    Send {
        service: u32,
        group: String,
        /// None for a multicast.
        receivers: Option<Vec<GroupName>>,
        mess_type: i16,
        parts: Vec<Vec<u8>>,
    },
    Disconnect,
}

type Reply = oneshot::Sender<std::result::Result<usize, FlushError>>;

#[derive(Default)]
struct Queue {
    requests: VecDeque<(Request, Reply)>,
    /// A writer is on the blocking pool; it takes what is queued.
    writing: bool,
}

struct Inner {
    // Declared before `fl`: the reactor lets go of the descriptor before
    // the socket behind it closes.
    fd: AsyncFd<Descriptor>,
    fl: FlushMailbox,
    queue: Mutex<Queue>,
    /// One receive at a time, in the order they were asked for.
    receiving: tokio::sync::Mutex<()>,
    closing: AtomicBool,
    closed_tx: watch::Sender<bool>,
}

impl Inner {
    fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    fn mark_closing(&self) {
        self.closing.store(true, Ordering::Release);
        let _ = self.closed_tx.send(true);
    }

    fn perform(&self, req: Request) -> std::result::Result<usize, FlushError> {
        match req {
            Request::Join(g) => self.fl.join(&g).map(|_| 0),
            Request::Leave(g) => self.fl.leave(&g).map(|_| 0),
            Request::Flush(g) => self.fl.flush(&g).map(|_| 0),
            Request::Send {
                service,
                group,
                receivers,
                mess_type,
                parts,
            } => {
                let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                match receivers {
                    None => self.fl.scat_multicast(service, &group, mess_type, &parts),
                    Some(rs) => self
                        .fl
                        .scat_subgroupcast(service, &group, &rs, mess_type, &parts),
                }
            }
            Request::Disconnect => {
                // Closing twice is still a close (the core closes a lost
                // session too).
                let _ = self.fl.disconnect();
                Ok(0)
            }
        }
    }

    /// Runs on the blocking pool until the queue is empty.
    fn write_queue(self: Arc<Inner>) {
        loop {
            let (req, reply) = {
                let mut q = lock(&self.queue);
                match q.requests.pop_front() {
                    Some(r) => r,
                    None => {
                        q.writing = false;
                        return;
                    }
                }
            };
            // A caller that went away needs no answer.
            let _ = reply.send(self.perform(req));
        }
    }

    fn enqueue(
        self: &Arc<Inner>,
        req: Request,
    ) -> oneshot::Receiver<std::result::Result<usize, FlushError>> {
        let (tx, rx) = oneshot::channel();
        let mut q = lock(&self.queue);
        if let Request::Disconnect = req {
            self.mark_closing();
        }
        q.requests.push_back((req, tx));
        if !q.writing {
            q.writing = true;
            drop(q);
            let inner = self.clone();
            spawn_blocking(move || inner.write_queue());
        }
        rx
    }

    /// The next message, waiting for it; none on timeout.
    async fn receive(
        &self,
        timeout: Option<Duration>,
    ) -> std::result::Result<Option<FlushMessage>, NativeError> {
        let _turn = self.receiving.lock().await;
        let deadline = timeout.and_then(|t| tokio::time::Instant::now().checked_add(t));
        let mut closed = self.closed_tx.subscribe();
        loop {
            if self.is_closing() {
                return Err(closed_error());
            }
            // Takes what the flush layer has queued, then what the socket
            // holds, without blocking; the protocol's own messages are
            // handled (and answered) inside.
            match self.fl.try_receive() {
                Ok(Some(r)) => return Ok(Some(r.into())),
                Ok(None) => {}
                Err(e) => return Err((&e).into()),
            }
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.fd.readable() => match r {
                    // Cleared before the next try_receive, which reads
                    // whatever came since: no wake-up can be lost.
                    Ok(mut guard) => guard.clear_ready(),
                    Err(e) => {
                        return Err((&SpreadError::NetErrorOnSession(e.to_string())).into())
                    }
                },
                _ = closed.changed() => {}
                _ = sleep => return Ok(None),
            }
        }
    }
}

/// A connected Flush Spread session (use `connectFlush`).
#[napi]
pub struct NativeFlushMailbox {
    inner: Arc<Inner>,
}

impl Drop for NativeFlushMailbox {
    /// A mailbox collected without `close()` ends its session, and any
    /// receive still waiting ends with it.
    fn drop(&mut self) {
        self.inner.mark_closing();
        let _ = self.inner.fl.disconnect();
    }
}

fn check_message_type(mess_type: i32) -> Result<i16> {
    i16::try_from(mess_type).map_err(|_| {
        napi::Error::new(
            Status::InvalidArg,
            format!("message type {mess_type} does not fit in 16 bits"),
        )
    })
}

type Answer<'env> = PromiseRaw<'env, Either<u32, NativeError>>;

#[napi]
impl NativeFlushMailbox {
    /// This session's private group, `#name#daemon`.
    #[napi(getter)]
    pub fn private_group(&self) -> String {
        self.inner.fl.private_group().to_string_lossy()
    }

    /// The socket descriptor; messages may be queued already
    /// (`moreMsgs()`) when it is not readable.
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        self.inner.fl.raw_fd()
    }

    fn request<'env>(&self, env: &'env Env, req: Request) -> Result<Answer<'env>> {
        let rx = self.inner.enqueue(req);
        env.spawn_future(async move {
            Ok(match rx.await {
                Ok(Ok(n)) => Either::A(n as u32),
                Ok(Err(e)) => Either::B((&e).into()),
                Err(_) => Either::B(closed_error()),
            })
        })
    }

    /// Joins `group` (FL_join). Resolves with 0 or the error.
    #[napi(ts_return_type = "Promise<number | NativeError>")]
    pub fn join<'env>(&self, env: &'env Env, group: String) -> Result<Answer<'env>> {
        self.request(env, Request::Join(group))
    }

    /// Leaves `group` (FL_leave).
    #[napi(ts_return_type = "Promise<number | NativeError>")]
    pub fn leave<'env>(&self, env: &'env Env, group: String) -> Result<Answer<'env>> {
        self.request(env, Request::Leave(group))
    }

    /// Consents to the next view of `group` (FL_flush).
    #[napi(ts_return_type = "Promise<number | NativeError>")]
    pub fn flush<'env>(&self, env: &'env Env, group: String) -> Result<Answer<'env>> {
        self.request(env, Request::Flush(group))
    }

    /// Sends the concatenation of `parts` to the view of `group`
    /// (FL_scat_multicast), or with `receivers` to those members only
    /// (FL_scat_subgroupcast). Resolves with the bytes sent or the error.
    #[napi(ts_return_type = "Promise<number | NativeError>")]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        service: u32,
        group: String,
        receivers: Option<Vec<String>>,
        mess_type: i32,
        parts: Vec<Uint8Array>,
    ) -> Result<Answer<'env>> {
        let mess_type = check_message_type(mess_type)?;
        let receivers =
            receivers.map(|rs| rs.iter().map(|r| GroupName::from(r.as_str())).collect());
        let parts = parts.iter().map(|p| p.to_vec()).collect();
        self.request(
            env,
            Request::Send {
                service,
                group,
                receivers,
                mess_type,
                parts,
            },
        )
    }

    /// Disconnects (FL_disconnect) after the requests already made; a
    /// receive in progress ends now with an error.
    #[napi(ts_return_type = "Promise<number | NativeError>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<Answer<'env>> {
        self.request(env, Request::Disconnect)
    }

    /// The next message, or null after `timeoutMs` (0: only what can be
    /// had without waiting).
    #[napi(ts_return_type = "Promise<FlushMessage | null | NativeError>")]
    pub fn receive<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<f64>,
    ) -> Result<PromiseRaw<'env, Either<Option<FlushMessage>, NativeError>>> {
        let inner = self.inner.clone();
        // A timeout too long to represent waits for ever (it would anyway).
        let timeout =
            timeout_ms.and_then(|t| Duration::try_from_secs_f64(t.max(0.0) / 1000.0).ok());
        env.spawn_future(async move {
            Ok(match inner.receive(timeout).await {
                Ok(m) => Either::A(m),
                Err(e) => Either::B(e),
            })
        })
    }

    /// Messages queued for the application (FL_more_msgs).
    #[napi]
    pub fn more_msgs(&self) -> u32 {
        self.inner.fl.more_msgs() as u32
    }

    /// Bytes ready to be received (FL_poll): queued ones and those on the
    /// socket.
    #[napi]
    pub fn poll(&self) -> Either<u32, NativeError> {
        match self.inner.fl.poll() {
            Ok(n) => Either::A(n as u32),
            Err(e) => Either::B((&e).into()),
        }
    }
}

/// Connects a Flush mailbox to `daemon` (FL_connect: membership messages
/// are always on).
#[napi(ts_return_type = "Promise<NativeFlushMailbox | NativeError>")]
pub fn connect_flush<'env>(
    env: &'env Env,
    daemon: String,
    options: Option<ConnectOptions>,
) -> Result<PromiseRaw<'env, Either<NativeFlushMailbox, NativeError>>> {
    let defaults = client::ConnectOptions::default();
    let (mut opts, auth, tls) = match options {
        Some(o) => (
            client::ConnectOptions {
                private_name: o.name.unwrap_or_default(),
                priority: o.priority.unwrap_or(defaults.priority),
                timeout: o.timeout_ms.map(|t| Duration::from_millis(u64::from(t))),
                ..defaults
            },
            o.auth,
            o.tls,
        ),
        None => (defaults, None, None),
    };
    env.spawn_future(async move {
        let connected = spawn_blocking(move || {
            if let Some(methods) = crate::mailbox::auth_methods(auth).map_err(FlushError::from)? {
                opts.auth_methods = methods;
            }
            opts.tls = crate::mailbox::tls_options(tls).map_err(FlushError::from)?;
            FlushMailbox::connect_with(&daemon, &opts)
        })
        .await
        .map_err(|e| napi::Error::from_reason(format!("connect task failed: {e}")))?;
        let fl = match connected {
            Ok(m) => m,
            Err(e) => return Ok(Either::B((&e).into())),
        };
        // SAFETY: the descriptor stays open for as long as the registration:
        // both live in `Inner`, the `AsyncFd` declared (so dropped) first,
        // and nothing but dropping the `FlushMailbox` closes the socket.
        let registered =
            unsafe { AsyncFd::register_with_interest(Descriptor(fl.raw_fd()), Interest::READABLE) };
        let fd = match registered {
            Ok(fd) => fd,
            Err(e) => {
                let e = SpreadError::NetErrorOnSession(format!("watching the socket: {e}"));
                return Ok(Either::B((&e).into()));
            }
        };
        let (closed_tx, _) = watch::channel(false);
        Ok(Either::A(NativeFlushMailbox {
            inner: Arc::new(Inner {
                fd,
                fl,
                queue: Mutex::new(Queue::default()),
                receiving: tokio::sync::Mutex::new(()),
                closing: AtomicBool::new(false),
                closed_tx,
            }),
        }))
    })
}
