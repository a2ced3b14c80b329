//! Framing of the message stream: header, optional reject word, names, body.
//!
//! A decoder here never panics, checks every length before anything is
//! allocated, and consumes only complete frames.

use super::header::{field4, Header};
use crate::consts::{HEADER_LEN, MAX_GROUP_NAME, REJECT_MESS};
use crate::name::GroupName;

/// Bounds a reader puts on frames it will accept.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most name fields (`num_groups`) accepted.
    pub max_groups: usize,
    /// Most body bytes (`data_len`) accepted.
    pub max_data_len: usize,
}

impl Limits {
    /// What a client accepts from a daemon: membership lists can be long
    /// (every member of a group), bodies are bounded by the daemon's limits
    /// with a wide margin.
    pub const CLIENT: Limits = Limits {
        max_groups: 1 << 20,
        max_data_len: 1 << 27,
    };
}

/// Why a frame cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// `num_groups` or `data_len` is negative.
    #[error("negative length in header (num_groups {num_groups}, data_len {data_len})")]
    NegativeLength {
        /// The header's `num_groups`.
        num_groups: i32,
        /// The header's `data_len`.
        data_len: i32,
    },
    /// `num_groups` or `data_len` is above the reader's [`Limits`].
    #[error("frame too large (num_groups {num_groups}, data_len {data_len})")]
    TooLarge {
        /// The header's `num_groups`.
        num_groups: i32,
        /// The header's `data_len`.
        data_len: i32,
    },
}

/// The parts of one frame, borrowed from the buffer it was read from.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// The decoded header.
    pub header: Header,
    /// A reject's original service type (daemon order), read before names.
    pub old_type: Option<u32>,
    /// `num_groups` name fields, 32 bytes each, verbatim.
    pub names: &'a [u8],
    /// `data_len` bytes of body.
    pub body: &'a [u8],
}

impl Frame<'_> {
    /// The name fields as group names.
    pub fn groups(&self) -> impl Iterator<Item = GroupName> + '_ {
        self.names
            .chunks_exact(MAX_GROUP_NAME)
            .map(GroupName::from_field)
    }
}

/// Bytes that follow `header` in its frame: the reject word if any, the
/// names and the body.
///
/// # Errors
///
/// A negative length, or one above `limits`.
pub fn rest_len(header: &Header, limits: &Limits) -> Result<usize, FrameError> {
    let (num_groups, data_len) = (header.num_groups, header.data_len);
    if num_groups < 0 || data_len < 0 {
        return Err(FrameError::NegativeLength {
            num_groups,
            data_len,
        });
    }
    if num_groups as usize > limits.max_groups || data_len as usize > limits.max_data_len {
        return Err(FrameError::TooLarge {
            num_groups,
            data_len,
        });
    }
    let reject_word = if header.service_type & REJECT_MESS != 0 {
        4
    } else {
        0
    };
    Ok(reject_word + num_groups as usize * MAX_GROUP_NAME + data_len as usize)
}

/// Splits one complete frame off the front of `buf` and returns it with the
/// bytes it took; `Ok(None)` until the whole frame is there.
///
/// # Errors
///
/// As [`rest_len`]: the header's lengths are negative or above `limits`,
/// so the stream cannot be framed past it.
pub fn split_frame<'a>(
    buf: &'a [u8],
    limits: &Limits,
) -> Result<Option<(Frame<'a>, usize)>, FrameError> {
    let Some(head) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let header = Header::decode(head);
    let rest = rest_len(&header, limits)?;
    if buf.len() - HEADER_LEN < rest {
        return Ok(None);
    }
    Ok(Some((
        parse_rest(header, &buf[HEADER_LEN..HEADER_LEN + rest]),
        HEADER_LEN + rest,
    )))
}

/// Splits the bytes after a header (exactly `rest_len` of them) into parts.
///
/// # Panics
///
/// If `rest` is shorter than [`rest_len`] of `header` says (a caller's bug;
/// the length comes from the header, not from input).
pub fn parse_rest(header: Header, rest: &[u8]) -> Frame<'_> {
    let (old_type, rest) = if header.service_type & REJECT_MESS != 0 {
        (Some(header.order.read_u32(field4(rest, 0))), &rest[4..])
    } else {
        (None, rest)
    };
    let names_len = header.num_groups as usize * MAX_GROUP_NAME;
    Frame {
        header,
        old_type,
        names: &rest[..names_len],
        body: &rest[names_len..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::header::{ByteOrder, Hint};

    fn header(num_groups: i32, data_len: i32, service_type: u32) -> Header {
        Header {
            service_type,
            sender: "#a#b".into(),
            num_groups,
            hint: Hint::new(1, ByteOrder::Little),
            data_len,
            order: ByteOrder::Little,
        }
    }

    #[test]
    fn only_complete_frames() {
        let mut buf = header(1, 3, 0x10).encode().to_vec();
        buf.extend_from_slice(&GroupName::from("g").0);
        buf.extend_from_slice(b"abc");
        for cut in 0..buf.len() {
            assert!(split_frame(&buf[..cut], &Limits::CLIENT).unwrap().is_none());
        }
        let (f, used) = split_frame(&buf, &Limits::CLIENT).unwrap().unwrap();
        assert_eq!(used, buf.len());
        assert_eq!(f.body, b"abc");
        assert_eq!(f.groups().next().unwrap(), GroupName::from("g"));
    }

    #[test]
    fn hostile_lengths() {
        let buf = header(-1, 0, 0x10).encode();
        assert!(matches!(
            split_frame(&buf, &Limits::CLIENT),
            Err(FrameError::NegativeLength { .. })
        ));
        let buf = header(0, i32::MAX, 0x10).encode();
        assert!(matches!(
            split_frame(&buf, &Limits::CLIENT),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn reject_word_comes_before_names() {
        let mut buf = header(1, 0, REJECT_MESS | 0x10).encode().to_vec();
        buf.extend_from_slice(&0x10u32.to_le_bytes());
        buf.extend_from_slice(&GroupName::from("g").0);
        let (f, _) = split_frame(&buf, &Limits::CLIENT).unwrap().unwrap();
        assert_eq!(f.old_type, Some(0x10));
        assert_eq!(f.names.len(), 32);
    }
}
