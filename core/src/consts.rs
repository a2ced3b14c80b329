//! Every number of Spread 5's `sp.h` and of the client protocol, defined once.
//!
//! The C header in `include/` and every binding refer to these values; a test
//! checks the header against them.

// ---- service-type bits (the `type` field of a message header) ----
/// Service bit: unreliable delivery; may be lost, no order.
pub const UNRELIABLE_MESS: u32 = 0x0000_0001;
/// Service bit: reliable delivery, no order.
pub const RELIABLE_MESS: u32 = 0x0000_0002;
/// Service bit: reliable, in the order each sender sent.
pub const FIFO_MESS: u32 = 0x0000_0004;
/// Service bit: reliable, in causal order.
pub const CAUSAL_MESS: u32 = 0x0000_0008;
/// Service bit: reliable, in one total order agreed by every receiver.
pub const AGREED_MESS: u32 = 0x0000_0010;
/// Service bit: agreed order, delivered only once every member of the
/// configuration has it (stable).
pub const SAFE_MESS: u32 = 0x0000_0020;
/// Mask of the six service bits: a type with any of them is an application
/// message.
pub const REGULAR_MESS: u32 = 0x0000_003f;

/// Flag on a send: the sender does not get its own message back; echoed to
/// the receivers.
pub const SELF_DISCARD: u32 = 0x0000_0040;
/// Input flag of `SP_receive`: consume a message that does not fit the
/// buffers, cut to fit, rather than keep it for a retry with bigger ones. A
/// daemon passes it through unchecked if a client sets it on a send.
pub const DROP_RECV: u32 = 0x0100_0000;

/// A regular membership message: the group's new member list and vs-sets.
pub const REG_MEMB_MESS: u32 = 0x0000_1000;
/// A transitional signal: the group's membership is about to change.
pub const TRANSITION_MESS: u32 = 0x0000_2000;
/// Cause of a membership change: a member joined.
pub const CAUSED_BY_JOIN: u32 = 0x0000_0100;
/// Cause of a membership change: a member left; alone (neither
/// [`REG_MEMB_MESS`] nor [`TRANSITION_MESS`]), the self-leave notice.
pub const CAUSED_BY_LEAVE: u32 = 0x0000_0200;
/// Cause of a membership change: a member's session ended.
pub const CAUSED_BY_DISCONNECT: u32 = 0x0000_0400;
/// Cause of a membership change: daemons partitioned or merged.
pub const CAUSED_BY_NETWORK: u32 = 0x0000_0800;
/// Mask of the membership bits (the four causes, [`REG_MEMB_MESS`] and
/// [`TRANSITION_MESS`]).
pub const MEMBERSHIP_MESS: u32 = 0x0000_3f00;

/// Byte-order marker bits (7 and 31): both set when the writer was
/// little-endian, both clear when big-endian.
pub const ENDIAN_RESERVED: u32 = 0x8000_0080;
/// Bits 14–21, reserved in the public `sp.h` (the internal types below).
pub const RESERVED: u32 = 0x003f_c000;
/// A message the daemon refused, returned to its sender with its original
/// type after the header.
pub const REJECT_MESS: u32 = 0x0040_0000;

// Internal service types: client->daemon requests and daemon-internal kinds.
/// Daemon-internal: a retransmission.
pub const RETRANSMIT_TYPE: u32 = 0x0000_4000;
/// Daemon-internal: latency probe (5.0.1 debug builds only).
pub const LATENCY_MESS: u32 = 0x0000_8000;
/// Client request: join the one group named.
pub const JOIN_MESS: u32 = 0x0001_0000;
/// Client request: leave the one group named.
pub const LEAVE_MESS: u32 = 0x0002_0000;
/// Client request: end this session (what `SP_disconnect` sends).
pub const KILL_MESS: u32 = 0x0004_0000;
/// Daemon-to-daemon: group state exchange.
pub const GROUPS_MESS: u32 = 0x0008_0000;
/// Daemon-internal: a placeholder message.
pub const DUMMY_MESS: u32 = 0x0010_0000;
/// Daemon-internal: state transfer.
pub const STATETRANS_MESS: u32 = 0x0020_0000;

// ---- connect priorities ----
/// Connect priority 0 (`SP_connect`'s `priority`; the daemon does not act on it).
pub const LOW_PRIORITY: i32 = 0;
/// Connect priority 1; on the wire the same as [`HIGH_PRIORITY`].
pub const MEDIUM_PRIORITY: i32 = 1;
/// Connect priority 2; on the wire the same as [`MEDIUM_PRIORITY`].
pub const HIGH_PRIORITY: i32 = 2;

// ---- result and error codes ----
/// The daemon accepted the session: first byte of its accept message.
pub const ACCEPT_SESSION: i32 = 1;
/// The daemon name given to connect cannot be parsed or resolved.
pub const ILLEGAL_SPREAD: i32 = -1;
/// The socket to the daemon could not be opened.
pub const COULD_NOT_CONNECT: i32 = -2;
/// The daemon refused the connection: it has as many sessions as it admits.
pub const REJECT_QUOTA: i32 = -3;
/// The daemon refused the connection for want of a name (5.0.1 never sends it).
pub const REJECT_NO_NAME: i32 = -4;
/// The daemon refused the private name: too long or a byte outside `$`..`~`.
pub const REJECT_ILLEGAL_NAME: i32 = -5;
/// The daemon refused the private name: a session of that daemon has it.
pub const REJECT_NOT_UNIQUE: i32 = -6;
/// Client and daemon versions are incompatible (either side may decide).
pub const REJECT_VERSION: i32 = -7;
/// The connection closed or failed (during the handshake, a send or a receive).
pub const CONNECTION_CLOSED: i32 = -8;
/// Authentication failed, or the daemon does not offer a method asked for.
pub const REJECT_AUTH: i32 = -9;
/// The mailbox is unknown or already disconnected.
pub const ILLEGAL_SESSION: i32 = -11;
/// The service type of a send is not exactly one service bit, or has a
/// forbidden bit.
pub const ILLEGAL_SERVICE: i32 = -12;
/// A message cannot be read or is malformed.
pub const ILLEGAL_MESSAGE: i32 = -13;
/// A group name is empty, too long or has an illegal byte, or a send names
/// too many groups.
pub const ILLEGAL_GROUP: i32 = -14;
/// The receive buffer is smaller than the message body.
pub const BUFFER_TOO_SHORT: i32 = -15;
/// The receive group array is smaller than the message's group list.
pub const GROUPS_TOO_SHORT: i32 = -16;
/// Body plus 32 bytes per destination group exceeds the size limit.
pub const MESSAGE_TOO_LONG: i32 = -17;
/// The session's socket failed; the session must be killed.
pub const NET_ERROR_ON_SESSION: i32 = -18;
/// An internal error of the library.
pub const SP_BUG: i32 = -19;
/// A negative or otherwise unusable timeout (`SP_connect_timeout`).
pub const ILLEGAL_TIME: i32 = -20;

// ---- Flush Spread (fl.h) ----
/// `FL_scat_receive` service flag: return [`WOULD_BLOCK`] rather than wait.
pub const DONT_BLOCK: u32 = 0x1000_0000;
/// Service type of a flush request: the group's view is out of date and
/// the application is asked to `FL_flush` it.
pub const FLUSH_REQ_MESS: u32 = 0x2000_0000;
/// Service bit of a message sent to some members of a group
/// (`FL_unicast`, `FL_subgroupcast`); it travels to the daemon and back.
pub const SUBGROUP_CAST: u32 = 0x4000_0000;
/// A negative size or count was passed to a Flush function.
pub const ILLEGAL_PARAM: i32 = -24;
/// A non-blocking Flush receive found nothing to return.
pub const WOULD_BLOCK: i32 = -25;
/// A message type below [`FL_MIN_LEGAL_MESS_TYPE`] (reserved for the flush
/// protocol's own messages).
pub const ILLEGAL_MESSAGE_TYPE: i32 = -26;
/// A Flush call made in a state that forbids it (flush without a flush
/// request, send after flushing).
pub const ILLEGAL_STATE: i32 = -27;
/// A receiver of a unicast or subgroupcast is not in the sender's view.
pub const ILLEGAL_RECEIVERS: i32 = -28;
/// Scatter elements a Flush send may use (one is kept for its trailer).
pub const FL_MAX_SCATTER_ELEMENTS: usize = MAX_CLIENT_SCATTER_ELEMENTS - 1;
/// The smallest message type an application may send through Flush.
pub const FL_MIN_LEGAL_MESS_TYPE: i16 = -32765;
/// Message type of the flush protocol's FLUSH_OK (a member's consent to
/// install the view its body names).
pub const FL_FLUSH_OK_MESS: i16 = -32768;
/// Message type of FLUSH_RECV (a member installed the view its body names).
pub const FL_FLUSH_RECV_MESS: i16 = -32767;
/// Message type of a data message sent while a view change is under way;
/// the application's type and the sender's view id follow its data.
pub const FL_VULNERABLE_MESS: i16 = -32766;
/// Flush library version `FL_version` reports (5.0.1's libspread: 2.0.0).
pub const FL_VERSION: (i32, i32, i32) = (2, 0, 0);

// ---- versions ----
/// Major version announced in the handshake (Spread 5.0.1).
pub const SP_MAJOR_VERSION: u8 = 5;
/// Minor version announced in the handshake.
pub const SP_MINOR_VERSION: u8 = 0;
/// Patch version announced in the handshake.
pub const SP_PATCH_VERSION: u8 = 1;

// ---- sizes and limits ----
/// The daemon's default port, TCP for clients, and the name of its Unix
/// socket (`/tmp/4803`).
pub const DEFAULT_SPREAD_PORT: u16 = 4803;
/// Longest private name a client may ask for, in bytes (no NUL counted).
pub const MAX_PRIVATE_NAME: usize = 10;
/// Daemon name field size including its NUL (so at most 19 characters).
pub const MAX_PROC_NAME: usize = 20;
/// Size of every name field on the wire (31 usable bytes plus NUL).
pub const MAX_GROUP_NAME: usize = 32;
/// Bytes of one slot of the auth choice, NUL padding included.
pub const MAX_AUTH_NAME: usize = 30;
/// Slots in the auth choice: at most this many methods per connect.
pub const MAX_AUTH_METHODS: usize = 3;
/// Bytes of the client's auth choice (90).
pub const AUTH_CHOICE_LEN: usize = MAX_AUTH_NAME * MAX_AUTH_METHODS;
/// Most destination groups a send may name (a 5.0.1 daemon silently
/// loses sends to more than 43; `client-protocol.md` §5.4).
pub const MAX_GROUPS_PER_MESSAGE: usize = 100;
/// Most elements of a C `scatter` (API only; never on the wire).
pub const MAX_CLIENT_SCATTER_ELEMENTS: usize = 100;
/// Bytes of a message header: type, sender, `num_groups`, hint, `data_len`.
pub const HEADER_LEN: usize = 48;
/// The nominal body limit of `sp.h`: `100 * (1472 - 32)`.
pub const MAX_MESSAGE_BODY_LEN: usize = 144_000;
/// The daemon's nominal admission limit on `data_len + 32 * num_groups`.
pub const MAX_MESSAGE_PAYLOAD: usize = MAX_MESSAGE_BODY_LEN - HEADER_LEN;
/// The largest `data_len + 32 * num_groups` that a 5.0.1 daemon really
/// delivers (100 fragments of 1432 bytes minus one byte of slack;
/// `shared/spec/client-protocol.md` §5.4).
/// Our client refuses anything above it so it works against both daemons.
pub const MAX_INTEROPERABLE_PAYLOAD: usize = 143_151;
/// The largest body we carry to one group on a 5.0.1 ring (143,151 − 32): a daemon's
/// `MaxMessageSize` at or below it means 5.0.1's limit.
pub const MAX_INTEROPERABLE_BODY: usize = MAX_INTEROPERABLE_PAYLOAD - MAX_GROUP_NAME;
/// The largest `MaxMessageSize` a daemon of ours accepts (32 MiB): with
/// the header and 100 group names it is 23,434 fragments of 1,432 bytes,
/// within the 5.0.1 fragment header's signed 16-bit index.
pub const MAX_LARGE_MESSAGE: usize = 32 << 20;
/// The auth-list word by which a daemon of ours with a `MaxMessageSize`
/// offers large messages (`MaxMessageSize=<n>`); a client of ours that
/// takes them lists the same word in its auth choice. 5.0.1's libraries
/// ignore words they do not use, and 5.0.1's daemon never offers it.
pub const LARGE_MESSAGES_WORD: &str = "MaxMessageSize=";
/// Sessions a 5.0.1 daemon admits (`(2000 - 5) / 2`); more get
/// [`REJECT_QUOTA`]. Ours is configurable above it.
pub const MAX_SESSIONS: usize = 997;
/// 5.0.1's `MaxSessionMessages`: a session with this many messages queued
/// at the daemon and not read is disconnected.
pub const DEFAULT_MAX_SESSION_MESSAGES: usize = 1000;
/// Local members one group may have at a 5.0.1 daemon; a join beyond it is
/// rejected.
pub const MAX_LOCAL_GROUP_MEMBERS: usize = 3122;

/// Lowest byte allowed in private, daemon and group names (`$`).
pub const NAME_CHAR_MIN: u8 = 0x24;
/// Highest byte allowed in private, daemon and group names (`~`).
pub const NAME_CHAR_MAX: u8 = 0x7e;

/// The one service bit a regular message must carry, if it carries exactly one.
pub fn single_service_bit(service_type: u32) -> Option<u32> {
    let bits = service_type & REGULAR_MESS;
    (bits.count_ones() == 1).then_some(bits)
}

/// Any of the [`REGULAR_MESS`] bits set. Unlike `sp.h`'s `Is_regular_mess`
/// this is also true of a reject (whose type keeps its service bit), so test
/// [`is_reject`] first.
pub fn is_regular(service_type: u32) -> bool {
    service_type & REGULAR_MESS != 0
}

/// Any of the [`MEMBERSHIP_MESS`] bits set: regular, transitional or
/// self-leave. Unlike `sp.h`'s `Is_membership_mess` this does not exclude
/// [`REJECT_MESS`] (a refused join or leave carries a `CAUSED_BY_*` bit).
pub fn is_membership(service_type: u32) -> bool {
    service_type & MEMBERSHIP_MESS != 0
}

/// A regular membership message (`Is_reg_memb_mess`).
pub fn is_reg_memb(service_type: u32) -> bool {
    service_type & REG_MEMB_MESS != 0
}

/// A transitional signal (`Is_transition_mess`).
pub fn is_transition(service_type: u32) -> bool {
    service_type & TRANSITION_MESS != 0
}

/// A self-leave notice: CAUSED_BY_LEAVE with neither REG_MEMB nor TRANSITION.
pub fn is_self_leave(service_type: u32) -> bool {
    service_type & CAUSED_BY_LEAVE != 0 && service_type & (REG_MEMB_MESS | TRANSITION_MESS) == 0
}

/// A message the daemon refused and returned (`Is_reject_mess`).
pub fn is_reject(service_type: u32) -> bool {
    service_type & REJECT_MESS != 0
}
