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
    unsafe fn from_scatter(scat: *const Scatter) -> Option<Body<'static>> {
        let scat = scat.as_ref()?;
        if scat.num_elements > MAX_CLIENT_SCATTER_ELEMENTS {
            return None;
        }
        let mut parts = Vec::new();
        for e in &scat.elements[..scat.num_elements] {
            match (e.buf.is_null(), e.len) {
                (_, 0) => {}
                (true, _) => return None,
                (false, len) => parts.push(std::slice::from_raw_parts(e.buf as *const u8, len)),
            }
        }
        Some(Body::Scattered(parts))
    }

    /// Copies `dst.len()` bytes from `offset`; false if the body is shorter.
    unsafe fn read(&self, offset: usize, dst: &mut [u8]) -> bool {
        match self {
            Body::Flat(p) => {
                std::ptr::copy_nonoverlapping(p.add(offset), dst.as_mut_ptr(), dst.len());
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

    unsafe fn u32_at(&self, offset: usize) -> Option<u32> {
        let mut b = [0u8; 4];
        self.read(offset, &mut b).then(|| u32::from_ne_bytes(b))
    }
}

const NUM_SETS_AT: usize = GROUP_ID_LEN;
const LOCAL_OFFSET_AT: usize = GROUP_ID_LEN + 4;
/// The first member of the first set: the member that joined or left.
const CHANGED_MEMBER_AT: usize = MEMBERSHIP_PREFIX_LEN + 4;

unsafe fn read_memb_info(
    body: &Body<'_>,
    service_type: Service,
    info: *mut MembershipInfo,
) -> c_int {
    let st = service_type as u32;
    let Some(info) = info.as_mut() else {
        return ILLEGAL_MESSAGE;
    };
    if !is_membership(st) || is_reject(st) {
        return ILLEGAL_MESSAGE;
    }
    let mut gid = [0u8; GROUP_ID_LEN];
    if !body.read(0, &mut gid) {
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
        if !body.read(CHANGED_MEMBER_AT, &mut name) {
            return ILLEGAL_MESSAGE;
        }
        info.changed_member = name.map(|b| b as c_char);
    }
    let (Some(sets), Some(local)) = (body.u32_at(NUM_SETS_AT), body.u32_at(LOCAL_OFFSET_AT)) else {
        return ILLEGAL_MESSAGE;
    };
    let my_set = MEMBERSHIP_PREFIX_LEN + local as usize;
    let Some(count) = body.u32_at(my_set) else {
        return ILLEGAL_MESSAGE;
    };
    info.num_vs_sets = sets;
    info.my_vs_set = VsSetInfo {
        num_members: count,
        members_offset: (my_set + 4) as c_uint,
    };
    1
}

unsafe fn vs_sets_info(
    body: &Body<'_>,
    vs_sets: *mut VsSetInfo,
    num_vs_sets: c_int,
    my_index: *mut c_uint,
) -> c_int {
    let Some(sets) = body.u32_at(NUM_SETS_AT) else {
        return ILLEGAL_MESSAGE;
    };
    if num_vs_sets < 0 || (num_vs_sets as u64) < u64::from(sets) {
        return BUFFER_TOO_SHORT;
    }
    if (vs_sets.is_null() && sets > 0) || my_index.is_null() {
        return ILLEGAL_MESSAGE;
    }
    let Some(local) = body.u32_at(LOCAL_OFFSET_AT) else {
        return ILLEGAL_MESSAGE;
    };
    let local = MEMBERSHIP_PREFIX_LEN + local as usize;
    let mut at = MEMBERSHIP_PREFIX_LEN;
    for i in 0..sets as usize {
        if at == local {
            *my_index = i as c_uint;
        }
        let Some(count) = body.u32_at(at) else {
            return ILLEGAL_MESSAGE;
        };
        *vs_sets.add(i) = VsSetInfo {
            num_members: count,
            members_offset: (at + 4) as c_uint,
        };
        at += 4 + count as usize * MAX_GROUP_NAME;
    }
    sets as c_int
}

unsafe fn vs_set_members(
    body: &Body<'_>,
    vs_set: *const VsSetInfo,
    names: *mut [c_char; MAX_GROUP_NAME],
    count: c_int,
) -> c_int {
    let Some(set) = vs_set.as_ref() else {
        return ILLEGAL_MESSAGE;
    };
    if count < 0 || (count as u64) < u64::from(set.num_members) {
        return BUFFER_TOO_SHORT;
    }
    if names.is_null() && set.num_members > 0 {
        return ILLEGAL_MESSAGE;
    }
    for i in 0..set.num_members as usize {
        let dst = std::slice::from_raw_parts_mut(names.add(i) as *mut u8, MAX_GROUP_NAME);
        if !body.read(set.members_offset as usize + i * MAX_GROUP_NAME, dst) {
            return ILLEGAL_MESSAGE;
        }
    }
    set.num_members as c_int
}

fn flat(memb_mess: *const c_char) -> Option<Body<'static>> {
    (!memb_mess.is_null()).then_some(Body::Flat(memb_mess as *const u8))
}

/// # Safety
/// `memb_mess` is NULL or the body of a received membership message.
#[no_mangle]
pub unsafe extern "C" fn SP_get_memb_info(
    memb_mess: *const c_char,
    service_type: Service,
    memb_info: *mut MembershipInfo,
) -> c_int {
    guard_code(|| {
        flat(memb_mess).map_or(ILLEGAL_MESSAGE, |b| {
            read_memb_info(&b, service_type, memb_info)
        })
    })
}

/// # Safety
/// As SP_get_memb_info; `vs_sets` holds `num_vs_sets` entries.
#[no_mangle]
pub unsafe extern "C" fn SP_get_vs_sets_info(
    memb_mess: *const c_char,
    vs_sets: *mut VsSetInfo,
    num_vs_sets: c_int,
    my_vs_set_index: *mut c_uint,
) -> c_int {
    guard_code(|| {
        flat(memb_mess).map_or(ILLEGAL_MESSAGE, |b| {
            vs_sets_info(&b, vs_sets, num_vs_sets, my_vs_set_index)
        })
    })
}

/// # Safety
/// As SP_get_memb_info; `member_names` holds `member_names_count` fields.
#[no_mangle]
pub unsafe extern "C" fn SP_get_vs_set_members(
    memb_mess: *const c_char,
    vs_set: *const VsSetInfo,
    member_names: *mut [c_char; MAX_GROUP_NAME],
    member_names_count: c_int,
) -> c_int {
    guard_code(|| {
        flat(memb_mess).map_or(ILLEGAL_MESSAGE, |b| {
            vs_set_members(&b, vs_set, member_names, member_names_count)
        })
    })
}

/// # Safety
/// `memb_mess_scat` is NULL or a scatter holding a membership body.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_get_memb_info(
    memb_mess_scat: *const Scatter,
    service_type: Service,
    memb_info: *mut MembershipInfo,
) -> c_int {
    guard_code(|| {
        Body::from_scatter(memb_mess_scat).map_or(ILLEGAL_MESSAGE, |b| {
            read_memb_info(&b, service_type, memb_info)
        })
    })
}

/// # Safety
/// As SP_scat_get_memb_info; `vs_sets` holds `num_vs_sets` entries.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_get_vs_sets_info(
    memb_mess_scat: *const Scatter,
    vs_sets: *mut VsSetInfo,
    num_vs_sets: c_int,
    my_vs_set_index: *mut c_uint,
) -> c_int {
    guard_code(|| {
        Body::from_scatter(memb_mess_scat).map_or(ILLEGAL_MESSAGE, |b| {
            vs_sets_info(&b, vs_sets, num_vs_sets, my_vs_set_index)
        })
    })
}

/// # Safety
/// As SP_scat_get_memb_info; `member_names` holds `member_names_count` fields.
#[no_mangle]
pub unsafe extern "C" fn SP_scat_get_vs_set_members(
    memb_mess_scat: *const Scatter,
    vs_set: *const VsSetInfo,
    member_names: *mut [c_char; MAX_GROUP_NAME],
    member_names_count: c_int,
) -> c_int {
    guard_code(|| {
        Body::from_scatter(memb_mess_scat).map_or(ILLEGAL_MESSAGE, |b| {
            vs_set_members(&b, vs_set, member_names, member_names_count)
        })
    })
}
