//! One client connection: its admission, its handshake, then a reader task
//! feeding the core and a writer task draining the session's outbound
//! queue.

use super::admission::{Entry, Permit, PATIENCE};
use super::backlog::{discard, Backlog, Queued};
use super::handshake::{handshake, HandshakeContext};
use super::refusals::Refusal;
use super::validate::{check_header_within, Verdict};
use super::{Cmd, Outbound, Shared};
use crate::auth::Who;
use crate::engine::{SessionId, SessionInfo};
use bytes::{Buf, BytesMut};
use spread_core::consts::{HEADER_LEN, KILL_MESS};
use spread_core::name::GroupName;
use spread_core::wire::Header;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tracing::debug;

const BATCH_BYTES: usize = 256 * 1024;

/// A client connection as sessions see it: split into a reader and a
/// writer once its handshake is done.
pub trait Connection: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    type Reader: AsyncRead + Unpin + Send + 'static;
    type Writer: AsyncWrite + Unpin + Send + 'static;
    fn split(self) -> (Self::Reader, Self::Writer);
    /// Writes `bytes` if the socket takes them at once; never waits.
    fn write_now(&mut self, bytes: &[u8]);
}

impl Connection for tokio::net::TcpStream {
    type Reader = tokio::net::tcp::OwnedReadHalf;
    type Writer = tokio::net::tcp::OwnedWriteHalf;
    fn split(self) -> (Self::Reader, Self::Writer) {
        self.into_split()
    }
    fn write_now(&mut self, bytes: &[u8]) {
        let _ = self.try_write(bytes);
    }
}

impl Connection for tokio::net::UnixStream {
    type Reader = tokio::net::unix::OwnedReadHalf;
    type Writer = tokio::net::unix::OwnedWriteHalf;
    fn split(self) -> (Self::Reader, Self::Writer) {
        self.into_split()
    }
    fn write_now(&mut self, bytes: &[u8]) {
        let _ = self.try_write(bytes);
    }
}

/// Writes `bytes` and flushes: a TLS stream may keep the last records of
/// a write that met a full socket until flushed (a plain socket keeps
/// nothing, and its flush does nothing).
pub(super) async fn write_out<W: AsyncWrite + Unpin>(
    w: &mut W,
    bytes: &[u8],
) -> std::io::Result<()> {
    w.write_all(bytes).await?;
    w.flush().await
}

fn quota_byte() -> [u8; 1] {
    [spread_core::wire::handshake::code_byte(
        spread_core::consts::REJECT_QUOTA,
    )]
}

/// A connection just accepted: served now, or once a handshake permit is
/// free, or turned away with REJECT_QUOTA without waiting for anything.
pub fn admit<C: Connection>(mut conn: C, who: Who, peer_text: String, shared: &Arc<Shared>) {
    let peer = who.peer;
    // A full daemon says so at once, as 5.0.1 does; the slot itself is
    // taken only when the handshake has succeeded.
    if shared.registry.is_full() {
        conn.write_now(&quota_byte());
        let line = format!("refused {peer_text}: session limit reached");
        shared.refusals.note(Refusal::SessionLimit, line);
        return;
    }
    let shared = shared.clone();
    match shared.admission.enter(peer) {
        Entry::Now(permit) => {
            tokio::spawn(serve(conn, permit, who, peer_text, shared));
        }
        Entry::Wait(ticket) => {
            tokio::spawn(async move {
                let mut conn = conn;
                match ticket.permit(PATIENCE).await {
                    Some(permit) => serve(conn, permit, who, peer_text, shared).await,
                    None => {
                        conn.write_now(&quota_byte());
                        let line = format!(
                            "refused {peer_text}: no turn to hand shake within {PATIENCE:?}"
                        );
                        shared.refusals.note(Refusal::NoTurn, line);
                    }
                }
            });
        }
        Entry::Full => {
            conn.write_now(&quota_byte());
            let line = format!("refused {peer_text}: too many connections waiting to hand shake");
            shared.refusals.note(Refusal::NoTurn, line);
        }
    }
}

/// Runs a connection: its handshake (holding `permit`), then its session.
/// Returns when the session is over.
async fn serve<C: Connection>(
    mut stream: C,
    permit: Permit,
    who: Who,
    peer_text: String,
    shared: Arc<Shared>,
) {
    let number = shared.next_id.fetch_add(1, Ordering::Relaxed);
    // The policy in force when the client came (a reload may replace it).
    let auth = shared.auth_policy();
    let ctx = HandshakeContext {
        daemon_name: &shared.daemon_name,
        auth: &auth,
        registry: &shared.registry,
        step_timeout: shared.step_timeout,
        session_number: number,
        max_message_size: shared.max_message_size(),
    };
    let result = handshake(&mut stream, who, &ctx).await;
    drop(permit);
    let accepted = match result {
        Ok(a) => a,
        Err(refused) => {
            let line = format!("refused {peer_text}: {}", refused.why);
            match refused.auth {
                Some(reason) => {
                    shared.auth_refused[reason].fetch_add(1, Ordering::Relaxed);
                    shared.refusals.note(Refusal::Auth(reason), line);
                }
                None => {
                    shared.handshakes_failed.fetch_add(1, Ordering::Relaxed);
                    shared.refusals.note(Refusal::Handshake, line);
                }
            }
            return;
        }
    };
    let id = SessionId(number);
    debug!(target: "spread::session", "{id}: {} connected from {peer_text}", accepted.private_group);
    let (tx, rx) = mpsc::unbounded_channel();
    let backlog = shared.backlogs.session();
    let (abort_tx, abort_rx) = watch::channel(false);
    let (pause_tx, pause_rx) = watch::channel(false);
    let open = Cmd::Open {
        id,
        info: SessionInfo {
            private_group: accepted.private_group,
            membership: accepted.membership,
        },
        name: accepted.private_name.clone(),
        peer: peer_text,
        out: Outbound {
            tx,
            backlog: backlog.clone(),
            abort: abort_tx,
            pause: pause_tx,
        },
        large_messages: accepted.large_messages,
        who: accepted.who,
    };
    if shared.core.send(open).await.is_err() {
        return;
    }
    let (r, w) = stream.split();
    tokio::spawn(write_loop(
        w,
        rx,
        backlog,
        abort_rx.clone(),
        id,
        shared.core.clone(),
    ));
    let me = (accepted.private_group, accepted.large_messages);
    let reason = read_loop(r, id, me, &shared, abort_rx, pause_rx).await;
    shared.registry.mark_closing(&accepted.private_name);
    if let Some(reason) = reason {
        let _ = shared.core.send(Cmd::Gone { id, reason }).await;
    }
}

async fn aborted(abort: &mut watch::Receiver<bool>) {
    let _ = abort.wait_for(|a| *a).await;
}

/// Reads frames until the client disconnects or breaks the protocol.
/// Returns why the session is gone, or None if the core already knows.
async fn read_loop<R: AsyncRead + Unpin>(
    mut r: R,
    id: SessionId,
    (me, large_messages): (GroupName, bool),
    shared: &Shared,
    mut abort: watch::Receiver<bool>,
    mut pause: watch::Receiver<bool>,
) -> Option<String> {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut discard = 0usize;
    loop {
        if discard > 0 {
            let k = discard.min(buf.len());
            buf.advance(k);
            discard -= k;
        }
        while discard == 0 && buf.len() >= HEADER_LEN {
            let header = Header::decode(buf[..HEADER_LEN].try_into().expect("48 bytes"));
            let limit = shared.size_limit(large_messages);
            let cmd = match check_header_within(&header, &me, limit) {
                Verdict::Drop(why) => return Some(format!("protocol violation: {why}")),
                Verdict::Accept { rest } => {
                    if buf.len() < HEADER_LEN + rest {
                        buf.reserve(HEADER_LEN + rest - buf.len());
                        break;
                    }
                    let frame = buf.split_to(HEADER_LEN + rest).freeze();
                    Cmd::Request { id, header, frame }
                }
                Verdict::Refuse {
                    names,
                    discard: body,
                    why,
                } => {
                    if buf.len() < HEADER_LEN + names {
                        break;
                    }
                    buf.advance(HEADER_LEN);
                    let names = buf.split_to(names).freeze();
                    discard = body;
                    Cmd::Refuse {
                        id,
                        header,
                        names,
                        why,
                    }
                }
            };
            if shared.core.send(cmd).await.is_err() {
                return None;
            }
            if header.service_type & KILL_MESS != 0 {
                // After its disconnect request nothing more is read.
                return None;
            }
            if discard > 0 {
                let k = discard.min(buf.len());
                buf.advance(k);
                discard -= k;
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        // Paused: the client's socket fills and the client blocks.
        while *pause.borrow_and_update() {
            tokio::select! {
                biased;
                _ = aborted(&mut abort) => return None,
                r = pause.changed() => if r.is_err() { return None },
            }
        }
        let n = tokio::select! {
            biased;
            _ = aborted(&mut abort) => return None,
            n = r.read_buf(&mut buf) => n,
        };
        match n {
            Ok(0) => return Some("connection closed by the client".into()),
            Ok(_) => {}
            Err(e) => return Some(format!("read error: {e}")),
        }
    }
}

/// Writes queued frames in batches until the core closes the session.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut w: W,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    backlog: Backlog,
    mut abort: watch::Receiver<bool>,
    id: SessionId,
    core: mpsc::Sender<Cmd>,
) {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    loop {
        let first = tokio::select! {
            biased;
            _ = aborted(&mut abort) => break,
            m = rx.recv() => match m { Some(m) => m, None => break },
        };
        // A frame taken for writing is no longer "queued": what counts
        // against the limits is what waits behind the socket.
        let first = first.frame;
        backlog.taken(first.len());
        let result = if first.len() >= BATCH_BYTES {
            tokio::select! {
                biased;
                _ = aborted(&mut abort) => break,
                r = write_out(&mut w, &first) => r,
            }
        } else {
            batch.clear();
            batch.extend_from_slice(&first);
            while batch.len() < BATCH_BYTES {
                match rx.try_recv() {
                    Ok(m) => {
                        batch.extend_from_slice(&m.frame);
                        backlog.taken(m.frame.len());
                    }
                    Err(_) => break,
                }
            }
            tokio::select! {
                biased;
                _ = aborted(&mut abort) => break,
                r = write_out(&mut w, &batch) => r,
            }
        };
        if let Err(e) = result {
            let _ = core
                .send(Cmd::Gone {
                    id,
                    reason: format!("write error: {e}"),
                })
                .await;
            break;
        }
    }
    discard(&mut rx, &backlog);
    let _ = w.shutdown().await;
}
