//! Spread errors as plain objects; the JavaScript layer turns them into
//! `SpreadError`s, so every failure reaches a promise and none is thrown
//! from a callback.

use napi_derive::napi;
use spread_core::flush::FlushError;
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

impl From<&FlushError> for NativeError {
    fn from(e: &FlushError) -> Self {
        NativeError {
            code: e.code(),
            name: error_name(e.code()).to_string(),
            message: e.to_string(),
        }
    }
}

/// The name of a Spread code as `sp.h` (or, for Flush's own five, `fl.h`)
/// spells it.
#[napi]
pub fn error_name(code: i32) -> &'static str {
    FlushError::code_name(code)
}

/// Spread's own text for a code (`SP_strerror`).
#[napi]
pub fn strerror(code: i32) -> &'static str {
    spread_core::error::strerror(code)
}
