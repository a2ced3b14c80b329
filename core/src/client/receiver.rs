//! The receive half of a mailbox: header first, then the rest of a frame.
//!
//! It reads exactly the bytes of the message asked for and nothing ahead:
//! an application that waits for the mailbox's descriptor to turn readable
//! (select, poll, E_attach_fd) must find every undelivered message still in
//! the socket, as with libspread.
//!
//! A non-blocking receive ([`Receiver::try_receive`]) may stop in the middle
//! of a frame; what it has read so far stays here, and every later read
//! (blocking or not) goes on from there.

use super::stream::Stream;
use crate::consts::HEADER_LEN;
use crate::error::{Error, Result};
use crate::name::GroupName;
use crate::wire::frame::{parse_rest, rest_len, Limits};
use crate::wire::{Header, Message};
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

/// The receive half of a [`Mailbox`](super::Mailbox), reached through
/// [`Mailbox::with_receiver`](super::Mailbox::with_receiver).
///
/// Errors of its calls are those of
/// [`Mailbox::receive`](super::Mailbox::receive), except that a session
/// closed by another thread shows here as [`Error::ConnectionClosed`].
pub struct Receiver {
    stream: Arc<Stream>,
    /// Header bytes read so far (all of them once `pending` is set).
    head: [u8; HEADER_LEN],
    head_got: usize,
    /// A header read but whose frame is not consumed yet.
    pending: Option<Header>,
    /// The pending frame's rest as far as a non-blocking read got.
    rest: Vec<u8>,
    /// A header that could not be framed: where the next message starts is
    /// unknown, so nothing more can be read.
    lost_framing: bool,
    /// A non-blocking receive stopped inside the pending message.
    begun: bool,
    private_group: GroupName,
}

fn closed(e: io::Error) -> Error {
    match e.kind() {
        // read_exact's own words ("failed to fill whole buffer") say
        // nothing to a user: the other end went away.
        io::ErrorKind::UnexpectedEof if e.get_ref().is_none() => Error::ConnectionClosed(
            "the daemon closed the connection (it exited, or cut this session off)".into(),
        ),
        _ => Error::ConnectionClosed(format!("receiving: {e}")),
    }
}

/// The first step of a message body's buffer in a non-blocking read.
const READ_STEP: usize = 64 * 1024;

/// What one non-blocking fill of a buffer achieved.
enum Fill {
    Done,
    WouldBlock,
}

impl Receiver {
    pub(super) fn new(stream: Arc<Stream>, private_group: GroupName) -> Receiver {
        Receiver {
            stream,
            head: [0; HEADER_LEN],
            head_got: 0,
            pending: None,
            rest: Vec::new(),
            lost_framing: false,
            begun: false,
            private_group,
        }
    }

    /// The session's private group (for callers that report a membership
    /// message's `mess_type`, the receiver's index among the members).
    pub fn private_group(&self) -> &GroupName {
        &self.private_group
    }

    /// Waits until a message starts to be available; false on timeout
    /// (`None` waits for ever). True at once if part of a message is
    /// already here.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool> {
        self.check_framing()?;
        if self.pending.is_some() || self.head_got > 0 {
            return Ok(true);
        }
        self.stream.wait_readable(timeout).map_err(closed)
    }

    /// Bytes of a message that a non-blocking receive has taken from the
    /// socket but not delivered yet. (A header read by `next_header` is not
    /// counted: libspread's SP_poll after BUFFER_TOO_SHORT counts only what
    /// is left in the socket.)
    pub fn held_bytes(&self) -> usize {
        if self.begun {
            self.head_got + self.rest.len()
        } else {
            0
        }
    }

    fn check_framing(&self) -> Result<()> {
        if self.lost_framing {
            return Err(Error::NetErrorOnSession(
                "an earlier message could not be framed; kill the session".into(),
            ));
        }
        Ok(())
    }

    fn decode_head(&mut self) -> Result<Header> {
        let h = Header::decode(&self.head);
        let room = rest_len(&h, &Limits::CLIENT);
        if let Err(e) = room {
            self.lost_framing = true;
            return Err(Error::IllegalMessage(e.to_string()));
        }
        self.pending = Some(h);
        Ok(h)
    }

    /// The next frame's header; it stays pending until the frame is
    /// consumed with [`Receiver::read_rest`] or [`Receiver::skip_rest`], and
    /// calling this again returns it without reading.
    pub fn next_header(&mut self) -> Result<Header> {
        self.check_framing()?;
        if let Some(h) = self.pending {
            return Ok(h);
        }
        (&*self.stream)
            .read_exact(&mut self.head[self.head_got..])
            .map_err(closed)?;
        self.head_got = HEADER_LEN;
        self.decode_head()
    }

    fn pending_rest_len(&self) -> Result<(Header, usize)> {
        let h = self
            .pending
            .ok_or_else(|| Error::SpBug("no pending header".into()))?;
        let n = rest_len(&h, &Limits::CLIENT).map_err(|e| Error::IllegalMessage(e.to_string()))?;
        Ok((h, n))
    }

    fn consumed(&mut self) {
        self.begun = false;
        self.pending = None;
        self.head_got = 0;
        self.rest.clear();
    }

    /// Reads the rest of the pending frame into `buf` (replacing its
    /// contents) and forgets the header. Returns the header.
    ///
    /// # Errors
    ///
    /// [`Error::SpBug`] if no header is pending; [`Error::ConnectionClosed`]
    /// if the daemon hangs up or the read fails.
    pub fn read_rest(&mut self, buf: &mut Vec<u8>) -> Result<Header> {
        let (h, n) = self.pending_rest_len()?;
        buf.clear();
        buf.extend_from_slice(&self.rest);
        // Grows as the bytes arrive: a header's claimed length alone never
        // makes the client allocate it.
        let want = n - buf.len();
        buf.reserve(want.min(READ_STEP));
        let read = (&*self.stream)
            .take(want as u64)
            .read_to_end(buf)
            .map_err(closed)?;
        if read < want {
            return Err(closed(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the daemon closed the connection inside a message",
            )));
        }
        self.consumed();
        Ok(h)
    }

    /// Discards the rest of the pending frame (what `DROP_RECV` does) and
    /// returns its header.
    ///
    /// # Errors
    ///
    /// As [`Receiver::read_rest`].
    pub fn skip_rest(&mut self) -> Result<Header> {
        let (h, n) = self.pending_rest_len()?;
        let mut n = n - self.rest.len();
        let mut scratch = [0u8; 8192];
        while n > 0 {
            let k = n.min(scratch.len());
            (&*self.stream)
                .read_exact(&mut scratch[..k])
                .map_err(closed)?;
            n -= k;
        }
        self.consumed();
        Ok(h)
    }

    /// Reads one whole message.
    pub fn receive(&mut self) -> Result<Message> {
        self.next_header()?;
        let mut rest = Vec::new();
        let h = self.read_rest(&mut rest)?;
        Message::from_frame(&parse_rest(h, &rest))
    }

    /// Reads without blocking into `buf[*got..]` until it is full.
    fn fill(stream: &Stream, buf: &mut [u8], got: &mut usize) -> Result<Fill> {
        while *got < buf.len() {
            match stream.recv_nonblocking(&mut buf[*got..]) {
                Ok(0) => {
                    return Err(closed(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the daemon closed the connection",
                    )))
                }
                Ok(k) => *got += k,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Fill::WouldBlock),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(closed(e)),
            }
        }
        Ok(Fill::Done)
    }

    /// The next message if all of it can be read without blocking; `None`
    /// when the socket has no more of it yet (what was read is kept).
    pub fn try_receive(&mut self) -> Result<Option<Message>> {
        self.check_framing()?;
        if self.pending.is_none() {
            let mut got = self.head_got;
            let r = Receiver::fill(&self.stream, &mut self.head, &mut got);
            self.head_got = got;
            if let Fill::WouldBlock = r? {
                self.begun = got > 0;
                return Ok(None);
            }
            self.decode_head()?;
        }
        let (h, n) = self.pending_rest_len()?;
        while self.rest.len() < n {
            // In steps that double at most: the buffer follows what arrived,
            // not what the header claims.
            let mut got = self.rest.len();
            let step = (n - got).min(got.max(READ_STEP));
            self.rest.resize(got + step, 0);
            let r = Receiver::fill(&self.stream, &mut self.rest, &mut got);
            self.rest.truncate(got);
            if let Fill::WouldBlock = r? {
                self.begun = true;
                return Ok(None);
            }
        }
        let rest = std::mem::take(&mut self.rest);
        self.consumed();
        Message::from_frame(&parse_rest(h, &rest)).map(Some)
    }
}
