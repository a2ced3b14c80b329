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
unsafe fn group_arg(group: *const c_char) -> Result<&'static str, Error> {
    let name =
        c_bytes(group, MAX_GROUP_NAME).ok_or_else(|| Error::IllegalGroup("NULL group".into()))?;
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
        result(group_arg(group).and_then(|g| m.join(g)).map(|_| 0))
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
        result(group_arg(group).and_then(|g| m.leave(g)).map(|_| 0))
    })
}

/// The body parts of a scatter, checked.
pub unsafe fn scatter_parts<'a>(scat: *const Scatter) -> Result<Vec<&'a [u8]>, Error> {
    let scat = scat
        .as_ref()
        .ok_or_else(|| Error::IllegalMessage("NULL scatter".into()))?;
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
            (false, len) => Ok(std::slice::from_raw_parts(e.buf as *const u8, len)),
        })
        .collect()
}

unsafe fn body<'a>(mess_len: c_int, mess: *const c_char) -> Result<&'a [u8], Error> {
    match (mess_len, mess.is_null()) {
        (n, _) if n < 0 => Err(Error::IllegalMessage(format!(
            "negative message length {n}"
        ))),
        (0, _) => Ok(&[]),
        (_, true) => Err(Error::IllegalMessage("NULL message".into())),
        (n, false) => Ok(std::slice::from_raw_parts(mess as *const u8, n as usize)),
    }
}

/// The single destination of SP_multicast: at most 31 bytes of `group`.
unsafe fn one_group(group: *const c_char) -> Result<[GroupName; 1], Error> {
    let name =
        c_bytes(group, MAX_GROUP_NAME).ok_or_else(|| Error::IllegalGroup("NULL group".into()))?;
    Ok([GroupName::new(name)])
}

/// Multigroup destinations: the caller's 32-byte fields, verbatim.
unsafe fn many_groups(
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
        .map(|i| GroupName::from_field(&*(groups.add(i) as *const [u8; MAX_GROUP_NAME])))
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
/// `group` is NULL or a C string; `mess` holds `mess_len` bytes.
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
        send(
            mbox,
            service_type,
            one_group(group).map(Vec::from),
            mess_type,
            body(mess_len, mess).map(|b| vec![b]),
        )
    })
}

/// # Safety
/// `group` is NULL or a C string; `scat_mess` is NULL or a valid scatter.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_multicast(
    mbox: types::Mailbox,
    service_type: Service,
    group: *const c_char,
    mess_type: i16,
    scat_mess: *const Scatter,
) -> c_int {
    guard_code(|| {
        send(
            mbox,
            service_type,
            one_group(group).map(Vec::from),
            mess_type,
            scatter_parts(scat_mess),
        )
    })
}

/// # Safety
/// `groups` holds `num_groups` 32-byte fields; `mess` holds `mess_len` bytes.
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
        send(
            mbox,
            service_type,
            many_groups(num_groups, groups),
            mess_type,
            body(mess_len, mess).map(|b| vec![b]),
        )
    })
}

/// # Safety
/// `groups` holds `num_groups` 32-byte fields; `scat_mess` is a valid scatter.
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
        send(
            mbox,
            service_type,
            many_groups(num_groups, groups),
            mess_type,
            scatter_parts(scat_mess),
        )
    })
}
