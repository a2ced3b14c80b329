//! Sending: SP_join, SP_leave and the four multicasts.

use crate::guard::{c_bytes, guard_code};
use crate::table;
use crate::types::{self, Scatter, Service};
use libc::{c_char, c_int};
use spread_core::consts::*;
use spread_core::name::{check_group_name, GroupName};
use spread_core::Error;

fn result(r: Result<usize, Error>) -> c_int {
    match r {
        Ok(n) => n as c_int,
        Err(e) => e.code(),
    }
}

/// A group argument of join/leave: a C string of 1..31 legal bytes.
///
/// # Safety
/// `group` is NULL or a C string (or MAX_GROUP_NAME readable bytes).
pub(crate) unsafe fn group_arg(group: *const c_char) -> Result<&'static str, Error> {
    // SAFETY: the caller guarantees `group` is NULL or a C string; at most
    // MAX_GROUP_NAME bytes are read.
    let name = unsafe { c_bytes(group, MAX_GROUP_NAME) }
        .ok_or_else(|| Error::IllegalGroup("NULL group".into()))?;
    check_group_name(name)?;
    // Legal names are printable ASCII.
    std::str::from_utf8(name).map_err(|_| Error::IllegalGroup("not ASCII".into()))
}

/// # Safety
/// `group` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn SP_join(mbox: types::Mailbox, group: *const c_char) -> c_int {
    guard_code(|| {
        let Some(m) = table::get(mbox) else {
            return ILLEGAL_SESSION;
        };
        // SAFETY: the caller guarantees `group` is NULL or a C string.
        let group = unsafe { group_arg(group) };
        result(group.and_then(|g| m.join(g)).map(|_| 0))
    })
}

/// # Safety
/// `group` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn SP_leave(mbox: types::Mailbox, group: *const c_char) -> c_int {
    guard_code(|| {
        let Some(m) = table::get(mbox) else {
            return ILLEGAL_SESSION;
        };
        // SAFETY: the caller guarantees `group` is NULL or a C string.
        let group = unsafe { group_arg(group) };
        result(group.and_then(|g| m.leave(g)).map(|_| 0))
    })
}

/// The body parts of a scatter, checked.
///
/// # Safety
/// `scat` is NULL or a valid scatter whose first `num_elements` elements
/// are NULL or `len` readable bytes, unchanged while the parts are used.
pub(crate) unsafe fn scatter_parts<'a>(scat: *const Scatter) -> Result<Vec<&'a [u8]>, Error> {
    // SAFETY: the caller guarantees `scat` is NULL or a valid scatter.
    let scat =
        unsafe { scat.as_ref() }.ok_or_else(|| Error::IllegalMessage("NULL scatter".into()))?;
    if scat.num_elements > MAX_CLIENT_SCATTER_ELEMENTS {
        return Err(Error::IllegalMessage(format!(
            "{} scatter elements (at most {MAX_CLIENT_SCATTER_ELEMENTS})",
            scat.num_elements
        )));
    }
    scat.elements[..scat.num_elements]
        .iter()
        .map(|e| match (e.buf.is_null(), e.len) {
            (_, 0) => Ok(&[][..]),
            (true, _) => Err(Error::IllegalMessage("NULL scatter element".into())),
            // SAFETY: the caller guarantees a non-NULL element holds `len`
            // readable bytes, unchanged during the call.
            (false, len) => Ok(unsafe { std::slice::from_raw_parts(e.buf as *const u8, len) }),
        })
        .collect()
}

/// # Safety
/// `mess` is NULL or holds `mess_len` readable bytes.
pub(crate) unsafe fn body<'a>(mess_len: c_int, mess: *const c_char) -> Result<&'a [u8], Error> {
    match (mess_len, mess.is_null()) {
        (n, _) if n < 0 => Err(Error::IllegalMessage(format!(
            "negative message length {n}"
        ))),
        (0, _) => Ok(&[]),
        (_, true) => Err(Error::IllegalMessage("NULL message".into())),
        // SAFETY: `n` > 0 and `mess` is not NULL, so the caller guarantees
        // `n` readable bytes, unchanged during the call.
        (n, false) => Ok(unsafe { std::slice::from_raw_parts(mess as *const u8, n as usize) }),
    }
}

/// The single destination of SP_multicast: at most 31 bytes of `group`.
///
/// # Safety
/// `group` is NULL or a C string (or MAX_GROUP_NAME readable bytes).
unsafe fn one_group(group: *const c_char) -> Result<[GroupName; 1], Error> {
    // SAFETY: the caller guarantees `group` is NULL or a C string; at most
    // MAX_GROUP_NAME bytes are read.
    let name = unsafe { c_bytes(group, MAX_GROUP_NAME) }
        .ok_or_else(|| Error::IllegalGroup("NULL group".into()))?;
    Ok([GroupName::new(name)])
}

/// Multigroup destinations: the caller's 32-byte fields, verbatim.
///
/// # Safety
/// `groups` is NULL or holds `num_groups` readable 32-byte fields.
pub(crate) unsafe fn many_groups(
    num_groups: c_int,
    groups: *const [c_char; MAX_GROUP_NAME],
) -> Result<Vec<GroupName>, Error> {
    if num_groups < 0 {
        return Err(Error::IllegalGroup(format!("{num_groups} groups")));
    }
    if num_groups > 0 && groups.is_null() {
        return Err(Error::IllegalGroup("NULL group list".into()));
    }
    if num_groups as usize > MAX_GROUPS_PER_MESSAGE {
        return Err(Error::IllegalGroup(format!(
            "{num_groups} destination groups (at most {MAX_GROUPS_PER_MESSAGE})"
        )));
    }
    Ok((0..num_groups as usize)
        .map(|i| {
            // SAFETY: `i` < `num_groups`, `groups` is not NULL when
            // `num_groups` > 0 (checked above), and the caller guarantees
            // that many readable 32-byte fields (u8 and c_char arrays have
            // the same layout).
            GroupName::from_field(unsafe { &*(groups.add(i) as *const [u8; MAX_GROUP_NAME]) })
        })
        .collect())
}

fn send(
    mbox: types::Mailbox,
    service_type: Service,
    groups: Result<Vec<GroupName>, Error>,
    mess_type: i16,
    parts: Result<Vec<&[u8]>, Error>,
) -> c_int {
    let Some(m) = table::get(mbox) else {
        return ILLEGAL_SESSION;
    };
    result(groups.and_then(|g| {
        parts.and_then(|p| m.multigroup_scat_multicast(service_type as u32, &g, mess_type, &p))
    }))
}

/// # Safety
/// `group` is NULL or a C string; `mess` is NULL or holds `mess_len`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn SP_multicast(
    mbox: types::Mailbox,
    service_type: Service,
    group: *const c_char,
    mess_type: i16,
    mess_len: c_int,
    mess: *const c_char,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees `group` is NULL or a C string.
        let groups = unsafe { one_group(group) }.map(Vec::from);
        // SAFETY: the caller guarantees `mess` holds `mess_len` bytes.
        let parts = unsafe { body(mess_len, mess) }.map(|b| vec![b]);
        send(mbox, service_type, groups, mess_type, parts)
    })
}

/// # Safety
/// `group` is NULL or a C string; `scat_mess` is NULL or a valid scatter
/// whose first `num_elements` elements are NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_multicast(
    mbox: types::Mailbox,
    service_type: Service,
    group: *const c_char,
    mess_type: i16,
    scat_mess: *const Scatter,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees `group` is NULL or a C string.
        let groups = unsafe { one_group(group) }.map(Vec::from);
        // SAFETY: the caller guarantees `scat_mess` is NULL or a valid
        // scatter of readable elements.
        let parts = unsafe { scatter_parts(scat_mess) };
        send(mbox, service_type, groups, mess_type, parts)
    })
}

/// # Safety
/// `groups` is NULL or holds `num_groups` readable 32-byte fields; `mess`
/// is NULL or holds `mess_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn SP_multigroup_multicast(
    mbox: types::Mailbox,
    service_type: Service,
    num_groups: c_int,
    groups: *const [c_char; MAX_GROUP_NAME],
    mess_type: i16,
    mess_len: c_int,
    mess: *const c_char,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees `groups` holds `num_groups` fields.
        let groups = unsafe { many_groups(num_groups, groups) };
        // SAFETY: the caller guarantees `mess` holds `mess_len` bytes.
        let parts = unsafe { body(mess_len, mess) }.map(|b| vec![b]);
        send(mbox, service_type, groups, mess_type, parts)
    })
}

/// # Safety
/// `groups` is NULL or holds `num_groups` readable 32-byte fields;
/// `scat_mess` is NULL or a valid scatter whose first `num_elements`
/// elements are NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn SP_multigroup_scat_multicast(
    mbox: types::Mailbox,
    service_type: Service,
    num_groups: c_int,
    groups: *const [c_char; MAX_GROUP_NAME],
    mess_type: i16,
    scat_mess: *const Scatter,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees `groups` holds `num_groups` fields.
        let groups = unsafe { many_groups(num_groups, groups) };
        // SAFETY: the caller guarantees `scat_mess` is NULL or a valid
        // scatter of readable elements.
        let parts = unsafe { scatter_parts(scat_mess) };
        send(mbox, service_type, groups, mess_type, parts)
    })
}
