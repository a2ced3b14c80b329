//! The receive half of a mailbox: header first, then the rest of a frame.
//!
//! It reads exactly the bytes of the message asked for and nothing ahead:
//! an application that waits for the mailbox's descriptor to turn readable
//! (select, poll, E_attach_fd) must find every undelivered message still in
//! the socket, as with libspread.

use super::stream::Stream;
use crate::consts::HEADER_LEN;
use crate::error::{Error, Result};
use crate::name::GroupName;
use crate::wire::frame::{parse_rest, rest_len, Limits};
use crate::wire::{Header, Message};
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

pub struct Receiver {
    stream: Arc<Stream>,
    /// A header read but whose frame is not consumed yet.
    pending: Option<Header>,
    private_group: GroupName,
}

fn closed(e: io::Error) -> Error {
    Error::ConnectionClosed(format!("receiving: {e}"))
}

impl Receiver {
    pub(super) fn new(stream: Arc<Stream>, private_group: GroupName) -> Receiver {
        Receiver {
            stream,
            pending: None,
            private_group,
        }
    }

    pub fn private_group(&self) -> &GroupName {
        &self.private_group
    }

    /// Waits until a message starts to be available; false on timeout.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool> {
        if self.pending.is_some() {
            return Ok(true);
        }
        self.stream.wait_readable(timeout).map_err(closed)
    }

    /// The next frame's header; it stays pending until the frame is
    /// consumed with [`Receiver::read_rest`] or [`Receiver::skip_rest`].
    pub fn next_header(&mut self) -> Result<Header> {
        if let Some(h) = self.pending {
            return Ok(h);
        }
        let mut b = [0u8; HEADER_LEN];
        (&*self.stream).read_exact(&mut b).map_err(closed)?;
        let h = Header::decode(&b);
        if h.num_groups < 0 || h.data_len < 0 {
            return Err(Error::IllegalMessage(format!(
                "negative length in header (num_groups {}, data_len {})",
                h.num_groups, h.data_len
            )));
        }
        self.pending = Some(h);
        Ok(h)
    }

    fn pending_rest_len(&self) -> Result<(Header, usize)> {
        let h = self
            .pending
            .ok_or_else(|| Error::SpBug("no pending header".into()))?;
        let n = rest_len(&h, &Limits::CLIENT).map_err(|e| Error::IllegalMessage(e.to_string()))?;
        Ok((h, n))
    }

    /// Reads the rest of the pending frame into `buf` (replacing its
    /// contents) and forgets the header.
    pub fn read_rest(&mut self, buf: &mut Vec<u8>) -> Result<Header> {
        let (h, n) = self.pending_rest_len()?;
        buf.clear();
        buf.resize(n, 0);
        (&*self.stream).read_exact(buf).map_err(closed)?;
        self.pending = None;
        Ok(h)
    }

    /// Discards the rest of the pending frame.
    pub fn skip_rest(&mut self) -> Result<Header> {
        let (h, mut n) = self.pending_rest_len()?;
        let mut scratch = [0u8; 8192];
        while n > 0 {
            let k = n.min(scratch.len());
            (&*self.stream)
                .read_exact(&mut scratch[..k])
                .map_err(closed)?;
            n -= k;
        }
        self.pending = None;
        Ok(h)
    }

    /// Reads one whole message.
    pub fn receive(&mut self) -> Result<Message> {
        self.next_header()?;
        let mut rest = Vec::new();
        let h = self.read_rest(&mut rest)?;
        Message::from_frame(&parse_rest(h, &rest))
    }
}
