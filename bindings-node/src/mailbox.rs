//! `NativeMailbox`: one Spread session, driven from tokio.

use crate::error::NativeError;
use crate::message::{Batch, BatchBuilder};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use spread_core::client::{self, Mailbox};
use spread_core::consts::{HEADER_LEN, ILLEGAL_SESSION, MAX_GROUP_NAME};
use spread_core::{Error as SpreadError, GroupName};
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::watch;

/// How to connect; every field is optional.
#[napi(object)]
pub struct ConnectOptions {
    /// Private name (at most 10 characters); empty or absent lets the
    /// daemon pick one.
    pub name: Option<String>,
    pub priority: Option<i32>,
    /// Receive membership messages (default true).
    pub membership: Option<bool>,
    /// Limit for the connect and handshake, in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Authentication methods, run in order (default NULL).
    pub auth: Option<Vec<AuthOption>>,
    /// TLS to the daemon's TlsAddress (a daemon of ours); absent: plain.
    pub tls: Option<TlsOption>,
}

/// TLS to a daemon's TlsAddress: `caFile` (PEM) holds the CAs trusted to
/// sign the daemon's certificate, which must carry `serverName` (default:
/// the host of the daemon name, "4813@spread.example.org"); `certFile`
/// and `keyFile` (PEM, both or neither) are shown to a daemon that asks
/// for a client certificate.
#[napi(object)]
pub struct TlsOption {
    pub ca_file: String,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub server_name: Option<String>,
}

/// The core's TLS options for `tls` (None: plain).
pub fn tls_options(
    tls: Option<TlsOption>,
) -> std::result::Result<Option<client::TlsOptions>, SpreadError> {
    let Some(t) = tls else {
        return Ok(None);
    };
    let path = |p: &Option<String>| p.as_ref().map(std::path::PathBuf::from);
    let mut o = client::TlsOptions::from_files(
        std::path::Path::new(&t.ca_file),
        path(&t.cert_file).as_deref(),
        path(&t.key_file).as_deref(),
    )?;
    o.server_name = t.server_name;
    Ok(Some(o))
}

/// One authentication method: `{ method: 'NULL' }`, `{ method: 'PEERCRED' }`
/// (a daemon of ours: the kernel's credentials on the Unix socket),
/// `{ method: 'SECRET', identity, secret }` or `{ method: 'SECRET',
/// identity, secretFile }` (a daemon of ours: the secret is proved, never
/// sent; a file must be mode 0600).
#[napi(object)]
pub struct AuthOption {
    pub method: String,
    pub identity: Option<String>,
    pub secret: Option<Buffer>,
    pub secret_file: Option<String>,
}

/// The core's methods for `auth` (None: the default, NULL).
pub fn auth_methods(
    auth: Option<Vec<AuthOption>>,
) -> std::result::Result<Option<Vec<client::AuthMethod>>, SpreadError> {
    let Some(auth) = auth else {
        return Ok(None);
    };
    let bad = |m: String| SpreadError::RejectAuth(m);
    let mut out = Vec::with_capacity(auth.len());
    for a in auth {
        let m = match (a.method.as_str(), a.identity, a.secret, a.secret_file) {
            ("SECRET", Some(id), Some(secret), None) => {
                client::AuthMethod::secret(&id, secret.to_vec())?
            }
            ("SECRET", Some(id), None, Some(file)) => {
                client::AuthMethod::secret_file(&id, std::path::Path::new(&file))?
            }
            ("SECRET", ..) => {
                return Err(bad(
                    "SECRET takes an identity and one of secret, secretFile".into(),
                ))
            }
            (_, None, None, None) if a.method == client::PEERCRED_METHOD => {
                client::AuthMethod::peercred()
            }
            (name, None, None, None) => client::AuthMethod::trivial(name),
            (name, ..) => return Err(bad(format!("{name} takes no identity or secret"))),
        };
        out.push(m);
    }
    if out.is_empty() {
        return Err(bad("auth names no method".into()));
    }
    Ok(Some(out))
}

/// The result of one queued request (send, join, leave, close).
#[napi(object)]
pub struct Outcome {
    pub id: u32,
    /// Body bytes sent (multicast only).
    pub bytes: u32,
    pub error: Option<NativeError>,
}

/// What a mailbox reports to its JavaScript callback.
#[napi(
    discriminant = "op",
    discriminant_case = "camelCase",
    object_from_js = false
)]
pub enum NativeEvent {
    /// Receive `seq` got these messages; none means it timed out.
    Received {
        seq: u32,
        batch: Batch,
    },
    ReceiveFailed {
        seq: u32,
        error: NativeError,
    },
    /// Queued requests finished, in the order they were made.
    Done {
        outcomes: Vec<Outcome>,
    },
}

type EventFn = ThreadsafeFunction<NativeEvent, (), NativeEvent, Status, false>;

/// The mailbox's descriptor as tokio's reactor sees it. It closes nothing
/// when dropped: the `Mailbox` owns the socket.
pub(crate) struct Descriptor(pub(crate) RawFd);

impl AsRawFd for Descriptor {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

enum Request {
    Multicast {
        service: u32,
        groups: Vec<GroupName>,
        mess_type: i16,
        data: Vec<u8>,
    },
    Join(String),
    Leave(String),
    Disconnect,
}

impl Outcome {
    fn of(id: u32, r: std::result::Result<usize, SpreadError>) -> Outcome {
        match r {
            Ok(bytes) => Outcome {
                id,
                bytes: bytes as u32,
                error: None,
            },
            Err(e) => Outcome {
                id,
                bytes: 0,
                error: Some((&e).into()),
            },
        }
    }
}

#[derive(Default)]
struct SendQueue {
    requests: VecDeque<(u32, Request)>,
    /// A writer is on the blocking pool; it takes what is queued.
    writing: bool,
    /// Buffers the writer is done with, for the next sends. Allocating on
    /// the JavaScript thread and freeing on the writer's makes the two
    /// contend for malloc's arena lock on every message; reusing avoids it.
    spare: Vec<(Vec<GroupName>, Vec<u8>)>,
    /// Bytes known to fit in the socket's send buffer without a look: the
    /// free space at the last look, less what was written since (only the
    /// daemon's reading frees space, so this never overstates it).
    room: usize,
}

/// Spare buffers kept per mailbox, and the largest body buffer kept.
const SPARE_BUFFERS: usize = 512;
const SPARE_BUFFER_BYTES: usize = 16 * 1024;

/// The largest frame sent straight from the JavaScript thread; larger ones
/// always go through the writer.
const INLINE_FRAME_BYTES: usize = 64 * 1024;

/// Outcomes are reported in chunks of this many so the JavaScript side
/// hears of progress (and can read) while a long queue is being written.
const OUTCOME_CHUNK: usize = 256;

struct Inner {
    // Declared before `mbox`: the reactor lets go of the descriptor before
    // the socket behind it closes.
    fd: AsyncFd<Descriptor>,
    mbox: Mailbox,
    /// Released once the mailbox is closed and every result is out, so a
    /// closed mailbox no longer holds the event loop open.
    events: Mutex<Option<EventFn>>,
    sends: Mutex<SendQueue>,
    receives_in_flight: AtomicUsize,
    /// Frames written from the JavaScript thread are held until `flush`.
    corked: AtomicBool,
    /// The socket takes TCP_CORK (TCP, not a Unix socket); asked once.
    can_cork: bool,
    /// One receive at a time, in the order they were asked for.
    receiving: tokio::sync::Mutex<()>,
    closing: AtomicBool,
    closed_tx: watch::Sender<bool>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn closed_error() -> NativeError {
    NativeError {
        code: ILLEGAL_SESSION,
        name: crate::error::error_name(ILLEGAL_SESSION).to_string(),
        message: "the mailbox was closed".to_string(),
    }
}

impl Inner {
    fn emit(&self, ev: NativeEvent) {
        // Fails only once the environment is going away; nobody is left to
        // tell then.
        if let Some(events) = lock(&self.events).as_ref() {
            let _ = events.call(ev, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Lets go of the callback when nothing can report through it any more.
    fn release_if_done(&self) {
        if !self.is_closing() || self.receives_in_flight.load(Ordering::Acquire) > 0 {
            return;
        }
        let writing = lock(&self.sends).writing;
        if !writing {
            lock(&self.events).take();
        }
    }

    fn check_usable(&self) -> Result<()> {
        if self.is_closing() {
            return Err(napi::Error::from_reason(
                "ILLEGAL_SESSION: the mailbox was closed",
            ));
        }
        Ok(())
    }

    fn mark_closing(&self) {
        self.closing.store(true, Ordering::Release);
        let _ = self.closed_tx.send(true);
    }

    fn perform(
        &self,
        req: Request,
        spare: &mut Vec<(Vec<GroupName>, Vec<u8>)>,
    ) -> std::result::Result<usize, SpreadError> {
        match req {
            Request::Multicast {
                service,
                groups,
                mess_type,
                data,
            } => {
                let r = self
                    .mbox
                    .multigroup_scat_multicast(service, &groups, mess_type, &[&data]);
                if data.capacity() <= SPARE_BUFFER_BYTES {
                    spare.push((groups, data));
                }
                r
            }
            Request::Join(g) => self.mbox.join(&g).map(|_| 0),
            Request::Leave(g) => self.mbox.leave(&g).map(|_| 0),
            Request::Disconnect => {
                // Closing twice is still a close: the caller wants it gone,
                // and it is (the core closes a lost session too).
                let _ = self.mbox.disconnect();
                Ok(0)
            }
        }
    }

    /// Runs on the blocking pool until the queue is empty.
    fn write_queue(self: Arc<Inner>) {
        loop {
            let batch: Vec<(u32, Request)> = {
                let mut q = lock(&self.sends);
                if q.requests.is_empty() {
                    q.writing = false;
                    drop(q);
                    self.release_if_done();
                    return;
                }
                let n = q.requests.len().min(OUTCOME_CHUNK);
                q.requests.drain(..n).collect()
            };
            let mut spare = Vec::new();
            let outcomes = batch
                .into_iter()
                .map(|(id, req)| Outcome::of(id, self.perform(req, &mut spare)))
                .collect();
            {
                let mut q = lock(&self.sends);
                let room = SPARE_BUFFERS.saturating_sub(q.spare.len());
                spare.truncate(room);
                q.spare.append(&mut spare);
            }
            self.emit(NativeEvent::Done { outcomes });
        }
    }

    fn enqueue(self: &Arc<Inner>, id: u32, req: Request) {
        let mut q = lock(&self.sends);
        if let Request::Disconnect = req {
            // Under the queue's lock, with the writer about to be marked
            // busy: whoever then sees `closing` also sees the writer, and
            // the callback outlives the goodbye's outcome.
            self.mark_closing();
        }
        q.requests.push_back((id, req));
        // The writer's frames take room the count does not know of: look
        // again before the next send from the JavaScript thread.
        q.room = 0;
        if !q.writing {
            q.writing = true;
            drop(q);
            let inner = self.clone();
            spawn_blocking(move || inner.write_queue());
        }
    }

    /// Up to `max` whole messages, waiting for the first; none on timeout.
    async fn receive(
        &self,
        timeout: Option<Duration>,
        max: usize,
    ) -> std::result::Result<Batch, NativeError> {
        let _turn = self.receiving.lock().await;
        let deadline = timeout.and_then(|t| tokio::time::Instant::now().checked_add(t));
        let mut closed = self.closed_tx.subscribe();
        loop {
            if self.is_closing() {
                return Err(closed_error());
            }
            let mut got = BatchBuilder::default();
            while got.len() < max {
                match self.mbox.try_receive() {
                    Ok(Some(m)) => got.push(m),
                    Ok(None) => break,
                    // What was taken is not lost: it goes out now and the
                    // error comes again with the next receive.
                    Err(_) if !got.is_empty() => break,
                    Err(e) => return Err((&e).into()),
                }
            }
            if !got.is_empty() {
                return Ok(got.finish());
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
                _ = sleep => return Ok(BatchBuilder::default().finish()),
            }
        }
    }
}

/// A connected Spread session (use `connect`).
#[napi]
pub struct NativeMailbox {
    inner: Arc<Inner>,
}

impl Drop for NativeMailbox {
    /// A mailbox collected without `close()` ends its session, and any
    /// receive still waiting ends with it.
    fn drop(&mut self) {
        self.inner.mark_closing();
        self.inner.mbox.kill();
        self.inner.release_if_done();
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

#[napi]
impl NativeMailbox {
    /// This session's private group, `#name#daemon`.
    #[napi(getter)]
    pub fn private_group(&self) -> String {
        self.inner.mbox.private_group().to_string_lossy()
    }

    /// The socket descriptor: readable when a message is arriving.
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        self.inner.mbox.raw_fd()
    }

    /// Starts receive `seq`: up to `max` messages (at least one), or none
    /// after `timeoutMs`. Reported as a `received` or `receiveFailed` event.
    #[napi]
    pub fn receive(&self, seq: u32, timeout_ms: Option<f64>, max: u32) -> Result<()> {
        self.inner.check_usable()?;
        let inner = self.inner.clone();
        inner.receives_in_flight.fetch_add(1, Ordering::AcqRel);
        // A timeout too long to represent waits for ever (it would anyway).
        let timeout =
            timeout_ms.and_then(|t| Duration::try_from_secs_f64(t.max(0.0) / 1000.0).ok());
        let max = max.max(1) as usize;
        spawn(async move {
            let ev = match inner.receive(timeout, max).await {
                Ok(batch) => NativeEvent::Received { seq, batch },
                Err(error) => NativeEvent::ReceiveFailed { seq, error },
            };
            inner.emit(ev);
            inner.receives_in_flight.fetch_sub(1, Ordering::AcqRel);
            inner.release_if_done();
        });
        Ok(())
    }

    /// Up to `max` whole messages that are already there, without waiting
    /// (none if none is): the fast path while messages stream in, saving
    /// the trip through tokio. It never blocks: `try_receive` takes only
    /// what the socket holds.
    #[napi]
    pub fn try_receive(&self, max: u32) -> Either<Batch, NativeError> {
        if self.inner.is_closing() {
            return Either::B(closed_error());
        }
        let mut got = BatchBuilder::default();
        while got.len() < max.max(1) as usize {
            match self.inner.mbox.try_receive() {
                Ok(Some(m)) => got.push(m),
                Ok(None) => break,
                Err(_) if !got.is_empty() => break,
                Err(e) => return Either::B((&e).into()),
            }
        }
        Either::A(got.finish())
    }

    /// Sends `data` to `groups` (names used verbatim, as by
    /// SP_multigroup_multicast). When nothing is queued ahead and the
    /// socket has room, the frame is written now and the result returned
    /// (bytes sent or the error); otherwise it is queued as request `id`,
    /// reported later in a `done` event, and this returns null. `hold`
    /// (on TCP) keeps the frame back until `flush`, for the second and later
    /// sends of one turn of the event loop: the first leaves at once, so a
    /// lone send costs no latency.
    #[napi]
    pub fn multicast(
        &self,
        id: u32,
        service: u32,
        groups: Vec<String>,
        mess_type: i32,
        data: &[u8],
        hold: bool,
    ) -> Result<Option<Either<u32, NativeError>>> {
        self.inner.check_usable()?;
        let mess_type = check_message_type(mess_type)?;
        let mut q = lock(&self.inner.sends);
        let (mut names, mut body) = q.spare.pop().unwrap_or_default();
        names.clear();
        names.extend(groups.iter().map(|g| GroupName::from(g.as_str())));
        let frame = HEADER_LEN + names.len() * MAX_GROUP_NAME + data.len();
        let cost = Mailbox::send_cost(frame);
        if !q.writing && q.requests.is_empty() && frame <= INLINE_FRAME_BYTES && {
            // Counted at its worst cost, the kernel's bookkeeping included.
            if q.room < cost {
                q.room = self.inner.mbox.send_room();
            }
            q.room >= cost
        } {
            q.room -= cost;
            // Nothing is queued ahead, so writing now keeps the order; the
            // room check means the write returns without waiting.
            if hold
                && self.inner.can_cork
                && !self.inner.corked.load(Ordering::Relaxed)
                && self.inner.mbox.hold_sends(true)
            {
                self.inner.corked.store(true, Ordering::Relaxed);
            }
            let r = self
                .inner
                .mbox
                .multigroup_scat_multicast(service, &names, mess_type, &[data]);
            q.spare.push((names, body));
            return Ok(Some(match Outcome::of(id, r) {
                Outcome {
                    error: None, bytes, ..
                } => Either::A(bytes),
                Outcome { error: Some(e), .. } => Either::B(e),
            }));
        }
        drop(q);
        body.clear();
        body.extend_from_slice(data);
        self.inner.enqueue(
            id,
            Request::Multicast {
                service,
                groups: names,
                mess_type,
                data: body,
            },
        );
        Ok(None)
    }

    /// Releases the frames held since the last flush. The JavaScript layer
    /// calls it once per turn of the event loop that sent something, so no
    /// frame waits past the turn it was sent in.
    #[napi]
    pub fn flush(&self) {
        if self.inner.corked.swap(false, Ordering::Relaxed) {
            self.inner.mbox.hold_sends(false);
        }
    }

    #[napi]
    pub fn join(&self, id: u32, group: String) -> Result<()> {
        self.inner.check_usable()?;
        self.inner.enqueue(id, Request::Join(group));
        Ok(())
    }

    #[napi]
    pub fn leave(&self, id: u32, group: String) -> Result<()> {
        self.inner.check_usable()?;
        self.inner.enqueue(id, Request::Leave(group));
        Ok(())
    }

    /// Queues the goodbye behind the sends already queued; a receive in
    /// progress ends now with an error.
    #[napi]
    pub fn close(&self, id: u32) {
        self.inner.enqueue(id, Request::Disconnect);
    }

    /// Drops the connection at once without a goodbye (SP_kill).
    #[napi]
    pub fn kill(&self) {
        self.inner.mark_closing();
        self.inner.mbox.kill();
        self.inner.release_if_done();
    }

    /// Bytes waiting on the socket (SP_poll).
    #[napi]
    pub fn poll(&self) -> Either<u32, NativeError> {
        match self.inner.mbox.poll() {
            Ok(n) => Either::A(n as u32),
            Err(e) => Either::B((&e).into()),
        }
    }

    /// Lets the process exit while this mailbox is idle or waiting.
    #[napi]
    #[allow(deprecated)] // the per-handle ref count is exactly what is wanted here
    pub fn unref(&self, env: &Env) -> Result<()> {
        match lock(&self.inner.events).as_mut() {
            Some(events) => events.unref(env),
            None => Ok(()),
        }
    }

    /// Undoes `unref()`.
    #[napi(js_name = "ref")]
    #[allow(deprecated)]
    pub fn refer(&self, env: &Env) -> Result<()> {
        match lock(&self.inner.events).as_mut() {
            Some(events) => events.refer(env),
            None => Ok(()),
        }
    }
}

/// Connects to `daemon` (any of Spread's forms: "4803", "4803@host",
/// "/tmp/4803"); `onEvent` receives every later result of the mailbox.
#[napi(ts_return_type = "Promise<NativeMailbox | NativeError>")]
pub fn connect<'env>(
    env: &'env Env,
    daemon: String,
    options: Option<ConnectOptions>,
    on_event: Function<'env, NativeEvent, ()>,
) -> Result<PromiseRaw<'env, Either<NativeMailbox, NativeError>>> {
    let events: EventFn = on_event
        .build_threadsafe_function::<NativeEvent>()
        .callee_handled::<false>()
        .build()?;
    let options = options.unwrap_or(ConnectOptions {
        name: None,
        priority: None,
        membership: None,
        timeout_ms: None,
        auth: None,
        tls: None,
    });
    let auth = options.auth;
    let tls = options.tls;
    let defaults = client::ConnectOptions::default();
    let mut opts = client::ConnectOptions {
        private_name: options.name.unwrap_or_default(),
        priority: options.priority.unwrap_or(defaults.priority),
        membership: options.membership.unwrap_or(defaults.membership),
        timeout: options
            .timeout_ms
            .map(|t| Duration::from_millis(u64::from(t))),
        ..defaults
    };
    env.spawn_future(async move {
        let connected = spawn_blocking(move || {
            if let Some(methods) = auth_methods(auth)? {
                opts.auth_methods = methods;
            }
            opts.tls = tls_options(tls)?;
            Mailbox::connect_with(&daemon, &opts)
        })
        .await
        .map_err(|e| napi::Error::from_reason(format!("connect task failed: {e}")))?;
        let mbox = match connected {
            Ok(m) => m,
            Err(e) => return Ok(Either::B((&e).into())),
        };
        // SAFETY: the descriptor stays open for as long as the registration:
        // both live in `Inner`, the `AsyncFd` declared (so dropped) first,
        // and nothing but dropping the `Mailbox` closes the socket.
        let registered = unsafe {
            AsyncFd::register_with_interest(Descriptor(mbox.raw_fd()), Interest::READABLE)
        };
        let fd = match registered {
            Ok(fd) => fd,
            Err(e) => {
                let e = SpreadError::NetErrorOnSession(format!("watching the socket: {e}"));
                return Ok(Either::B((&e).into()));
            }
        };
        let (closed_tx, _) = watch::channel(false);
        // Uncorking a socket that is not corked changes nothing; it only
        // tells whether the option exists here.
        let can_cork = mbox.hold_sends(false);
        Ok(Either::A(NativeMailbox {
            inner: Arc::new(Inner {
                fd,
                mbox,
                events: Mutex::new(Some(events)),
                sends: Mutex::new(SendQueue::default()),
                receives_in_flight: AtomicUsize::new(0),
                corked: AtomicBool::new(false),
                can_cork,
                receiving: tokio::sync::Mutex::new(()),
                closing: AtomicBool::new(false),
                closed_tx,
            }),
        }))
    })
}
