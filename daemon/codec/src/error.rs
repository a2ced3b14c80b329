//! The one error type of the packet codec: every decoder says what it was
//! reading and why it stopped, and never panics.

use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PacketError {
    /// A field or array runs past the end of the datagram.
    #[error("{what}: needs {need} bytes at offset {at}, only {have} left")]
    Truncated {
        what: &'static str,
        at: usize,
        need: usize,
        have: usize,
    },

    /// The type word has exactly one of the two endian-marker bits, so it
    /// was written neither by a little- nor by a big-endian daemon.
    #[error("type word {0:#010x} carries half of the endian marker")]
    BadMarker(u32),

    /// A length field disagrees with the bytes that are actually there.
    #[error("{what} is {declared} but {actual} bytes follow")]
    LengthMismatch {
        what: &'static str,
        declared: usize,
        actual: usize,
    },

    /// A count or flag holds a value no 5.0.1 daemon writes (negative,
    /// beyond a fixed array, ...).
    #[error("{what}: {value} is out of range")]
    OutOfRange { what: &'static str, value: i64 },

    /// Bytes left after the last field of a structure whose length is
    /// fully determined by its counts.
    #[error("{what}: {extra} bytes left over after the last field")]
    TrailingBytes { what: &'static str, extra: usize },

    /// The type word does not match the structure asked for.
    #[error("type {ty:#010x} is not {expected}")]
    WrongType { ty: u32, expected: &'static str },

    /// A message too large for the 100 fragments a 5.0.1 message can have.
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    MessageTooLong { len: usize, max: usize },
}

pub type Result<T> = std::result::Result<T, PacketError>;
