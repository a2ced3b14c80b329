//! The C structs of sp.h and sp_events.h, with identical layouts.

use libc::{c_char, c_long, c_uint, size_t};
use spread_core::consts::{MAX_CLIENT_SCATTER_ELEMENTS, MAX_GROUP_NAME};

pub type Mailbox = libc::c_int;
pub type Service = libc::c_int;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ScatElement {
    pub buf: *mut c_char,
    pub len: size_t,
}

#[repr(C)]
pub struct Scatter {
    pub num_elements: size_t,
    pub elements: [ScatElement; MAX_CLIENT_SCATTER_ELEMENTS],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupIdC {
    pub id: [i32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VsSetInfo {
    pub num_members: c_uint,
    pub members_offset: c_uint,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MembershipInfo {
    pub gid: GroupIdC,
    pub changed_member: [c_char; MAX_GROUP_NAME],
    pub num_vs_sets: c_uint,
    pub my_vs_set: VsSetInfo,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpTime {
    pub sec: c_long,
    pub usec: c_long,
}

/// `sp_secret` (ours): the SECRET method's data for `SP_auth_secret`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SecretC {
    pub identity: *const c_char,
    pub secret: *const libc::c_void,
    pub secret_len: libc::c_int,
}
