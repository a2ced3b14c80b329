//! Reading membership bodies: SP_get_memb_info, SP_get_vs_sets_info,
//! SP_get_vs_set_members and their scatter forms. Bodies are in host order
//! (SP_receive converted them).
//!
//! Scattered bodies are read correctly across element boundaries, and a
//! scattered read past the body's end is ILLEGAL_MESSAGE; flat bodies come
//! with no length, so for them we trust the offsets as 5.0.1 does.

use crate::guard::guard_code;
use crate::types::{GroupIdC, MembershipInfo, Scatter, Service, VsSetInfo};
use libc::{c_char, c_int, c_uint};
use spread_core::consts::*;
use spread_core::wire::membership::{GROUP_ID_LEN, MEMBERSHIP_PREFIX_LEN};

/// A membership body, flat or scattered.
enum Body<'a> {
    Flat(*const u8),
    Scattered(Vec<&'a [u8]>),
}

impl Body<'_> {
    /// # Safety
    /// `scat` is NULL or a valid scatter whose first `num_elements`
    /// elements are NULL or `len` readable bytes, unchanged while the body
    /// is used (the current call).
    unsafe fn from_scatter(scat: *const Scatter) -> Option<Body<'static>> {
        // SAFETY: the caller guarantees `scat` is NULL or a valid scatter.
        let scat = unsafe { scat.as_ref() }?;
        if scat.num_elements > MAX_CLIENT_SCATTER_ELEMENTS {
            return None;
        }
        let mut parts = Vec::new();
        for e in &scat.elements[..scat.num_elements] {
            match (e.buf.is_null(), e.len) {
                (_, 0) => {}
                (true, _) => return None,
                (false, len) => {
                    // SAFETY: a non-NULL element holds `len` readable bytes,
                    // by the caller's guarantee, not written during this call.
                    parts.push(unsafe { std::slice::from_raw_parts(e.buf as *const u8, len) })
                }
            }
        }
        Some(Body::Scattered(parts))
    }

    /// Copies `dst.len()` bytes from `offset`; false if the body is shorter.
    ///
    /// # Safety
    /// For a flat body, `offset .. offset + dst.len()` is readable (flat
    /// bodies have no length to check against) and does not overlap `dst`.
    unsafe fn read(&self, offset: usize, dst: &mut [u8]) -> bool {
        match self {
            Body::Flat(p) => {
                // SAFETY: the caller guarantees the flat body's bytes
                // `offset .. offset + dst.len()` are readable and apart from
                // `dst`.
                unsafe {
                    std::ptr::copy_nonoverlapping(p.add(offset), dst.as_mut_ptr(), dst.len())
                };
                true
            }
            Body::Scattered(parts) => {
                let (mut skip, mut done) = (offset, 0);
                for part in parts {
                    if done == dst.len() {
                        break;
                    }
                    if skip >= part.len() {
                        skip -= part.len();
                        continue;
                    }
                    let n = (part.len() - skip).min(dst.len() - done);
                    dst[done..done + n].copy_from_slice(&part[skip..skip + n]);
                    done += n;
                    skip = 0;
                }
                done == dst.len()
            }
        }
    }

    /// # Safety
    /// As `read`, for 4 bytes.
    unsafe fn u32_at(&self, offset: usize) -> Option<u32> {
        let mut b = [0u8; 4];
        // SAFETY: the caller's guarantee for `read`, into a local buffer.
        unsafe { self.read(offset, &mut b) }.then(|| u32::from_ne_bytes(b))
    }
}

const NUM_SETS_AT: usize = GROUP_ID_LEN;
const LOCAL_OFFSET_AT: usize = GROUP_ID_LEN + 4;
/// The first member of the first set: the member that joined or left.
const CHANGED_MEMBER_AT: usize = MEMBERSHIP_PREFIX_LEN + 4;

/// # Safety
/// `body` is a membership body whose offsets are readable (see
/// `Body::read`); `info` is NULL or points to a writable MembershipInfo.
unsafe fn read_memb_info(
    body: &Body<'_>,
    service_type: Service,
    info: *mut MembershipInfo,
) -> c_int {
    let st = service_type as u32;
    // SAFETY: the caller guarantees `info` is NULL or a writable
    // MembershipInfo, not aliased during this call.
    let Some(info) = (unsafe { info.as_mut() }) else {
        return ILLEGAL_MESSAGE;
    };
    if !is_membership(st) || is_reject(st) {
        return ILLEGAL_MESSAGE;
    }
    let mut gid = [0u8; GROUP_ID_LEN];
    // SAFETY: the caller's guarantee for the body, into a local buffer.
    if !unsafe { body.read(0, &mut gid) } {
        return ILLEGAL_MESSAGE;
    }
    info.gid = GroupIdC {
        id: [0, 4, 8]
            .map(|at| i32::from_ne_bytes([gid[at], gid[at + 1], gid[at + 2], gid[at + 3]])),
    };
    info.changed_member = [0; MAX_GROUP_NAME];
    if !is_reg_memb(st) {
        info.num_vs_sets = 0;
        info.my_vs_set = VsSetInfo::default();
        return 1;
    }
    if st & (CAUSED_BY_JOIN | CAUSED_BY_LEAVE | CAUSED_BY_DISCONNECT) != 0 {
        let mut name = [0u8; MAX_GROUP_NAME];
        // SAFETY: the caller's guarantee for the body, into a local buffer.
        if !unsafe { body.read(CHANGED_MEMBER_AT, &mut name) } {
            return ILLEGAL_MESSAGE;
        }
        info.changed_member = name.map(|b| b as c_char);
    }
    // SAFETY: the caller's guarantee for the body.
    let (sets, local) = unsafe { (body.u32_at(NUM_SETS_AT), body.u32_at(LOCAL_OFFSET_AT)) };
    let (Some(sets), Some(local)) = (sets, local) else {
        return ILLEGAL_MESSAGE;
    };
    let my_set = MEMBERSHIP_PREFIX_LEN + local as usize;
    // SAFETY: the caller's guarantee for the body, which covers the offset
    // the body itself gives.
    let Some(count) = (unsafe { body.u32_at(my_set) }) else {
        return ILLEGAL_MESSAGE;
    };
    info.num_vs_sets = sets;
    info.my_vs_set = VsSetInfo {
        num_members: count,
        members_offset: (my_set + 4) as c_uint,
    };
    1
}

/// # Safety
/// `body` as for `read_memb_info`; `vs_sets` is NULL or holds
/// `num_vs_sets` writable entries; `my_index` is NULL or a writable uint.
unsafe fn vs_sets_info(
    body: &Body<'_>,
    vs_sets: *mut VsSetInfo,
    num_vs_sets: c_int,
    my_index: *mut c_uint,
) -> c_int {
    // SAFETY: the caller's guarantee for the body.
    let Some(sets) = (unsafe { body.u32_at(NUM_SETS_AT) }) else {
        return ILLEGAL_MESSAGE;
    };
    if num_vs_sets < 0 || (num_vs_sets as u64) < u64::from(sets) {
        return BUFFER_TOO_SHORT;
    }
    if (vs_sets.is_null() && sets > 0) || my_index.is_null() {
        return ILLEGAL_MESSAGE;
    }
    // SAFETY: the caller's guarantee for the body.
    let Some(local) = (unsafe { body.u32_at(LOCAL_OFFSET_AT) }) else {
        return ILLEGAL_MESSAGE;
    };
    let local = MEMBERSHIP_PREFIX_LEN + local as usize;
    let mut at = MEMBERSHIP_PREFIX_LEN;
    for i in 0..sets as usize {
        if at == local {
            // SAFETY: `my_index` is not NULL (checked above) and the caller
            // guarantees it is a writable uint.
            unsafe { *my_index = i as c_uint };
        }
        // SAFETY: the caller's guarantee for the body.
        let Some(count) = (unsafe { body.u32_at(at) }) else {
            return ILLEGAL_MESSAGE;
        };
        // SAFETY: `i` < `sets` <= `num_vs_sets` (checked above), `vs_sets`
        // is not NULL when `sets` > 0, and the caller guarantees it holds
        // `num_vs_sets` writable entries.
        unsafe {
            *vs_sets.add(i) = VsSetInfo {
                num_members: count,
                members_offset: (at + 4) as c_uint,
            }
        };
        at += 4 + count as usize * MAX_GROUP_NAME;
    }
    sets as c_int
}

/// # Safety
/// `body` as for `read_memb_info`, at the offsets `vs_set` gives;
/// `vs_set` is NULL or a readable VsSetInfo; `names` is NULL or holds
/// `count` writable fields, apart from the body.
unsafe fn vs_set_members(
    body: &Body<'_>,
    vs_set: *const VsSetInfo,
    names: *mut [c_char; MAX_GROUP_NAME],
    count: c_int,
) -> c_int {
    // SAFETY: the caller guarantees `vs_set` is NULL or readable.
    let Some(set) = (unsafe { vs_set.as_ref() }) else {
        return ILLEGAL_MESSAGE;
    };
    if count < 0 || (count as u64) < u64::from(set.num_members) {
        return BUFFER_TOO_SHORT;
    }
    if names.is_null() && set.num_members > 0 {
        return ILLEGAL_MESSAGE;
    }
    for i in 0..set.num_members as usize {
        // SAFETY: `i` < `num_members` <= `count` (checked above), `names`
        // is not NULL when there are members, and the caller guarantees
        // `count` writable fields of MAX_GROUP_NAME bytes, not otherwise
        // referenced during this call.
        let dst =
            unsafe { std::slice::from_raw_parts_mut(names.add(i) as *mut u8, MAX_GROUP_NAME) };
        // SAFETY: the caller's guarantee for the body at `vs_set`'s offsets.
        if !unsafe { body.read(set.members_offset as usize + i * MAX_GROUP_NAME, dst) } {
            return ILLEGAL_MESSAGE;
        }
    }
    set.num_members as c_int
}

fn flat(memb_mess: *const c_char) -> Option<Body<'static>> {
    (!memb_mess.is_null()).then_some(Body::Flat(memb_mess as *const u8))
}

/// # Safety
/// `memb_mess` is NULL or the whole body of a membership message as
/// SP_receive delivered it (a flat body has no length, so the offsets in
/// it must be readable); `memb_info` is NULL or points to a writable
/// membership_info.
#[no_mangle]
pub unsafe extern "C" fn SP_get_memb_info(
    memb_mess: *const c_char,
    service_type: Service,
    memb_info: *mut MembershipInfo,
) -> c_int {
    guard_code(|| {
        flat(memb_mess).map_or(ILLEGAL_MESSAGE, |b| {
            // SAFETY: the caller guarantees `memb_mess` is a received
            // membership body (so its offsets are readable) and the other
            // pointers are as this function's Safety section says.
            unsafe { read_memb_info(&b, service_type, memb_info) }
        })
    })
}

/// # Safety
/// `memb_mess` as for SP_get_memb_info; `vs_sets` is NULL or holds
/// `num_vs_sets` writable entries; `my_vs_set_index` is NULL or points to
/// a writable unsigned int.
#[no_mangle]
pub unsafe extern "C" fn SP_get_vs_sets_info(
    memb_mess: *const c_char,
    vs_sets: *mut VsSetInfo,
    num_vs_sets: c_int,
    my_vs_set_index: *mut c_uint,
) -> c_int {
    guard_code(|| {
        flat(memb_mess).map_or(ILLEGAL_MESSAGE, |b| {
            // SAFETY: the caller guarantees `memb_mess` is a received
            // membership body (so its offsets are readable) and the other
            // pointers are as this function's Safety section says.
            unsafe { vs_sets_info(&b, vs_sets, num_vs_sets, my_vs_set_index) }
        })
    })
}

/// # Safety
/// `memb_mess` as for SP_get_memb_info, and `vs_set` NULL or an entry
/// filled from that same body (its offset is trusted); `member_names` is
/// NULL or holds `member_names_count` writable 32-byte fields.
#[no_mangle]
pub unsafe extern "C" fn SP_get_vs_set_members(
    memb_mess: *const c_char,
    vs_set: *const VsSetInfo,
    member_names: *mut [c_char; MAX_GROUP_NAME],
    member_names_count: c_int,
) -> c_int {
    guard_code(|| {
        flat(memb_mess).map_or(ILLEGAL_MESSAGE, |b| {
            // SAFETY: the caller guarantees `memb_mess` is a received
            // membership body (so its offsets are readable) and the other
            // pointers are as this function's Safety section says.
            unsafe { vs_set_members(&b, vs_set, member_names, member_names_count) }
        })
    })
}

/// # Safety
/// `memb_mess_scat` is NULL or a valid scatter whose first
/// `num_elements` elements are NULL or readable for their `len`, holding a
/// membership body; `memb_info` is NULL or points to a writable
/// membership_info.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_get_memb_info(
    memb_mess_scat: *const Scatter,
    service_type: Service,
    memb_info: *mut MembershipInfo,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees `memb_mess_scat` is NULL or a valid
        // scatter of readable elements.
        let body = unsafe { Body::from_scatter(memb_mess_scat) };
        body.map_or(ILLEGAL_MESSAGE, |b| {
            // SAFETY: a scattered body is bounds-checked; the other
            // pointers are as this function's Safety section says.
            unsafe { read_memb_info(&b, service_type, memb_info) }
        })
    })
}

/// # Safety
/// `memb_mess_scat` as for SP_scat_get_memb_info; `vs_sets` is NULL or
/// holds `num_vs_sets` writable entries; `my_vs_set_index` is NULL or
/// points to a writable unsigned int.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_get_vs_sets_info(
    memb_mess_scat: *const Scatter,
    vs_sets: *mut VsSetInfo,
    num_vs_sets: c_int,
    my_vs_set_index: *mut c_uint,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees `memb_mess_scat` is NULL or a valid
        // scatter of readable elements.
        let body = unsafe { Body::from_scatter(memb_mess_scat) };
        body.map_or(ILLEGAL_MESSAGE, |b| {
            // SAFETY: a scattered body is bounds-checked; the other
            // pointers are as this function's Safety section says.
            unsafe { vs_sets_info(&b, vs_sets, num_vs_sets, my_vs_set_index) }
        })
    })
}

/// # Safety
/// `memb_mess_scat` as for SP_scat_get_memb_info; `vs_set` is NULL or a
/// readable entry; `member_names` is NULL or holds `member_names_count`
/// writable 32-byte fields.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_get_vs_set_members(
    memb_mess_scat: *const Scatter,
    vs_set: *const VsSetInfo,
    member_names: *mut [c_char; MAX_GROUP_NAME],
    member_names_count: c_int,
) -> c_int {
    guard_code(|| {
        // SAFETY: the caller guarantees `memb_mess_scat` is NULL or a valid
        // scatter of readable elements.
        let body = unsafe { Body::from_scatter(memb_mess_scat) };
        body.map_or(ILLEGAL_MESSAGE, |b| {
            // SAFETY: a scattered body is bounds-checked; the other
            // pointers are as this function's Safety section says.
            unsafe { vs_set_members(&b, vs_set, member_names, member_names_count) }
        })
    })
}
