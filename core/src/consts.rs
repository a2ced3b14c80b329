//! Every number of Spread 5's `sp.h` and of the client protocol, defined once.
//!
//! The C header in `include/` and every binding refer to these values; a test
//! checks the header against them.

// ---- service-type bits (the `type` field of a message header) ----
pub const UNRELIABLE_MESS: u32 = 0x0000_0001;
pub const RELIABLE_MESS: u32 = 0x0000_0002;
pub const FIFO_MESS: u32 = 0x0000_0004;
pub const CAUSAL_MESS: u32 = 0x0000_0008;
pub const AGREED_MESS: u32 = 0x0000_0010;
pub const SAFE_MESS: u32 = 0x0000_0020;
pub const REGULAR_MESS: u32 = 0x0000_003f;

pub const SELF_DISCARD: u32 = 0x0000_0040;
pub const DROP_RECV: u32 = 0x0100_0000;

pub const REG_MEMB_MESS: u32 = 0x0000_1000;
pub const TRANSITION_MESS: u32 = 0x0000_2000;
pub const CAUSED_BY_JOIN: u32 = 0x0000_0100;
pub const CAUSED_BY_LEAVE: u32 = 0x0000_0200;
pub const CAUSED_BY_DISCONNECT: u32 = 0x0000_0400;
pub const CAUSED_BY_NETWORK: u32 = 0x0000_0800;
pub const MEMBERSHIP_MESS: u32 = 0x0000_3f00;

pub const ENDIAN_RESERVED: u32 = 0x8000_0080;
pub const RESERVED: u32 = 0x003f_c000;
pub const REJECT_MESS: u32 = 0x0040_0000;

// Internal service types: client->daemon requests and daemon-internal kinds.
pub const RETRANSMIT_TYPE: u32 = 0x0000_4000;
pub const LATENCY_MESS: u32 = 0x0000_8000;
pub const JOIN_MESS: u32 = 0x0001_0000;
pub const LEAVE_MESS: u32 = 0x0002_0000;
pub const KILL_MESS: u32 = 0x0004_0000;
pub const GROUPS_MESS: u32 = 0x0008_0000;
pub const DUMMY_MESS: u32 = 0x0010_0000;
pub const STATETRANS_MESS: u32 = 0x0020_0000;

// ---- connect priorities ----
pub const LOW_PRIORITY: i32 = 0;
pub const MEDIUM_PRIORITY: i32 = 1;
pub const HIGH_PRIORITY: i32 = 2;

// ---- result and error codes ----
pub const ACCEPT_SESSION: i32 = 1;
pub const ILLEGAL_SPREAD: i32 = -1;
pub const COULD_NOT_CONNECT: i32 = -2;
pub const REJECT_QUOTA: i32 = -3;
pub const REJECT_NO_NAME: i32 = -4;
pub const REJECT_ILLEGAL_NAME: i32 = -5;
pub const REJECT_NOT_UNIQUE: i32 = -6;
pub const REJECT_VERSION: i32 = -7;
pub const CONNECTION_CLOSED: i32 = -8;
pub const REJECT_AUTH: i32 = -9;
pub const ILLEGAL_SESSION: i32 = -11;
pub const ILLEGAL_SERVICE: i32 = -12;
pub const ILLEGAL_MESSAGE: i32 = -13;
pub const ILLEGAL_GROUP: i32 = -14;
pub const BUFFER_TOO_SHORT: i32 = -15;
pub const GROUPS_TOO_SHORT: i32 = -16;
pub const MESSAGE_TOO_LONG: i32 = -17;
pub const NET_ERROR_ON_SESSION: i32 = -18;
pub const SP_BUG: i32 = -19;
pub const ILLEGAL_TIME: i32 = -20;

// ---- versions ----
pub const SP_MAJOR_VERSION: u8 = 5;
pub const SP_MINOR_VERSION: u8 = 0;
pub const SP_PATCH_VERSION: u8 = 1;

// ---- sizes and limits ----
pub const DEFAULT_SPREAD_PORT: u16 = 4803;
pub const MAX_PRIVATE_NAME: usize = 10;
/// Daemon name field size including its NUL (so at most 19 characters).
pub const MAX_PROC_NAME: usize = 20;
/// Size of every name field on the wire (31 usable bytes plus NUL).
pub const MAX_GROUP_NAME: usize = 32;
pub const MAX_AUTH_NAME: usize = 30;
pub const MAX_AUTH_METHODS: usize = 3;
pub const AUTH_CHOICE_LEN: usize = MAX_AUTH_NAME * MAX_AUTH_METHODS;
pub const MAX_GROUPS_PER_MESSAGE: usize = 100;
pub const MAX_CLIENT_SCATTER_ELEMENTS: usize = 100;
pub const HEADER_LEN: usize = 48;
/// The nominal body limit of `sp.h`: `100 * (1472 - 32)`.
pub const MAX_MESSAGE_BODY_LEN: usize = 144_000;
/// The daemon's nominal admission limit on `data_len + 32 * num_groups`.
pub const MAX_MESSAGE_PAYLOAD: usize = MAX_MESSAGE_BODY_LEN - HEADER_LEN;
/// The largest `data_len + 32 * num_groups` that a 5.0.1 daemon really
/// delivers (100 fragments of 1432 bytes minus one byte of slack; §5.4).
/// Our client refuses anything above it so it works against both daemons.
pub const MAX_INTEROPERABLE_PAYLOAD: usize = 143_151;
/// Sessions a 5.0.1 daemon admits; ours is configurable above it.
pub const MAX_SESSIONS: usize = 997;
pub const DEFAULT_MAX_SESSION_MESSAGES: usize = 1000;
pub const MAX_LOCAL_GROUP_MEMBERS: usize = 3122;

/// Lowest and highest byte allowed in private, daemon and group names.
pub const NAME_CHAR_MIN: u8 = 0x24;
pub const NAME_CHAR_MAX: u8 = 0x7e;

/// The one service bit a regular message must carry, if it carries exactly one.
pub fn single_service_bit(service_type: u32) -> Option<u32> {
    let bits = service_type & REGULAR_MESS;
    (bits.count_ones() == 1).then_some(bits)
}

pub fn is_regular(service_type: u32) -> bool {
    service_type & REGULAR_MESS != 0
}

pub fn is_membership(service_type: u32) -> bool {
    service_type & MEMBERSHIP_MESS != 0
}

pub fn is_reg_memb(service_type: u32) -> bool {
    service_type & REG_MEMB_MESS != 0
}

pub fn is_transition(service_type: u32) -> bool {
    service_type & TRANSITION_MESS != 0
}

/// A self-leave notice: CAUSED_BY_LEAVE with neither REG_MEMB nor TRANSITION.
pub fn is_self_leave(service_type: u32) -> bool {
    service_type & CAUSED_BY_LEAVE != 0 && service_type & (REG_MEMB_MESS | TRANSITION_MESS) == 0
}

pub fn is_reject(service_type: u32) -> bool {
    service_type & REJECT_MESS != 0
}
