//! Errors of the client API, one variant per Spread error code.

use crate::consts::*;

/// A Spread error. Every variant has exactly one Spread code ([`Error::code`]);
/// the text after the code says what went wrong in this instance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `ILLEGAL_SPREAD` (-1): the daemon name cannot be parsed or resolved.
    #[error("illegal spread name: {0}")]
    IllegalSpread(String),
    /// `COULD_NOT_CONNECT` (-2): the socket to the daemon could not be opened.
    #[error("could not connect to the daemon: {0}")]
    CouldNotConnect(String),
    /// `REJECT_QUOTA` (-3): the daemon has as many sessions as it admits.
    #[error("connection rejected: the daemon has too many sessions")]
    RejectQuota,
    /// `REJECT_NO_NAME` (-4): refused for want of a name (5.0.1 never sends it).
    #[error("connection rejected: no name")]
    RejectNoName,
    /// `REJECT_ILLEGAL_NAME` (-5): the private name is too long or has an
    /// illegal byte.
    #[error("connection rejected: illegal private name")]
    RejectIllegalName,
    /// `REJECT_NOT_UNIQUE` (-6): another session of that daemon has the name.
    #[error("connection rejected: private name not unique at this daemon")]
    RejectNotUnique,
    /// `REJECT_VERSION` (-7): the daemon refused our version, or we refused its
    /// (older than 3).
    #[error("connection rejected: version mismatch ({0})")]
    RejectVersion(String),
    /// `CONNECTION_CLOSED` (-8): the daemon closed the connection, a read or
    /// write failed, or the handshake timed out. The session is lost.
    #[error("connection closed by spread: {0}")]
    ConnectionClosed(String),
    /// `REJECT_AUTH` (-9): the daemon does not offer a method asked for, a
    /// method's exchange failed, or the daemon refused the authentication.
    #[error("connection rejected: authentication failed ({0})")]
    RejectAuth(String),
    /// `ILLEGAL_SESSION` (-11): the session was disconnected or killed (or, in
    /// the C ABI, the mailbox is unknown).
    #[error("illegal session (mailbox unknown or closed)")]
    IllegalSession,
    /// `ILLEGAL_SERVICE` (-12): the service type of a send (carried here) has
    /// not exactly one service bit, or has a bit a client may not send
    /// (`REJECT_MESS`, `JOIN_MESS`, `LEAVE_MESS`, `KILL_MESS`,
    /// `REG_MEMB_MESS`, `TRANSITION_MESS`).
    #[error("illegal service type {0:#x}")]
    IllegalService(u32),
    /// `ILLEGAL_MESSAGE` (-13): a message from the daemon is malformed or cannot
    /// be framed.
    #[error("illegal message: {0}")]
    IllegalMessage(String),
    /// `ILLEGAL_GROUP` (-14): a group name breaks the naming rules, or a send
    /// names more than [`MAX_GROUPS_PER_MESSAGE`] groups.
    #[error("illegal group name: {0}")]
    IllegalGroup(String),
    /// `BUFFER_TOO_SHORT` (-15): the caller's buffer cannot hold the body.
    #[error("buffer too short: message body needs {needed} bytes")]
    BufferTooShort {
        /// Bytes of the body.
        needed: usize,
    },
    /// `GROUPS_TOO_SHORT` (-16): the caller's group array cannot hold the
    /// message's groups.
    #[error("groups too short: message names {needed} groups")]
    GroupsTooShort {
        /// Groups the message names.
        needed: usize,
    },
    /// `MESSAGE_TOO_LONG` (-17): body plus 32 bytes per group exceeds the limit.
    #[error("message too long: {len} bytes of body and group names, limit {limit}")]
    MessageTooLong {
        /// `data_len + 32 * num_groups` of the refused send, in bytes.
        len: usize,
        /// The most allowed, in bytes.
        limit: usize,
    },
    /// `NET_ERROR_ON_SESSION` (-18): the socket failed or an earlier call lost
    /// the connection; only killing the session helps.
    #[error("network error on session: {0}")]
    NetErrorOnSession(String),
    /// `SP_BUG` (-19): an internal error of the library.
    #[error("internal error: {0}")]
    SpBug(String),
    /// `ILLEGAL_TIME` (-20): an unusable timeout.
    #[error("illegal time value")]
    IllegalTime,
    /// A code that no variant above names (only from a misbehaving peer).
    #[error("unknown Spread error code {0}")]
    Unknown(i32),
}

impl Error {
    /// The Spread code of `sp.h` (negative, except an [`Error::Unknown`]
    /// code, which is whatever the peer sent).
    pub fn code(&self) -> i32 {
        match self {
            Error::IllegalSpread(_) => ILLEGAL_SPREAD,
            Error::CouldNotConnect(_) => COULD_NOT_CONNECT,
            Error::RejectQuota => REJECT_QUOTA,
            Error::RejectNoName => REJECT_NO_NAME,
            Error::RejectIllegalName => REJECT_ILLEGAL_NAME,
            Error::RejectNotUnique => REJECT_NOT_UNIQUE,
            Error::RejectVersion(_) => REJECT_VERSION,
            Error::ConnectionClosed(_) => CONNECTION_CLOSED,
            Error::RejectAuth(_) => REJECT_AUTH,
            Error::IllegalSession => ILLEGAL_SESSION,
            Error::IllegalService(_) => ILLEGAL_SERVICE,
            Error::IllegalMessage(_) => ILLEGAL_MESSAGE,
            Error::IllegalGroup(_) => ILLEGAL_GROUP,
            Error::BufferTooShort { .. } => BUFFER_TOO_SHORT,
            Error::GroupsTooShort { .. } => GROUPS_TOO_SHORT,
            Error::MessageTooLong { .. } => MESSAGE_TOO_LONG,
            Error::NetErrorOnSession(_) => NET_ERROR_ON_SESSION,
            Error::SpBug(_) => SP_BUG,
            Error::IllegalTime => ILLEGAL_TIME,
            Error::Unknown(code) => *code,
        }
    }

    /// The session can no longer be used (the connection is gone or closed);
    /// other errors leave it working.
    pub fn is_session_lost(&self) -> bool {
        matches!(
            self,
            Error::ConnectionClosed(_) | Error::NetErrorOnSession(_) | Error::IllegalSession
        )
    }

    /// The error for a reject code sent by a daemon during the handshake
    /// (the signed byte, widened); [`Error::Unknown`] for a code that is not
    /// a reject.
    pub fn from_reject_code(code: i32) -> Error {
        match code {
            REJECT_QUOTA => Error::RejectQuota,
            REJECT_NO_NAME => Error::RejectNoName,
            REJECT_ILLEGAL_NAME => Error::RejectIllegalName,
            REJECT_NOT_UNIQUE => Error::RejectNotUnique,
            REJECT_VERSION => Error::RejectVersion("the daemon refused our version".into()),
            REJECT_AUTH => Error::RejectAuth("the daemon refused the authentication".into()),
            other => Error::Unknown(other),
        }
    }

    /// What 5.0.1's `SP_error` prints for a code (without the newline).
    pub fn describe_code(code: i32) -> String {
        format!("SP_error: ({code}) {}", strerror(code))
    }
}

/// The name of a Spread code as `sp.h` spells it (`"ILLEGAL_GROUP"`);
/// `"UNKNOWN"` for a number sp.h does not define.
pub fn code_name(code: i32) -> &'static str {
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

/// The text of a Spread code, as 5.0.1's `SP_strerror` gives it.
pub fn strerror(code: i32) -> &'static str {
    match code {
        ILLEGAL_SPREAD => "Illegal spread name provided.",
        COULD_NOT_CONNECT => "Could not connect.",
        REJECT_QUOTA => "Connection rejected, too many users.",
        REJECT_NO_NAME => "Connection rejected, no name was supplied.",
        REJECT_ILLEGAL_NAME => "Connection rejected, illegal name.",
        REJECT_NOT_UNIQUE => "Connection rejected, name not unique.",
        REJECT_VERSION => "Connection rejected, client library incompatible with daemon.",
        CONNECTION_CLOSED => "Connection closed by Spread.",
        REJECT_AUTH => "Connection rejected, authentication failed.",
        ILLEGAL_SESSION => "Illegal session was supplied.",
        ILLEGAL_SERVICE => "Illegal service request.",
        ILLEGAL_MESSAGE => "Illegal message.",
        ILLEGAL_GROUP => "Illegal group.",
        BUFFER_TOO_SHORT => "Buffer too short.",
        GROUPS_TOO_SHORT => "Groups list too short.",
        MESSAGE_TOO_LONG => "Message (body + group names) too large.",
        NET_ERROR_ON_SESSION => "Network socket error. SP_kill() the mailbox.",
        SP_BUG => "Internal Spread bug detected.",
        ILLEGAL_TIME => "Illegal time.",
        _ => "Unrecognized error.",
    }
}

/// The result of every fallible call of the client API.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_bytes_map_back_to_their_variants() {
        for code in [
            REJECT_QUOTA,
            REJECT_NO_NAME,
            REJECT_ILLEGAL_NAME,
            REJECT_NOT_UNIQUE,
            REJECT_VERSION,
            REJECT_AUTH,
        ] {
            assert_eq!(Error::from_reject_code(code).code(), code);
        }
        assert_eq!(Error::from_reject_code(-100).code(), -100);
    }

    #[test]
    fn codes_are_spreads() {
        assert_eq!(Error::MessageTooLong { len: 1, limit: 0 }.code(), -17);
        assert_eq!(Error::IllegalTime.code(), -20);
        assert_eq!(
            Error::describe_code(-8),
            "SP_error: (-8) Connection closed by Spread."
        );
        assert_eq!(strerror(-100), "Unrecognized error.");
        assert_eq!(code_name(ILLEGAL_GROUP), "ILLEGAL_GROUP");
        assert_eq!(code_name(-100), "UNKNOWN");
    }
}
