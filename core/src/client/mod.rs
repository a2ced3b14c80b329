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

pub use addr::{parse_daemon_name, unix_socket_dir, DaemonAddr};
pub use connect::{AuthMethod, ConnectOptions};
pub use receiver::Receiver;
pub use registry::Registry;
pub use stream::Stream;

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

/// A connection to a Spread daemon.
pub struct Mailbox {
    private_group: GroupName,
    /// The session's one socket, shared by the send and receive halves.
    stream: Arc<Stream>,
    state: AtomicU8,
    /// The send half: a buffer reused for every frame.
    send: Mutex<Vec<u8>>,
    recv: Mutex<Receiver>,
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
    /// Connects as `SP_connect` does: `daemon` in any of Spread's forms,
    /// `private_name` (empty or `None` lets the daemon pick one).
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

    pub fn connect_with(daemon: &str, opts: &ConnectOptions) -> Result<Mailbox> {
        let addr = parse_daemon_name(daemon)?;
        let (stream, private_group) = connect::handshake(&addr, opts)?;
        let stream = Arc::new(stream);
        Ok(Mailbox {
            private_group,
            send: Mutex::new(Vec::with_capacity(2048)),
            recv: Mutex::new(Receiver::new(stream.clone(), private_group)),
            stream,
            state: AtomicU8::new(OPEN),
        })
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

    /// Sends to several groups (names used verbatim, cut to 31 bytes);
    /// `parts` are concatenated into the body. Returns the body length.
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
        let len = parts.iter().map(|p| p.len()).sum::<usize>() + groups.len() * MAX_GROUP_NAME;
        if len > MAX_INTEROPERABLE_PAYLOAD {
            return Err(Error::MessageTooLong {
                len,
                limit: MAX_INTEROPERABLE_PAYLOAD,
            });
        }
        self.send_frame(service_type, groups, mess_type, parts)
    }

    pub fn multicast(
        &self,
        service_type: u32,
        group: &str,
        mess_type: i16,
        data: &[u8],
    ) -> Result<usize> {
        self.multigroup_scat_multicast(service_type, &[GroupName::from(group)], mess_type, &[data])
    }

    pub fn scat_multicast(
        &self,
        service_type: u32,
        group: &str,
        mess_type: i16,
        parts: &[&[u8]],
    ) -> Result<usize> {
        self.multigroup_scat_multicast(service_type, &[GroupName::from(group)], mess_type, parts)
    }

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

    /// Joins `group`; Ok only means the request was sent.
    pub fn join(&self, group: &str) -> Result<()> {
        check_group_name(group.as_bytes())?;
        self.send_frame(JOIN_MESS, &[GroupName::from(group)], 0, &[])
            .map(|_| ())
    }

    pub fn leave(&self, group: &str) -> Result<()> {
        check_group_name(group.as_bytes())?;
        self.send_frame(LEAVE_MESS, &[GroupName::from(group)], 0, &[])
            .map(|_| ())
    }

    /// Receives the next message, blocking.
    pub fn receive(&self) -> Result<Message> {
        self.check_open()?;
        let r = lock(&self.recv).receive();
        self.after_receive(r)
    }

    /// Receives the next message if one starts arriving within `timeout`.
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

    /// Closes without a goodbye, like `SP_kill`.
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
