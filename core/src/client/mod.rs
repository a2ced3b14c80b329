//! `Mailbox`: a blocking, thread-safe Spread client session.
//!
//! One thread may block in [`Mailbox::receive`] while others send: the send
//! and receive halves have their own locks and their own handle on the
//! socket. [`Mailbox::disconnect`] shuts the socket down, so a receive in
//! progress returns an error rather than reading from a reused descriptor.

mod addr;
mod connect;
mod receiver;
mod registry;
mod stream;
mod tls;

pub use addr::{daemon_host, parse_daemon_name, unix_socket_dir, DaemonAddr};
pub use connect::{secret_exchange, AuthMethod, ConnectOptions, PEERCRED_METHOD};
pub use receiver::Receiver;
pub use registry::Registry;
pub use stream::{set_client_socket_buffers, Stream, CLIENT_SOCKET_BUFFER};
pub use tls::TlsOptions;

use crate::consts::*;
use crate::error::{Error, Result};
use crate::name::{check_group_name, GroupName};
use crate::wire::encode::request_head;
use crate::wire::{ByteOrder, Message};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

const OPEN: u8 = 0;
const BROKEN: u8 = 1;
const CLOSED: u8 = 2;

/// A connection to a Spread daemon: one session, what libspread calls a
/// mailbox. Share it between threads by reference or `Arc`; dropping it
/// closes the session as [`Mailbox::kill`] does.
pub struct Mailbox {
    private_group: GroupName,
    /// The session's one socket, shared by the send and receive halves.
    stream: Arc<Stream>,
    state: AtomicU8,
    /// The send half: a buffer reused for every frame.
    send: Mutex<Vec<u8>>,
    recv: Mutex<Receiver>,
    /// The daemon's MaxMessageSize when it offered one and we took it.
    max_body: Option<usize>,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox")
            .field("private_group", &self.private_group)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Mailbox {
    /// Connects as `SP_connect` does: `daemon` in any form
    /// [`parse_daemon_name`] reads, `private_name` (empty or `None` lets the
    /// daemon pick one; at most 10 bytes are sent), `priority` (one of the
    /// `*_PRIORITY` constants), `membership` to receive membership messages.
    /// The NULL auth method, no timeout.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::connect_with`].
    pub fn connect(
        daemon: &str,
        private_name: Option<&str>,
        priority: i32,
        membership: bool,
    ) -> Result<Mailbox> {
        let opts = ConnectOptions {
            private_name: private_name.unwrap_or("").to_string(),
            priority,
            membership,
            ..ConnectOptions::default()
        };
        Mailbox::connect_with(daemon, &opts)
    }

    /// Connects with every option, as `SP_connect_timeout` does (and more:
    /// auth methods of the caller's own).
    ///
    /// # Errors
    ///
    /// [`Error::IllegalSpread`] for a daemon name that cannot be parsed or
    /// resolved, [`Error::CouldNotConnect`] when no socket opens,
    /// [`Error::ConnectionClosed`] when the daemon hangs up or the timeout
    /// runs out during the handshake, [`Error::RejectAuth`] when the daemon
    /// does not offer a method of `opts` or a method fails, and the
    /// daemon's refusal ([`Error::RejectQuota`], [`Error::RejectIllegalName`],
    /// [`Error::RejectNotUnique`], [`Error::RejectVersion`], ...).
    pub fn connect_with(daemon: &str, opts: &ConnectOptions) -> Result<Mailbox> {
        let addr = parse_daemon_name(daemon)?;
        let session = connect::handshake(&addr, opts, daemon_host(daemon).as_deref())?;
        let (private_group, max_body) = (session.private_group, session.max_body);
        let stream = Arc::new(session.stream);
        Ok(Mailbox {
            private_group,
            max_body,
            send: Mutex::new(Vec::with_capacity(2048)),
            recv: Mutex::new(Receiver::new(stream.clone(), private_group)),
            stream,
            state: AtomicU8::new(OPEN),
        })
    }

    /// The largest body this session may send to `groups` groups (at
    /// most [`MAX_GROUPS_PER_MESSAGE`]): 5.0.1's limit (143,151 bytes
    /// less 32 per group), or the daemon's `MaxMessageSize` when it
    /// offered large messages.
    pub fn max_message_len(&self, groups: usize) -> usize {
        match self.max_body {
            Some(n) => n,
            None => MAX_INTEROPERABLE_PAYLOAD.saturating_sub(groups * MAX_GROUP_NAME),
        }
    }

    /// `#private#daemon`: this session's own group, the sender of its messages.
    pub fn private_group(&self) -> &GroupName {
        &self.private_group
    }

    fn check_open(&self) -> Result<()> {
        match self.state.load(Ordering::Acquire) {
            OPEN => Ok(()),
            BROKEN => Err(Error::NetErrorOnSession(
                "an earlier call lost the connection".into(),
            )),
            _ => Err(Error::IllegalSession),
        }
    }

    fn mark_broken(&self) {
        let _ = self
            .state
            .compare_exchange(OPEN, BROKEN, Ordering::AcqRel, Ordering::Acquire);
    }

    fn send_frame(
        &self,
        service_type: u32,
        groups: &[GroupName],
        mess_type: i16,
        parts: &[&[u8]],
    ) -> Result<usize> {
        self.check_open()?;
        self.write_frame(service_type, groups, mess_type, parts)
    }

    fn write_frame(
        &self,
        service_type: u32,
        groups: &[GroupName],
        mess_type: i16,
        parts: &[&[u8]],
    ) -> Result<usize> {
        let mut buf = lock(&self.send);
        self.write_locked(&mut buf, service_type, groups, mess_type, parts)
    }

    /// Builds the frame in `buf` (the send half's buffer, locked by the
    /// caller, so frames of several threads never interleave) and writes it.
    fn write_locked(
        &self,
        buf: &mut Vec<u8>,
        service_type: u32,
        groups: &[GroupName],
        mess_type: i16,
        parts: &[&[u8]],
    ) -> Result<usize> {
        let body_len: usize = parts.iter().map(|p| p.len()).sum();
        buf.clear();
        buf.extend_from_slice(&request_head(
            service_type,
            &self.private_group,
            groups,
            mess_type,
            body_len,
            ByteOrder::NATIVE,
        ));
        for p in parts {
            buf.extend_from_slice(p);
        }
        (&*self.stream).write_all(buf).map_err(|e| {
            self.mark_broken();
            Error::ConnectionClosed(format!("sending: {e}"))
        })?;
        Ok(body_len)
    }

    fn check_service(service_type: u32) -> Result<()> {
        let forbidden =
            REJECT_MESS | JOIN_MESS | LEAVE_MESS | KILL_MESS | REG_MEMB_MESS | TRANSITION_MESS;
        if single_service_bit(service_type).is_none() || service_type & forbidden != 0 {
            return Err(Error::IllegalService(service_type));
        }
        Ok(())
    }

    /// Sends to several groups, like `SP_multigroup_scat_multicast`: `parts`
    /// are concatenated into the body; `groups` go out as given (a field
    /// built by [`GroupName::new`] holds at most 31 bytes). `service_type` is
    /// one service bit, optionally with [`SELF_DISCARD`]; `mess_type` is the
    /// application's own. Returns the body length in bytes.
    ///
    /// # Errors
    ///
    /// [`Error::IllegalService`] for a service type without exactly one
    /// service bit or with a bit a client may not send,
    /// [`Error::IllegalGroup`] for more than [`MAX_GROUPS_PER_MESSAGE`]
    /// groups, [`Error::MessageTooLong`] when body plus 32 bytes per group
    /// exceeds [`MAX_INTEROPERABLE_PAYLOAD`] (or the body the daemon's
    /// `MaxMessageSize`, [`Mailbox::max_message_len`]), [`Error::ConnectionClosed`]
    /// when the write fails (the session is lost), and for a session already
    /// lost or closed [`Error::NetErrorOnSession`] or
    /// [`Error::IllegalSession`]. Group names are not checked.
    pub fn multigroup_scat_multicast(
        &self,
        service_type: u32,
        groups: &[GroupName],
        mess_type: i16,
        parts: &[&[u8]],
    ) -> Result<usize> {
        Mailbox::check_service(service_type)?;
        if groups.len() > MAX_GROUPS_PER_MESSAGE {
            return Err(Error::IllegalGroup(format!(
                "{} destination groups (at most {MAX_GROUPS_PER_MESSAGE})",
                groups.len()
            )));
        }
        let body = parts.iter().map(|p| p.len()).sum::<usize>();
        let limit = self.max_message_len(groups.len());
        if body > limit {
            let names = groups.len() * MAX_GROUP_NAME;
            return Err(match self.max_body {
                None => Error::MessageTooLong {
                    len: body + names,
                    limit: limit + names,
                },
                Some(_) => Error::MessageTooLong { len: body, limit },
            });
        }
        self.send_frame(service_type, groups, mess_type, parts)
    }

    /// Sends `data` to one group, like `SP_multicast` (the name is cut to 31
    /// bytes, not checked). Returns the body length.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::multigroup_scat_multicast`].
    pub fn multicast(
        &self,
        service_type: u32,
        group: &str,
        mess_type: i16,
        data: &[u8],
    ) -> Result<usize> {
        self.multigroup_scat_multicast(service_type, &[GroupName::from(group)], mess_type, &[data])
    }

    /// Sends the concatenation of `parts` to one group, like
    /// `SP_scat_multicast`. Returns the body length.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::multigroup_scat_multicast`].
    pub fn scat_multicast(
        &self,
        service_type: u32,
        group: &str,
        mess_type: i16,
        parts: &[&[u8]],
    ) -> Result<usize> {
        self.multigroup_scat_multicast(service_type, &[GroupName::from(group)], mess_type, parts)
    }

    /// Sends `data` to several groups, like `SP_multigroup_multicast` (each
    /// name cut to 31 bytes). Returns the body length.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::multigroup_scat_multicast`].
    pub fn multigroup_multicast(
        &self,
        service_type: u32,
        groups: &[&str],
        mess_type: i16,
        data: &[u8],
    ) -> Result<usize> {
        let groups: Vec<GroupName> = groups.iter().map(|g| GroupName::from(*g)).collect();
        self.multigroup_scat_multicast(service_type, &groups, mess_type, &[data])
    }

    /// Joins `group`, like `SP_join`. `Ok` only means the request was sent;
    /// the membership message (or a reject) tells the outcome.
    ///
    /// # Errors
    ///
    /// [`Error::IllegalGroup`] for a name [`check_group_name`] refuses;
    /// otherwise as a send ([`Mailbox::multigroup_scat_multicast`]).
    pub fn join(&self, group: &str) -> Result<()> {
        check_group_name(group.as_bytes())?;
        self.send_frame(JOIN_MESS, &[GroupName::from(group)], 0, &[])
            .map(|_| ())
    }

    /// Leaves `group`, like `SP_leave`; `Ok` only means the request was sent.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::join`].
    pub fn leave(&self, group: &str) -> Result<()> {
        check_group_name(group.as_bytes())?;
        self.send_frame(LEAVE_MESS, &[GroupName::from(group)], 0, &[])
            .map(|_| ())
    }

    /// Receives the next message, blocking; like `SP_receive` with buffers
    /// that always fit.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] when the daemon hangs up or the read fails
    /// (the session is then lost), [`Error::IllegalSession`] when this or
    /// another thread disconnected the session, [`Error::NetErrorOnSession`]
    /// for a session already lost or a stream that could not be framed, and
    /// [`Error::IllegalMessage`] for a malformed message (a header whose
    /// lengths are negative or huge also loses the framing).
    pub fn receive(&self) -> Result<Message> {
        self.check_open()?;
        let r = lock(&self.recv).receive();
        self.after_receive(r)
    }

    /// Receives the next message if one starts arriving within `timeout`
    /// (`Ok(None)` if not); once it starts, waits for all of it.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::receive`].
    pub fn receive_timeout(&self, timeout: Duration) -> Result<Option<Message>> {
        self.check_open()?;
        let mut rx = lock(&self.recv);
        match rx.wait(Some(timeout)) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => return self.after_receive(Err(e)),
        }
        let r = rx.receive();
        drop(rx);
        self.after_receive(r).map(Some)
    }

    /// The next message if it can be had without blocking: for event loops
    /// that wait for [`Mailbox::raw_fd`] to turn readable. `None` when no
    /// whole message is there yet (a partly arrived one is kept and
    /// completed by a later call), or when another thread is receiving.
    ///
    /// # Errors
    ///
    /// As [`Mailbox::receive`].
    pub fn try_receive(&self) -> Result<Option<Message>> {
        self.check_open()?;
        let mut rx = match self.recv.try_lock() {
            Ok(rx) => rx,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
        };
        let r = rx.try_receive();
        drop(rx);
        self.after_receive(r)
    }

    /// Runs `f` with the receive half locked: for callers (the C ABI) that
    /// need libspread's buffer semantics on top of header-then-rest reads.
    /// An error `f` returns that means the connection closed marks the
    /// session lost, as a receive does.
    ///
    /// # Errors
    ///
    /// What `f` returns; and, without running `f`, [`Error::IllegalSession`]
    /// or [`Error::NetErrorOnSession`] for a session closed or lost.
    pub fn with_receiver<R>(&self, f: impl FnOnce(&mut Receiver) -> Result<R>) -> Result<R> {
        self.check_open()?;
        let r = f(&mut lock(&self.recv));
        self.after_receive(r)
    }

    fn after_receive<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(Error::ConnectionClosed(_)) = &r {
            if self.state.load(Ordering::Acquire) == CLOSED {
                return Err(Error::IllegalSession);
            }
            self.mark_broken();
        }
        r
    }

    /// Bytes waiting to be read (0 = nothing); like `SP_poll`. Counts the
    /// part of a message that a non-blocking receive has already taken in.
    ///
    /// # Errors
    ///
    /// [`Error::IllegalSession`] or [`Error::NetErrorOnSession`] for a
    /// session closed or lost, and [`Error::NetErrorOnSession`] when the
    /// socket cannot be asked.
    pub fn poll(&self) -> Result<usize> {
        self.check_open()?;
        let held = self.recv.try_lock().map_or(0, |rx| rx.held_bytes());
        self.stream
            .readable_bytes()
            .map(|n| n + held)
            .map_err(|e| Error::NetErrorOnSession(e.to_string()))
    }

    /// Sends KILL and closes, like `SP_disconnect`. A receive blocked in
    /// another thread returns an error. A session whose connection is
    /// already lost is closed all the same (no KILL); only a second
    /// disconnect is an error.
    ///
    /// # Errors
    ///
    /// [`Error::IllegalSession`] if the session was already disconnected or
    /// killed.
    pub fn disconnect(&self) -> Result<()> {
        // Closed before the goodbye is sent: a receive in another thread
        // that then sees the daemon hang up reports the session closed by
        // us (ILLEGAL_SESSION), not lost.
        match self.state.swap(CLOSED, Ordering::AcqRel) {
            CLOSED => return Err(Error::IllegalSession),
            OPEN => self.say_goodbye(),
            _ => {}
        }
        let _ = self.stream.shutdown();
        Ok(())
    }

    /// Sends KILL if that cannot block: not while another thread is in the
    /// middle of a send (a stalled daemon would hold both), nor into a full
    /// socket. Without it the daemon sees the connection close, which ends
    /// the session the same way.
    fn say_goodbye(&self) {
        if let Ok(mut buf) = self.send.try_lock() {
            if self.stream.send_room() >= Mailbox::send_cost(HEADER_LEN + MAX_GROUP_NAME) {
                let me = [self.private_group];
                let _ = self.write_locked(&mut buf, KILL_MESS, &me, 0, &[]);
            }
        }
    }

    /// Closes without a goodbye, like `SP_kill`; a second call does nothing.
    pub fn kill(&self) {
        if self.state.swap(CLOSED, Ordering::AcqRel) != CLOSED {
            let _ = self.stream.shutdown();
        }
    }

    /// Bytes a send can write now without blocking (0 when unknown): lets
    /// an event loop send from its own thread when that cannot stall it.
    /// A frame takes its header, 32 bytes per group and its body.
    pub fn send_room(&self) -> usize {
        self.stream.send_room()
    }

    /// The most that writing a frame of `frame_len` bytes takes of
    /// [`Mailbox::send_room`]: the kernel charges its bookkeeping to the
    /// buffer too, per write on a Unix socket (measured: 768 bytes for a
    /// 100-byte write, 2,304 for 1,080).
    pub const fn send_cost(frame_len: usize) -> usize {
        2 * frame_len + 2048
    }

    /// On TCP, holds the frames sent from now on until `hold_sends(false)`,
    /// so that a burst leaves in full segments (one wake-up of the daemon
    /// instead of one per frame). False, and nothing held, on a Unix socket.
    pub fn hold_sends(&self, hold: bool) -> bool {
        self.stream.set_cork(hold)
    }

    /// The socket descriptor (what libspread uses as the mailbox).
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&*self.stream)
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        self.kill();
    }
}
