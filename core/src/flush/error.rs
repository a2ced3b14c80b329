//! Errors of the Flush API: the Spread errors plus fl.h's five codes.

use crate::consts::*;
use crate::error::Error;

/// A Flush error; [`FlushError::code`] gives 5.0.1's number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlushError {
    /// An error of the Spread layer (`ILLEGAL_SESSION`, `ILLEGAL_GROUP`,
    /// `ILLEGAL_SERVICE`, `CONNECTION_CLOSED`, ...), with its own code.
    #[error(transparent)]
    Spread(#[from] Error),
    /// `ILLEGAL_PARAM` (-24): a negative size or count (only the C ABI can
    /// pass one).
    #[error("illegal parameter: {0}")]
    IllegalParam(String),
    /// `WOULD_BLOCK` (-25): a non-blocking receive found nothing (the Rust
    /// API answers `Ok(None)`; the C ABI returns this code).
    #[error("the call would have blocked")]
    WouldBlock,
    /// `ILLEGAL_MESSAGE_TYPE` (-26): the message type (carried) is below
    /// [`FL_MIN_LEGAL_MESS_TYPE`].
    #[error("illegal message type {0} (at least {FL_MIN_LEGAL_MESS_TYPE})")]
    IllegalMessageType(i16),
    /// `ILLEGAL_STATE` (-27): flush without a pending flush request, or a
    /// send to a group already flushed.
    #[error("illegal state: {0}")]
    IllegalState(String),
    /// `ILLEGAL_RECEIVERS` (-28): a receiver (named) is not in the sender's
    /// view of the group.
    #[error("illegal receivers: {0}")]
    IllegalReceivers(String),
}

impl FlushError {
    /// The code of `sp.h` / `fl.h`.
    pub fn code(&self) -> i32 {
        match self {
            FlushError::Spread(e) => e.code(),
            FlushError::IllegalParam(_) => ILLEGAL_PARAM,
            FlushError::WouldBlock => WOULD_BLOCK,
            FlushError::IllegalMessageType(_) => ILLEGAL_MESSAGE_TYPE,
            FlushError::IllegalState(_) => ILLEGAL_STATE,
            FlushError::IllegalReceivers(_) => ILLEGAL_RECEIVERS,
        }
    }

    /// The name of a code as `fl.h` / `sp.h` spell it: the five Flush
    /// codes, then [`crate::error::code_name`]'s.
    pub fn code_name(code: i32) -> &'static str {
        match code {
            ILLEGAL_PARAM => "ILLEGAL_PARAM",
            WOULD_BLOCK => "WOULD_BLOCK",
            ILLEGAL_MESSAGE_TYPE => "ILLEGAL_MESSAGE_TYPE",
            ILLEGAL_STATE => "ILLEGAL_STATE",
            ILLEGAL_RECEIVERS => "ILLEGAL_RECEIVERS",
            other => crate::error::code_name(other),
        }
    }

    /// What 5.0.1's `FL_error` prints for a code (without the newline):
    /// its own text for the five Flush codes, `SP_error`'s for the rest.
    pub fn describe_code(code: i32) -> String {
        let text = match code {
            ILLEGAL_PARAM => "Illegal parameter (eg a negative size) passed to a function.".into(),
            WOULD_BLOCK => "Function call would have blocked.".into(),
            ILLEGAL_MESSAGE_TYPE => format!(
                "Illegal message type (int16) used, value < FL_MIN_LEGAL_MESS_TYPE({FL_MIN_LEGAL_MESS_TYPE})."
            ),
            ILLEGAL_STATE => "Function call peformed in a prohibited state.".into(),
            ILLEGAL_RECEIVERS => "Illegal receivers specified.".into(),
            other => return Error::describe_code(other),
        };
        format!("FL_error: ({code}) {text}")
    }
}

/// A Flush result.
pub type FlushResult<T> = std::result::Result<T, FlushError>;
