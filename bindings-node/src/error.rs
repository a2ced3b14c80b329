//! Spread errors as plain objects; the JavaScript layer turns them into
//! `SpreadError`s, so every failure reaches a promise and none is thrown
//! from a callback.

use napi_derive::napi;
use spread_core::consts::*;
use spread_core::Error;

#[napi(object)]
pub struct NativeError {
    /// Spread's (negative) error code.
    pub code: i32,
    /// The readable name of the code, e.g. 'ILLEGAL_GROUP'.
    pub name: String,
    pub message: String,
}

impl From<&Error> for NativeError {
    fn from(e: &Error) -> Self {
        NativeError {
            code: e.code(),
            name: error_name(e.code()).to_string(),
            message: e.to_string(),
        }
    }
}

/// The name of a Spread code as `sp.h` spells it.
#[napi]
pub fn error_name(code: i32) -> &'static str {
    match code {
        ILLEGAL_SPREAD => "ILLEGAL_SPREAD",
        COULD_NOT_CONNECT => "COULD_NOT_CONNECT",
        REJECT_QUOTA => "REJECT_QUOTA",
        REJECT_NO_NAME => "REJECT_NO_NAME",
        REJECT_ILLEGAL_NAME => "REJECT_ILLEGAL_NAME",
        REJECT_NOT_UNIQUE => "REJECT_NOT_UNIQUE",
        REJECT_VERSION => "REJECT_VERSION",
        CONNECTION_CLOSED => "CONNECTION_CLOSED",
        REJECT_AUTH => "REJECT_AUTH",
        ILLEGAL_SESSION => "ILLEGAL_SESSION",
        ILLEGAL_SERVICE => "ILLEGAL_SERVICE",
        ILLEGAL_MESSAGE => "ILLEGAL_MESSAGE",
        ILLEGAL_GROUP => "ILLEGAL_GROUP",
        BUFFER_TOO_SHORT => "BUFFER_TOO_SHORT",
        GROUPS_TOO_SHORT => "GROUPS_TOO_SHORT",
        MESSAGE_TOO_LONG => "MESSAGE_TOO_LONG",
        NET_ERROR_ON_SESSION => "NET_ERROR_ON_SESSION",
        SP_BUG => "SP_BUG",
        ILLEGAL_TIME => "ILLEGAL_TIME",
        _ => "UNKNOWN",
    }
}

/// Spread's own text for a code (`SP_strerror`).
#[napi]
pub fn strerror(code: i32) -> &'static str {
    spread_core::error::strerror(code)
}
