//! Opening and closing sessions: SP_version, SP_connect(_timeout),
//! SP_disconnect, SP_kill.

use crate::auth;
use crate::guard::{c_bytes, copy_padded, guard, guard_code};
use crate::table;
use crate::types::{self, SpTime};
use libc::{c_char, c_int};
use spread_core::client::{ConnectOptions, Mailbox as Client};
use spread_core::consts::*;
use spread_core::GroupName;
use std::time::Duration;

/// # Safety
/// Each pointer is NULL or points to a writable int (a NULL one makes the
/// call return 0 and write nothing).
#[no_mangle]
pub unsafe extern "C" fn SP_version(
    major: *mut c_int,
    minor: *mut c_int,
    patch: *mut c_int,
) -> c_int {
    guard(0, || {
        if major.is_null() || minor.is_null() || patch.is_null() {
            return 0;
        }
        // SAFETY: none is NULL (checked above), and the caller guarantees
        // each points to a writable int.
        unsafe {
            *major = c_int::from(SP_MAJOR_VERSION);
            *minor = c_int::from(SP_MINOR_VERSION);
            *patch = c_int::from(SP_PATCH_VERSION);
        }
        1
    })
}

/// A daemon name longer than this cannot be a port and a host name.
const MAX_SPREAD_NAME: usize = 1024;
/// Private names are read up to this many bytes, then cut to 10 as
/// libspread does.
const MAX_PRIVATE_NAME_READ: usize = 4096;

/// The daemon name and options of a connect call, read from C.
///
/// # Safety
/// `spread_name` and `private_name` are NULL or C strings.
pub(crate) unsafe fn connect_options(
    spread_name: *const c_char,
    private_name: *const c_char,
    priority: c_int,
    group_membership: c_int,
    timeout: Option<Duration>,
) -> Result<(&'static str, ConnectOptions), c_int> {
    ignore_sigpipe();
    // SAFETY: the caller guarantees `spread_name` is NULL or a C string;
    // c_bytes reads no further than its NUL.
    let daemon = match unsafe { c_bytes(spread_name, MAX_SPREAD_NAME + 1) } {
        None => &b""[..],
        Some(n) if n.len() > MAX_SPREAD_NAME => return Err(ILLEGAL_SPREAD),
        Some(n) => n,
    };
    let Ok(daemon) = std::str::from_utf8(daemon) else {
        return Err(ILLEGAL_SPREAD);
    };
    // SAFETY: the caller guarantees `private_name` is NULL or a C string.
    let name = unsafe { c_bytes(private_name, MAX_PRIVATE_NAME_READ) }.unwrap_or_default();
    let name = &name[..name.len().min(MAX_PRIVATE_NAME)];
    let opts = ConnectOptions {
        private_name: String::from_utf8_lossy(name).into_owned(),
        priority,
        membership: group_membership != 0,
        timeout,
        auth_methods: auth::methods(),
        tls: crate::tls::options(),
        ..ConnectOptions::default()
    };
    Ok((daemon, opts))
}

/// Writes a session's private group name into the caller's field.
///
/// # Safety
/// `private_group` points to MAX_GROUP_NAME writable bytes.
pub(crate) unsafe fn write_private_group(private_group: *mut c_char, group: &GroupName) {
    let mut field = [0u8; MAX_GROUP_NAME];
    field[..group.as_bytes().len()].copy_from_slice(group.as_bytes());
    // SAFETY: the caller guarantees MAX_GROUP_NAME writable bytes there.
    unsafe { copy_padded(private_group, MAX_GROUP_NAME, &field) };
}

/// # Safety
/// As SP_connect: `spread_name` and `private_name` are NULL or C strings;
/// `mbox`, if not NULL, points to a writable int and `private_group`, if
/// not NULL, to MAX_GROUP_NAME writable bytes.
unsafe fn connect(
    spread_name: *const c_char,
    private_name: *const c_char,
    priority: c_int,
    group_membership: c_int,
    mbox: *mut types::Mailbox,
    private_group: *mut c_char,
    timeout: Option<Duration>,
) -> c_int {
    if mbox.is_null() || private_group.is_null() {
        return ILLEGAL_SESSION;
    }
    // SAFETY: the caller guarantees both names are NULL or C strings.
    let (daemon, opts) = match unsafe {
        connect_options(
            spread_name,
            private_name,
            priority,
            group_membership,
            timeout,
        )
    } {
        Ok(x) => x,
        Err(code) => return code,
    };
    match Client::connect_with(daemon, &opts) {
        Ok(m) => {
            // SAFETY: `private_group` is not NULL (checked above) and the
            // caller guarantees MAX_GROUP_NAME writable bytes there.
            unsafe { write_private_group(private_group, m.private_group()) };
            // SAFETY: `mbox` is not NULL (checked above) and the caller
            // guarantees it points to a writable int.
            unsafe { *mbox = table::insert(m) };
            ACCEPT_SESSION
        }
        Err(e) => e.code(),
    }
}

/// Writes to a socket whose peer is gone must fail, not kill the process
/// (libspread does the same at its first connect).
fn ignore_sigpipe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: setting SIGPIPE's disposition to SIG_IGN installs no
        // handler of ours, so it has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    });
}

/// # Safety
/// `spread_name` and `private_name` are NULL or NUL-terminated C strings;
/// `mbox` is NULL or points to a writable int, and `private_group` is NULL
/// or points to MAX_GROUP_NAME writable bytes.
#[no_mangle]
pub unsafe extern "C" fn SP_connect(
    spread_name: *const c_char,
    private_name: *const c_char,
    priority: c_int,
    group_membership: c_int,
    mbox: *mut types::Mailbox,
    private_group: *mut c_char,
) -> c_int {
    // SAFETY: SP_connect's caller makes the guarantees `connect` needs.
    guard_code(|| unsafe {
        connect(
            spread_name,
            private_name,
            priority,
            group_membership,
            mbox,
            private_group,
            None,
        )
    })
}

/// The timeout covers the connection and the whole handshake; {0, 0}
/// means none.
pub fn timeout_of(t: SpTime) -> Result<Option<Duration>, c_int> {
    let mixed_signs = (t.sec < 0 && t.usec > 0) || (t.sec > 0 && t.usec < 0);
    if mixed_signs || t.usec <= -1_000_000 || t.usec >= 1_000_000 {
        return Err(ILLEGAL_TIME);
    }
    if t.sec == 0 && t.usec == 0 {
        return Ok(None);
    }
    if t.sec < 0 || t.usec < 0 {
        // Already expired: the smallest wait, so the call fails at once.
        return Ok(Some(Duration::from_micros(1)));
    }
    Ok(Some(
        Duration::from_secs(t.sec as u64) + Duration::from_micros(t.usec as u64),
    ))
}

/// # Safety
/// As SP_connect (`time_out` is passed by value and needs nothing).
#[no_mangle]
pub unsafe extern "C" fn SP_connect_timeout(
    spread_name: *const c_char,
    private_name: *const c_char,
    priority: c_int,
    group_membership: c_int,
    mbox: *mut types::Mailbox,
    private_group: *mut c_char,
    time_out: SpTime,
) -> c_int {
    guard_code(|| match timeout_of(time_out) {
        // SAFETY: the caller makes SP_connect's guarantees, which are
        // what `connect` needs.
        Ok(t) => unsafe {
            connect(
                spread_name,
                private_name,
                priority,
                group_membership,
                mbox,
                private_group,
                t,
            )
        },
        Err(code) => code,
    })
}

/// Sends the disconnect request and closes the mailbox. A receive blocked
/// in another thread returns an error.
#[no_mangle]
pub extern "C" fn SP_disconnect(mbox: types::Mailbox) -> c_int {
    guard_code(|| match table::remove(mbox) {
        Some(m) => {
            let _ = m.disconnect();
            0
        }
        None => ILLEGAL_SESSION,
    })
}

/// Closes the mailbox without a disconnect request.
#[no_mangle]
pub extern "C" fn SP_kill(mbox: types::Mailbox) {
    guard((), || {
        if let Some(m) = table::remove(mbox) {
            m.kill();
        }
    })
}
