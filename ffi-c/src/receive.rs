//! SP_receive and SP_scat_receive, with libspread's buffer semantics:
//! too-small buffers keep the message (BUFFER_TOO_SHORT/GROUPS_TOO_SHORT,
//! with the sizes needed), DROP_RECV truncates instead.
//!
//! Unlike 5.0.1, a header kept by a too-short call is forgotten as soon as
//! its message is consumed, whatever the call that consumes it.

use crate::guard::{copy_padded, guard_code};
use crate::table;
use crate::types::{self, Scatter, Service};
use libc::{c_char, c_int};
use spread_core::consts::*;
use spread_core::wire::frame::parse_rest;
use spread_core::wire::membership::body_to_native;
use spread_core::wire::{ByteOrder, Header};
use spread_core::{Error, GroupName};

/// Where the body goes.
pub(crate) enum Dest<'a> {
    Flat(&'a mut [u8]),
    Scattered(Vec<&'a mut [u8]>),
}

impl Dest<'_> {
    pub(crate) fn capacity(&self) -> usize {
        match self {
            Dest::Flat(b) => b.len(),
            Dest::Scattered(parts) => parts.iter().map(|p| p.len()).sum(),
        }
    }

    /// Copies as much of `src` as fits.
    pub(crate) fn fill(&mut self, src: &[u8]) {
        match self {
            Dest::Flat(b) => {
                let n = src.len().min(b.len());
                b[..n].copy_from_slice(&src[..n]);
            }
            Dest::Scattered(parts) => {
                let mut rest = src;
                for p in parts.iter_mut() {
                    if rest.is_empty() {
                        break;
                    }
                    let n = rest.len().min(p.len());
                    p[..n].copy_from_slice(&rest[..n]);
                    rest = &rest[n..];
                }
            }
        }
    }
}

/// The caller's output parameters, checked for NULL once.
pub(crate) struct Out {
    pub(crate) service_type: *mut Service,
    pub(crate) sender: *mut c_char,
    pub(crate) max_groups: usize,
    pub(crate) num_groups: *mut c_int,
    pub(crate) groups: *mut [c_char; MAX_GROUP_NAME],
    pub(crate) mess_type: *mut i16,
    pub(crate) endian_mismatch: *mut c_int,
}

impl Out {
    /// # Safety
    /// `out_ok(self)`, and the pointers are writable as SP_receive's
    /// caller guarantees.
    pub(crate) unsafe fn header_fields(
        &self,
        service_type: u32,
        sender: &GroupName,
        mess_type: i16,
    ) {
        // SAFETY: not NULL (out_ok) and writable by the caller's guarantee.
        unsafe { *self.service_type = service_type as Service };
        // SAFETY: `sender` is not NULL (out_ok) and the caller guarantees
        // MAX_GROUP_NAME writable bytes there.
        unsafe { copy_padded(self.sender, MAX_GROUP_NAME, sender.as_bytes()) };
        // SAFETY: not NULL (out_ok) and writable by the caller's guarantee.
        unsafe { *self.mess_type = mess_type };
    }
}

fn carries_mess_type(st: u32) -> bool {
    is_regular(st) || is_reject(st)
}

/// # Safety
/// `out_ok(&out)`, with the pointers writable as SP_receive's caller
/// guarantees (`groups` holding `out.max_groups` fields).
unsafe fn receive(mbox: types::Mailbox, out: Out, mut dest: Dest<'_>) -> c_int {
    // SAFETY: `service_type` is not NULL (out_ok) and the caller guarantees
    // it points to an int it initialised (SP_receive reads DROP_RECV there).
    let drop_recv = (unsafe { *out.service_type } as u32) & DROP_RECV != 0;
    let Some(m) = table::get(mbox) else {
        return ILLEGAL_SESSION;
    };
    let r = m.with_receiver(|rx| {
        let h = rx.next_header()?;
        let (groups, len) = (h.num_groups as usize, h.data_len as usize);
        let (short_groups, short_body) = (groups > out.max_groups, len > dest.capacity());
        if !drop_recv && (short_groups || short_body) {
            // Keep the message for a call with bigger buffers.
            let st = if is_reject(h.service_type) {
                REJECT_MESS
            } else {
                h.service_type
            };
            let mt = if carries_mess_type(h.service_type) {
                h.mess_type()
            } else {
                0
            };
            // SAFETY: this function's caller guarantees what header_fields
            // needs, and `num_groups` and `endian_mismatch` are not NULL
            // (out_ok) and writable.
            unsafe {
                out.header_fields(st, &h.sender, mt);
                *out.num_groups = if short_groups { -(groups as c_int) } else { 0 };
                *out.endian_mismatch = if short_body { -(len as c_int) } else { 0 };
            }
            return Ok(if short_groups {
                GROUPS_TOO_SHORT
            } else {
                BUFFER_TOO_SHORT
            });
        }
        let mut rest = Vec::new();
        rx.read_rest(&mut rest)?;
        let me = *rx.private_group();
        // SAFETY: this function's caller guarantees what deliver needs.
        Ok(unsafe { deliver(&h, &rest, &me, &out, &mut dest) })
    });
    r.unwrap_or_else(|e: Error| e.code())
}

/// Fills the outputs from a consumed message; returns the call's result.
///
/// # Safety
/// As `receive`.
unsafe fn deliver(
    h: &Header,
    rest: &[u8],
    me: &GroupName,
    out: &Out,
    dest: &mut Dest<'_>,
) -> c_int {
    let frame = parse_rest(*h, rest);
    let st = h.service_type;
    let names: Vec<GroupName> = frame.groups().collect();
    for (i, g) in names.iter().take(out.max_groups).enumerate() {
        // SAFETY: `i` < `out.max_groups`, which is 0 when `groups` is NULL,
        // and the caller guarantees `groups` holds that many writable
        // 32-byte fields; the source is a name of ours.
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
        *out.num_groups = if names.len() > out.max_groups {
            -(names.len() as c_int)
        } else {
            names.len() as c_int
        }
    };
    let (service, mess_type, mismatch) = if is_reject(st) {
        (
            frame.old_type.unwrap_or(0) | REJECT_MESS,
            h.mess_type(),
            h.hint.order() != ByteOrder::NATIVE,
        )
    } else if is_regular(st) {
        (st, h.mess_type(), h.hint.order() != ByteOrder::NATIVE)
    } else if is_reg_memb(st) {
        let index = names.iter().position(|n| n == me).map_or(-1, |i| i as i16);
        (st, index, false)
    } else {
        (st, -1, false)
    };
    // SAFETY: the caller's guarantee, as header_fields needs it.
    unsafe { out.header_fields(service, &h.sender, mess_type) };
    // SAFETY: not NULL (out_ok) and writable by the caller's guarantee.
    unsafe { *out.endian_mismatch = c_int::from(mismatch) };
    if is_membership(st) && h.order != ByteOrder::NATIVE {
        let mut body = frame.body.to_vec();
        body_to_native(&mut body, h.order);
        dest.fill(&body);
    } else {
        dest.fill(frame.body);
    }
    if frame.body.len() > dest.capacity() {
        BUFFER_TOO_SHORT
    } else {
        frame.body.len() as c_int
    }
}

pub(crate) fn out_ok(out: &Out) -> bool {
    !(out.service_type.is_null()
        || out.sender.is_null()
        || out.num_groups.is_null()
        || out.mess_type.is_null()
        || out.endian_mismatch.is_null())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn make_out(
    service_type: *mut Service,
    sender: *mut c_char,
    max_groups: c_int,
    num_groups: *mut c_int,
    groups: *mut [c_char; MAX_GROUP_NAME],
    mess_type: *mut i16,
    endian_mismatch: *mut c_int,
) -> Out {
    // A NULL group array holds no names, whatever max_groups says.
    let max_groups = if groups.is_null() {
        0
    } else {
        max_groups.max(0) as usize
    };
    Out {
        service_type,
        sender,
        max_groups,
        num_groups,
        groups,
        mess_type,
        endian_mismatch,
    }
}

/// The caller's flat buffer (none if NULL or of no positive length).
///
/// # Safety
/// `mess` is NULL or holds `max_mess_len` writable bytes, not otherwise
/// referenced while the destination lives.
pub(crate) unsafe fn flat_dest<'a>(max_mess_len: c_int, mess: *mut c_char) -> Dest<'a> {
    if mess.is_null() || max_mess_len <= 0 {
        return Dest::Flat(&mut []);
    }
    // SAFETY: `mess` is not NULL and the caller guarantees `max_mess_len`
    // writable bytes there, apart from the other outputs.
    Dest::Flat(unsafe { std::slice::from_raw_parts_mut(mess as *mut u8, max_mess_len as usize) })
}

/// The caller's scatter; `None` (ILLEGAL_MESSAGE) for a NULL scatter, too
/// many elements, or a NULL element of positive length.
///
/// # Safety
/// `scat_mess` is NULL or a valid scatter whose first `num_elements`
/// elements are NULL or `len` writable bytes, none overlapping another or
/// the other outputs, not otherwise referenced while the destination lives.
pub(crate) unsafe fn scatter_dest<'a>(scat_mess: *mut Scatter) -> Option<Dest<'a>> {
    // SAFETY: the caller guarantees `scat_mess` is NULL or a valid
    // scatter, not otherwise referenced during the call.
    let scat = unsafe { scat_mess.as_mut() }?;
    if scat.num_elements > MAX_CLIENT_SCATTER_ELEMENTS {
        return None;
    }
    let mut parts = Vec::with_capacity(scat.num_elements);
    for e in &scat.elements[..scat.num_elements] {
        match (e.buf.is_null(), e.len) {
            (_, 0) => {}
            (true, _) => return None,
            (false, len) => {
                // SAFETY: the caller guarantees each non-NULL element is
                // `len` writable bytes, apart from the other elements and
                // outputs.
                parts.push(unsafe { std::slice::from_raw_parts_mut(e.buf as *mut u8, len) })
            }
        }
    }
    Some(Dest::Scattered(parts))
}

/// # Safety
/// The pointers are NULL or point to what sp.h says: `service_type`,
/// `num_groups` and `endian_mismatch` a writable int (`*service_type`
/// initialised: DROP_RECV is read from it), `mess_type` a writable short,
/// `sender` 32 writable bytes, `groups` `max_groups` writable fields of 32
/// bytes, `mess` `max_mess_len` writable bytes; no two of them overlap.
#[no_mangle]
pub unsafe extern "C" fn SP_receive(
    mbox: types::Mailbox,
    service_type: *mut Service,
    sender: *mut c_char,
    max_groups: c_int,
    num_groups: *mut c_int,
    groups: *mut [c_char; MAX_GROUP_NAME],
    mess_type: *mut i16,
    endian_mismatch: *mut c_int,
    max_mess_len: c_int,
    mess: *mut c_char,
) -> c_int {
    guard_code(|| {
        let out = make_out(
            service_type,
            sender,
            max_groups,
            num_groups,
            groups,
            mess_type,
            endian_mismatch,
        );
        if !out_ok(&out) {
            return ILLEGAL_MESSAGE;
        }
        // SAFETY: the caller guarantees `mess` holds `max_mess_len`
        // writable bytes, apart from the other outputs.
        let dest = unsafe { flat_dest(max_mess_len, mess) };
        // SAFETY: out_ok holds (checked above) and the caller guarantees
        // the output pointers as this function's Safety section says.
        unsafe { receive(mbox, out, dest) }
    })
}

/// # Safety
/// As SP_receive; `scat_mess` is NULL or a valid scatter whose first
/// `num_elements` elements are NULL or `len` writable bytes, none
/// overlapping another or the other outputs.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_receive(
    mbox: types::Mailbox,
    service_type: *mut Service,
    sender: *mut c_char,
    max_groups: c_int,
    num_groups: *mut c_int,
    groups: *mut [c_char; MAX_GROUP_NAME],
    mess_type: *mut i16,
    endian_mismatch: *mut c_int,
    scat_mess: *mut Scatter,
) -> c_int {
    guard_code(|| {
        let out = make_out(
            service_type,
            sender,
            max_groups,
            num_groups,
            groups,
            mess_type,
            endian_mismatch,
        );
        if !out_ok(&out) {
            return ILLEGAL_MESSAGE;
        }
        // SAFETY: the caller guarantees `scat_mess` is NULL or a valid
        // scatter of writable elements, not otherwise referenced.
        let Some(dest) = (unsafe { scatter_dest(scat_mess) }) else {
            return ILLEGAL_MESSAGE;
        };
        // SAFETY: out_ok holds (checked above) and the caller guarantees
        // the output pointers as SP_receive's Safety section says.
        unsafe { receive(mbox, out, dest) }
    })
}
