//! Flush Spread's C API (`fl.h`): every FL_* function over
//! [`spread_core::flush::FlushMailbox`], as the table in that module's
//! documentation maps them.
//!
//! Flush mailboxes have their own table, keyed by the session's socket
//! descriptor as SP_* mailboxes are (an SP_* call on an FL_* mailbox finds
//! no session). A message that does not fit the caller's buffers is held
//! here for the next call, unless DROP_RECV, as SP_receive keeps it.

use crate::connect::{connect_options, write_private_group};
use crate::guard::{guard, guard_code};
use crate::receive::{flat_dest, make_out, out_ok, scatter_dest, Dest, Out};
use crate::send::{body, group_arg, many_groups, scatter_parts};
use crate::types::{self, Scatter, Service};
use libc::{c_char, c_int};
use spread_core::client::Registry;
use spread_core::consts::*;
use spread_core::flush::{FlushError, FlushMailbox, FlushMessage, FlushView};
use spread_core::{Error, GroupName};
use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A Flush session and the message a too-short receive kept.
struct Session {
    fl: FlushMailbox,
    held: Mutex<Option<FlushMessage>>,
    /// Serializes receivers, so a held message is not overtaken.
    recv: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

static TABLE: Registry<types::Mailbox, Session> = Registry::new();

fn session(mbox: types::Mailbox) -> Result<Arc<Session>, FlushError> {
    TABLE
        .get(mbox)
        .ok_or(FlushError::Spread(Error::IllegalSession))
}

fn code(r: Result<usize, FlushError>) -> c_int {
    match r {
        Ok(n) => n.min(c_int::MAX as usize) as c_int,
        Err(e) => e.code(),
    }
}

/// Succeeds the first time only, as 5.0.1's does (ILLEGAL_STATE after);
/// nothing needs it.
#[no_mangle]
pub extern "C" fn FL_lib_init() -> c_int {
    static DONE: AtomicBool = AtomicBool::new(false);
    guard_code(|| {
        if DONE.swap(true, Ordering::SeqCst) {
            ILLEGAL_STATE
        } else {
            0
        }
    })
}

/// # Safety
/// Each pointer is NULL or points to a writable int (NULL ones are
/// skipped).
#[no_mangle]
pub unsafe extern "C" fn FL_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int) {
    guard((), || {
        let (a, b, c) = FL_VERSION;
        for (p, v) in [(major, a), (minor, b), (patch, c)] {
            // SAFETY: the caller guarantees a non-NULL pointer is a
            // writable int.
            if let Some(p) = unsafe { p.as_mut() } {
                *p = v;
            }
        }
    })
}

/// # Safety
/// As SP_connect: `daemon_name` and `user_name` are NULL or C strings;
/// `mbox` is NULL or a writable int, `private_name` NULL or MAX_GROUP_NAME
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn FL_connect(
    daemon_name: *const c_char,
    user_name: *const c_char,
    priority: c_int,
    mbox: *mut types::Mailbox,
    private_name: *mut c_char,
) -> c_int {
    guard_code(|| {
        if mbox.is_null() || private_name.is_null() {
            return ILLEGAL_SESSION;
        }
        // SAFETY: the caller guarantees both names are NULL or C strings.
        let (daemon, opts) =
            match unsafe { connect_options(daemon_name, user_name, priority, 1, None) } {
                Ok(x) => x,
                Err(code) => return code,
            };
        match FlushMailbox::connect_with(daemon, &opts) {
            Ok(fl) => {
                // SAFETY: not NULL (checked above); the caller guarantees
                // MAX_GROUP_NAME writable bytes.
                unsafe { write_private_group(private_name, fl.private_group()) };
                let id = fl.raw_fd();
                TABLE.insert(
                    id,
                    Session {
                        fl,
                        held: Mutex::new(None),
                        recv: Mutex::new(()),
                    },
                );
                // SAFETY: not NULL (checked above) and writable by the
                // caller's guarantee.
                unsafe { *mbox = id };
                ACCEPT_SESSION
            }
            Err(e) => e.code(),
        }
    })
}

#[no_mangle]
pub extern "C" fn FL_disconnect(mbox: types::Mailbox) -> c_int {
    guard_code(|| match TABLE.remove(mbox) {
        Some(s) => code(s.fl.disconnect().map(|_| 0)),
        None => ILLEGAL_SESSION,
    })
}

/// # Safety
/// `group_name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn FL_join(mbox: types::Mailbox, group_name: *const c_char) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees a C string or NULL.
        let group = unsafe { group_arg(group_name) };
        code(session(mbox).and_then(|s| s.fl.join(group?)).map(|_| 0))
    })
}

/// # Safety
/// `group_name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn FL_leave(mbox: types::Mailbox, group_name: *const c_char) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees a C string or NULL.
        let group = unsafe { group_arg(group_name) };
        code(session(mbox).and_then(|s| s.fl.leave(group?)).map(|_| 0))
    })
}

/// # Safety
/// `group_name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn FL_flush(mbox: types::Mailbox, group_name: *const c_char) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees a C string or NULL.
        let group = unsafe { group_arg(group_name) };
        code(session(mbox).and_then(|s| s.fl.flush(group?)).map(|_| 0))
    })
}

/// A flat body; a negative length is ILLEGAL_PARAM.
///
/// # Safety
/// `mess` is NULL or holds `mess_len` readable bytes.
unsafe fn fl_body<'a>(mess_len: c_int, mess: *const c_char) -> Result<Vec<&'a [u8]>, FlushError> {
    if mess_len < 0 {
        return Err(FlushError::IllegalParam(format!(
            "negative message length {mess_len}"
        )));
    }
    // SAFETY: the caller guarantees `mess` holds `mess_len` bytes.
    Ok(vec![unsafe { body(mess_len, mess) }?])
}

/// Receivers of a subgroupcast: `num_recvrs` 32-byte fields; a negative
/// count is ILLEGAL_PARAM.
///
/// # Safety
/// `names` is NULL or holds `num_recvrs` readable 32-byte fields.
unsafe fn receivers(
    num_recvrs: c_int,
    names: *const [c_char; MAX_GROUP_NAME],
) -> Result<Vec<GroupName>, FlushError> {
    if num_recvrs < 0 {
        return Err(FlushError::IllegalParam(format!("{num_recvrs} receivers")));
    }
    // SAFETY: the caller guarantees `names` holds `num_recvrs` fields.
    Ok(unsafe { many_groups(num_recvrs, names) }?)
}

/// One receiver name, as a C string.
///
/// # Safety
/// `name` is NULL or a C string.
unsafe fn receiver(name: *const c_char) -> Result<Vec<GroupName>, FlushError> {
    // SAFETY: the caller guarantees a C string or NULL; at most
    // MAX_GROUP_NAME bytes are read.
    let n = unsafe { crate::guard::c_bytes(name, MAX_GROUP_NAME) }
        .ok_or_else(|| Error::IllegalGroup("NULL receiver".into()))?;
    Ok(vec![GroupName::new(n)])
}

/// Sends to `group`'s view, or to `to` in it.
fn send(
    mbox: types::Mailbox,
    serv_type: Service,
    group: Result<&str, Error>,
    to: Option<Result<Vec<GroupName>, FlushError>>,
    mess_type: i16,
    parts: Result<Vec<&[u8]>, FlushError>,
) -> c_int {
    let r = (|| {
        let s = session(mbox)?;
        let group = group?;
        let parts = parts?;
        match to {
            None => {
                s.fl.scat_multicast(serv_type as u32, group, mess_type, &parts)
            }
            Some(to) => {
                s.fl.scat_subgroupcast(serv_type as u32, group, &to?, mess_type, &parts)
            }
        }
    })();
    code(r)
}

/// # Safety
/// `group_name` is NULL or a C string; `mess` NULL or `mess_len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn FL_multicast(
    mbox: types::Mailbox,
    serv_type: Service,
    group_name: *const c_char,
    mess_type: i16,
    mess_len: c_int,
    mess: *const c_char,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller's guarantees, as the helpers need them.
        let (group, parts) = unsafe { (group_arg(group_name), fl_body(mess_len, mess)) };
        send(mbox, serv_type, group, None, mess_type, parts)
    })
}

/// # Safety
/// `group_name` is NULL or a C string; `scat_mess` NULL or a valid scatter
/// of readable elements.
#[no_mangle]
pub unsafe extern "C" fn FL_scat_multicast(
    mbox: types::Mailbox,
    serv_type: Service,
    group_name: *const c_char,
    mess_type: i16,
    scat_mess: *const Scatter,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller's guarantees, as the helpers need them.
        let (group, parts) = unsafe { (group_arg(group_name), scatter_parts(scat_mess)) };
        send(
            mbox,
            serv_type,
            group,
            None,
            mess_type,
            parts.map_err(Into::into),
        )
    })
}

/// # Safety
/// `group_name` and `recvr_name` are NULL or C strings; `mess` NULL or
/// `mess_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn FL_unicast(
    mbox: types::Mailbox,
    serv_type: Service,
    group_name: *const c_char,
    recvr_name: *const c_char,
    mess_type: i16,
    mess_len: c_int,
    mess: *const c_char,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller's guarantees, as the helpers need them.
        let (group, to, parts) = unsafe {
            (
                group_arg(group_name),
                receiver(recvr_name),
                fl_body(mess_len, mess),
            )
        };
        send(mbox, serv_type, group, Some(to), mess_type, parts)
    })
}

/// # Safety
/// `group_name` and `recvr_name` are NULL or C strings; `scat` NULL or a
/// valid scatter of readable elements.
#[no_mangle]
pub unsafe extern "C" fn FL_scat_unicast(
    mbox: types::Mailbox,
    serv_type: Service,
    group_name: *const c_char,
    recvr_name: *const c_char,
    mess_type: i16,
    scat: *const Scatter,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller's guarantees, as the helpers need them.
        let (group, to, parts) = unsafe {
            (
                group_arg(group_name),
                receiver(recvr_name),
                scatter_parts(scat),
            )
        };
        send(
            mbox,
            serv_type,
            group,
            Some(to),
            mess_type,
            parts.map_err(Into::into),
        )
    })
}

/// # Safety
/// `group_name` is NULL or a C string; `recvr_names` NULL or `num_recvrs`
/// readable 32-byte fields; `mess` NULL or `mess_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn FL_subgroupcast(
    mbox: types::Mailbox,
    serv_type: Service,
    group_name: *const c_char,
    num_recvrs: c_int,
    recvr_names: *mut [c_char; MAX_GROUP_NAME],
    mess_type: i16,
    mess_len: c_int,
    mess: *const c_char,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller's guarantees, as the helpers need them.
        let (group, to, parts) = unsafe {
            (
                group_arg(group_name),
                receivers(num_recvrs, recvr_names),
                fl_body(mess_len, mess),
            )
        };
        send(mbox, serv_type, group, Some(to), mess_type, parts)
    })
}

/// # Safety
/// `group_name` is NULL or a C string; `recvr_names` NULL or `num_recvrs`
/// readable 32-byte fields; `scat` NULL or a valid scatter of readable
/// elements.
#[no_mangle]
pub unsafe extern "C" fn FL_scat_subgroupcast(
    mbox: types::Mailbox,
    serv_type: Service,
    group_name: *const c_char,
    num_recvrs: c_int,
    recvr_names: *mut [c_char; MAX_GROUP_NAME],
    mess_type: i16,
    scat: *const Scatter,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller's guarantees, as the helpers need them.
        let (group, to, parts) = unsafe {
            (
                group_arg(group_name),
                receivers(num_recvrs, recvr_names),
                scatter_parts(scat),
            )
        };
        send(
            mbox,
            serv_type,
            group,
            Some(to),
            mess_type,
            parts.map_err(Into::into),
        )
    })
}

/// What FL_receive reports of a message (the module doc of
/// `spread_core::flush` says which fields each kind fills).
struct Fields<'m> {
    service_type: u32,
    sender: &'m GroupName,
    groups: &'m [GroupName],
    mess_type: i16,
    endian_mismatch: bool,
    body: Cow<'m, [u8]>,
}

fn fields(m: &FlushMessage) -> Fields<'_> {
    let bare = |group| Fields {
        service_type: m.service_type(),
        sender: group,
        groups: &[],
        mess_type: 0,
        endian_mismatch: false,
        body: Cow::Borrowed(&[]),
    };
    match m {
        FlushMessage::Data(d) => Fields {
            service_type: d.service_type,
            sender: &d.sender,
            groups: &d.groups,
            mess_type: d.mess_type,
            endian_mismatch: d.endian_mismatch,
            body: Cow::Borrowed(&d.data),
        },
        FlushMessage::View(v) => Fields {
            service_type: v.service_type,
            sender: &v.group,
            groups: &v.members,
            mess_type: v.my_index as i16,
            endian_mismatch: false,
            body: Cow::Owned(v.body()),
        },
        FlushMessage::Reject(r) => Fields {
            service_type: m.service_type(),
            sender: &r.sender,
            groups: &r.groups,
            mess_type: r.mess_type,
            endian_mismatch: r.endian_mismatch,
            body: Cow::Borrowed(&r.data),
        },
        FlushMessage::FlushRequest { group }
        | FlushMessage::Transition { group }
        | FlushMessage::SelfLeave { group } => bare(group),
    }
}

/// Bytes a held message counts for in FL_poll.
fn held_size(held: &Option<FlushMessage>) -> usize {
    held.as_ref().map_or(0, FlushMessage::size)
}

/// Copies `m` into the outputs with SP_receive's rules; `Err(code)` when
/// it does not fit and is to be kept.
///
/// # Safety
/// `out_ok(out)`, with the pointers writable as FL_receive's caller
/// guarantees.
unsafe fn deliver(m: &FlushMessage, out: &Out, dest: &mut Dest<'_>, drop_recv: bool) -> c_int {
    let f = fields(m);
    let (groups, len) = (f.groups.len(), f.body.len());
    let (short_groups, short_body) = (groups > out.max_groups, len > dest.capacity());
    let keep = !drop_recv && (short_groups || short_body);
    let service = if keep && f.service_type & REJECT_MESS != 0 {
        REJECT_MESS
    } else {
        f.service_type
    };
    // SAFETY: the caller's guarantee, as header_fields needs it.
    unsafe { out.header_fields(service, f.sender, f.mess_type) };
    if keep {
        // SAFETY: not NULL (out_ok) and writable by the caller's guarantee.
        unsafe {
            *out.num_groups = if short_groups { -(groups as c_int) } else { 0 };
            *out.endian_mismatch = if short_body { -(len as c_int) } else { 0 };
        }
        return if short_groups {
            GROUPS_TOO_SHORT
        } else {
            BUFFER_TOO_SHORT
        };
    }
    for (i, g) in f.groups.iter().take(out.max_groups).enumerate() {
        // SAFETY: `i` < `out.max_groups`, which is 0 when `groups` is NULL,
        // and the caller guarantees that many writable 32-byte fields.
        unsafe {
            std::ptr::copy_nonoverlapping(
                g.0.as_ptr(),
                out.groups.add(i) as *mut u8,
                MAX_GROUP_NAME,
            )
        };
    }
    // SAFETY: not NULL (out_ok) and writable by the caller's guarantee.
    unsafe {
        *out.num_groups = if short_groups {
            -(groups as c_int)
        } else {
            groups as c_int
        };
        *out.endian_mismatch = c_int::from(f.endian_mismatch);
    }
    dest.fill(&f.body);
    if short_body {
        BUFFER_TOO_SHORT
    } else {
        len as c_int
    }
}

/// # Safety
/// `out_ok(&out)`, the pointers writable as FL_receive's caller guarantees;
/// `more_msgs` NULL or a writable int.
unsafe fn receive(
    mbox: types::Mailbox,
    out: Out,
    dest: Option<Dest<'_>>,
    more_msgs: *mut c_int,
) -> c_int {
    // SAFETY: not NULL (out_ok) and initialised by the caller: DONT_BLOCK
    // and DROP_RECV are read from it.
    let flags = (unsafe { *out.service_type }) as u32;
    let s = match session(mbox) {
        Ok(s) => s,
        Err(e) => return e.code(),
    };
    let Some(mut dest) = dest else {
        return ILLEGAL_MESSAGE;
    };
    let _rx = if flags & DONT_BLOCK != 0 {
        match s.recv.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return WOULD_BLOCK,
        }
    } else {
        lock(&s.recv)
    };
    let held = lock(&s.held).take();
    let m = match held {
        Some(m) => m,
        None => {
            let r = if flags & DONT_BLOCK != 0 {
                s.fl.try_receive()
            } else {
                s.fl.receive().map(Some)
            };
            match r {
                Ok(Some(r)) => r.message,
                Ok(None) => return WOULD_BLOCK,
                Err(e) => return e.code(),
            }
        }
    };
    // SAFETY: this function's caller guarantees what deliver needs.
    let ret = unsafe { deliver(&m, &out, &mut dest, flags & DROP_RECV != 0) };
    let kept = ret == GROUPS_TOO_SHORT || (ret == BUFFER_TOO_SHORT && flags & DROP_RECV == 0);
    let mut held = lock(&s.held);
    if kept {
        *held = Some(m);
    }
    // SAFETY: the caller guarantees NULL or a writable int.
    if let Some(p) = unsafe { more_msgs.as_mut() } {
        *p = (s.fl.more_msgs() + usize::from(held.is_some())).min(c_int::MAX as usize) as c_int;
    }
    ret
}

/// # Safety
/// As SP_receive, and `more_msgs` NULL or a writable int; `*serv_type` is
/// read for DONT_BLOCK and DROP_RECV.
#[no_mangle]
pub unsafe extern "C" fn FL_receive(
    mbox: types::Mailbox,
    serv_type: *mut Service,
    sender_name: *mut c_char,
    max_groups: c_int,
    num_groups: *mut c_int,
    group_names: *mut [c_char; MAX_GROUP_NAME],
    mess_type: *mut i16,
    endian_mismatch: *mut c_int,
    max_mess_len: c_int,
    mess: *mut c_char,
    more_msgs: *mut c_int,
) -> c_int {
    guard_code(|| {
        if max_groups < 0 || max_mess_len < 0 {
            return ILLEGAL_PARAM;
        }
        let out = make_out(
            serv_type,
            sender_name,
            max_groups,
            num_groups,
            group_names,
            mess_type,
            endian_mismatch,
        );
        if !out_ok(&out) {
            return ILLEGAL_MESSAGE;
        }
        // SAFETY: the caller guarantees `mess` holds `max_mess_len`
        // writable bytes apart from the other outputs.
        let dest = unsafe { flat_dest(max_mess_len, mess) };
        // SAFETY: out_ok holds and the caller guarantees the outputs.
        unsafe { receive(mbox, out, Some(dest), more_msgs) }
    })
}

/// # Safety
/// As SP_scat_receive, and `more_msgs` NULL or a writable int;
/// `*serv_type` is read for DONT_BLOCK and DROP_RECV.
#[no_mangle]
pub unsafe extern "C" fn FL_scat_receive(
    mbox: types::Mailbox,
    serv_type: *mut Service,
    sender_name: *mut c_char,
    max_groups: c_int,
    num_groups: *mut c_int,
    group_names: *mut [c_char; MAX_GROUP_NAME],
    mess_type: *mut i16,
    endian_mismatch: *mut c_int,
    scat_mess: *mut Scatter,
    more_msgs: *mut c_int,
) -> c_int {
    guard_code(|| {
        if max_groups < 0 {
            return ILLEGAL_PARAM;
        }
        let out = make_out(
            serv_type,
            sender_name,
            max_groups,
            num_groups,
            group_names,
            mess_type,
            endian_mismatch,
        );
        if !out_ok(&out) {
            return ILLEGAL_MESSAGE;
        }
        // SAFETY: the caller guarantees `scat_mess` is NULL or a valid
        // scatter of writable elements apart from the other outputs.
        let dest = unsafe { scatter_dest(scat_mess) };
        // SAFETY: out_ok holds and the caller guarantees the outputs.
        unsafe { receive(mbox, out, dest, more_msgs) }
    })
}

/// Messages ready for FL_receive without reading the socket.
#[no_mangle]
pub extern "C" fn FL_more_msgs(mbox: types::Mailbox) -> c_int {
    guard_code(|| {
        code(session(mbox).map(|s| s.fl.more_msgs() + usize::from(lock(&s.held).is_some())))
    })
}

/// Bytes ready: those queued by the Flush layer plus the socket's.
#[no_mangle]
pub extern "C" fn FL_poll(mbox: types::Mailbox) -> c_int {
    guard_code(|| code(session(mbox).and_then(|s| Ok(s.fl.poll()? + held_size(&lock(&s.held))))))
}

/// Prints the code's text to stdout, as 5.0.1 does.
#[no_mangle]
pub extern "C" fn FL_error(error_code: c_int) {
    guard((), || {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", FlushError::describe_code(error_code));
        let _ = out.flush();
    })
}

#[no_mangle]
pub extern "C" fn FL_get_gid_offset_memb_mess() -> c_int {
    FlushView::GID_OFFSET as c_int
}

#[no_mangle]
pub extern "C" fn FL_get_num_vs_offset_memb_mess() -> c_int {
    FlushView::NUM_VS_OFFSET as c_int
}

#[no_mangle]
pub extern "C" fn FL_get_vs_set_offset_memb_mess() -> c_int {
    FlushView::VS_SET_OFFSET as c_int
}
