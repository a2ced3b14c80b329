//! `spread._spread`: the Python extension over `spread_core::client`.
//!
//! It maps the Rust client one to one; the Python package `spread` builds
//! SpreadModule's API and the modern `Session` on it. `FlushSession` maps
//! `spread_core::flush::FlushMailbox` (Flush Spread) the same way.

mod auth;
mod conn;
mod errors;
mod flush;
mod mailbox;
mod messages;
mod session;
mod tls;

use errors::name_arg;
use pyo3::prelude::*;
use spread_core::client::ConnectOptions;
use spread_core::consts::*;

/// Connects to a Spread daemon, as SpreadModule's `connect`.
#[pyfunction]
#[pyo3(signature = (daemon=None, name=None, priority=0, membership=1, *, auth=None, tls=None))]
fn connect(
    py: Python<'_>,
    daemon: Option<&Bound<'_, PyAny>>,
    name: Option<&Bound<'_, PyAny>>,
    priority: i32,
    membership: i32,
    auth: Option<&Bound<'_, PyAny>>,
    tls: Option<&Bound<'_, PyAny>>,
) -> PyResult<mailbox::Mailbox> {
    let daemon = match daemon {
        Some(d) => name_arg(d, "daemon")?,
        None => DEFAULT_SPREAD_PORT.to_string(),
    };
    let name = match name {
        Some(n) => name_arg(n, "name")?,
        None => String::new(),
    };
    let opts = ConnectOptions {
        private_name: name,
        priority,
        membership: membership != 0,
        auth_methods: auth::methods(auth)?,
        tls: tls::options(tls)?,
        ..ConnectOptions::default()
    };
    let conn = conn::Conn::connect(py, &daemon, &opts)?;
    Ok(mailbox::Mailbox::new(py, conn))
}

/// The Spread protocol version this library speaks: (major, minor, patch).
#[pyfunction]
fn version() -> (u8, u8, u8) {
    (SP_MAJOR_VERSION, SP_MINOR_VERSION, SP_PATCH_VERSION)
}

/// What `strerror` says of a Spread code.
#[pyfunction]
fn strerror(code: i32) -> &'static str {
    spread_core::error::strerror(code)
}

#[pymodule]
fn _spread(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(connect, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(strerror, m)?)?;
    m.add_function(wrap_pyfunction!(messages::_bind_types, m)?)?;
    m.add_function(wrap_pyfunction!(messages::_bind_flush_types, m)?)?;
    m.add_class::<mailbox::Mailbox>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<auth::Auth>()?;
    m.add_class::<tls::Tls>()?;
    m.add_class::<flush::FlushSession>()?;
    m.add_class::<messages::RegularMsg>()?;
    m.add_class::<messages::MembershipMsg>()?;
    m.add_class::<messages::GroupId>()?;
    let ints: &[(&str, i64)] = &[
        ("LOW_PRIORITY", LOW_PRIORITY.into()),
        ("MEDIUM_PRIORITY", MEDIUM_PRIORITY.into()),
        ("HIGH_PRIORITY", HIGH_PRIORITY.into()),
        ("DEFAULT_SPREAD_PORT", DEFAULT_SPREAD_PORT.into()),
        (
            "SPREAD_VERSION",
            (i64::from(SP_MAJOR_VERSION) << 24)
                | (i64::from(SP_MINOR_VERSION) << 16)
                | i64::from(SP_PATCH_VERSION),
        ),
        ("MAX_GROUP_NAME", MAX_GROUP_NAME as i64),
        ("MAX_PRIVATE_NAME", MAX_PRIVATE_NAME as i64),
        ("MAX_PROC_NAME", MAX_PROC_NAME as i64),
        (
            "MAX_CLIENT_SCATTER_ELEMENTS",
            MAX_CLIENT_SCATTER_ELEMENTS as i64,
        ),
        ("UNRELIABLE_MESS", UNRELIABLE_MESS.into()),
        ("RELIABLE_MESS", RELIABLE_MESS.into()),
        ("FIFO_MESS", FIFO_MESS.into()),
        ("CAUSAL_MESS", CAUSAL_MESS.into()),
        ("AGREED_MESS", AGREED_MESS.into()),
        ("SAFE_MESS", SAFE_MESS.into()),
        ("REGULAR_MESS", REGULAR_MESS.into()),
        ("SELF_DISCARD", SELF_DISCARD.into()),
        ("DROP_RECV", DROP_RECV.into()),
        ("REG_MEMB_MESS", REG_MEMB_MESS.into()),
        ("TRANSITION_MESS", TRANSITION_MESS.into()),
        ("CAUSED_BY_JOIN", CAUSED_BY_JOIN.into()),
        ("CAUSED_BY_LEAVE", CAUSED_BY_LEAVE.into()),
        ("CAUSED_BY_DISCONNECT", CAUSED_BY_DISCONNECT.into()),
        ("CAUSED_BY_NETWORK", CAUSED_BY_NETWORK.into()),
        ("MEMBERSHIP_MESS", MEMBERSHIP_MESS.into()),
        ("ENDIAN_RESERVED", ENDIAN_RESERVED.into()),
        ("RESERVED", RESERVED.into()),
        ("REJECT_MESS", REJECT_MESS.into()),
        ("ACCEPT_SESSION", ACCEPT_SESSION.into()),
        ("ILLEGAL_SPREAD", ILLEGAL_SPREAD.into()),
        ("COULD_NOT_CONNECT", COULD_NOT_CONNECT.into()),
        ("REJECT_QUOTA", REJECT_QUOTA.into()),
        ("REJECT_NO_NAME", REJECT_NO_NAME.into()),
        ("REJECT_ILLEGAL_NAME", REJECT_ILLEGAL_NAME.into()),
        ("REJECT_NOT_UNIQUE", REJECT_NOT_UNIQUE.into()),
        ("REJECT_VERSION", REJECT_VERSION.into()),
        ("CONNECTION_CLOSED", CONNECTION_CLOSED.into()),
        ("REJECT_AUTH", REJECT_AUTH.into()),
        ("ILLEGAL_SESSION", ILLEGAL_SESSION.into()),
        ("ILLEGAL_SERVICE", ILLEGAL_SERVICE.into()),
        ("ILLEGAL_MESSAGE", ILLEGAL_MESSAGE.into()),
        ("ILLEGAL_GROUP", ILLEGAL_GROUP.into()),
        ("BUFFER_TOO_SHORT", BUFFER_TOO_SHORT.into()),
        ("GROUPS_TOO_SHORT", GROUPS_TOO_SHORT.into()),
        ("MESSAGE_TOO_LONG", MESSAGE_TOO_LONG.into()),
        ("NET_ERROR_ON_SESSION", NET_ERROR_ON_SESSION.into()),
        ("SP_BUG", SP_BUG.into()),
        ("ILLEGAL_TIME", ILLEGAL_TIME.into()),
        // fl.h's.
        ("ILLEGAL_PARAM", ILLEGAL_PARAM.into()),
        ("WOULD_BLOCK", WOULD_BLOCK.into()),
        ("ILLEGAL_MESSAGE_TYPE", ILLEGAL_MESSAGE_TYPE.into()),
        ("ILLEGAL_STATE", ILLEGAL_STATE.into()),
        ("ILLEGAL_RECEIVERS", ILLEGAL_RECEIVERS.into()),
        ("FL_MIN_LEGAL_MESS_TYPE", FL_MIN_LEGAL_MESS_TYPE.into()),
        // SpreadModule's own: the sizes its receive starts from.
        ("DEFAULT_BUFFER_SIZE", 10_000),
        ("DEFAULT_GROUPS_SIZE", 10),
    ];
    for (name, value) in ints {
        m.add(*name, *value)?;
    }
    Ok(())
}
