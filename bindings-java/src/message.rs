//! A received `spread_core::wire::Message`, handed to Java in two arrays:
//! a few numbers, and one byte array with the names and the body. Java
//! (`spread.Native.decode`) builds the `SpreadMessage` from them; a
//! `flush::FlushMessage` crosses the same way ([`encode_flush`]) and
//! becomes a `spread.FlushMessage`.
//!
//! Two array copies per message instead of a string, an array and an
//! object per name and a call back into Java: the receive path is where a
//! flood spends its time.
//!
//! What Java gets is what Spread 5.0.1's Java client gave: the service type
//! as the daemon sent it (a reject carries its old type), the sender (for
//! membership kinds: the group), the group list (for a view: its members),
//! the message type (for a view: this member's index in it, otherwise -1
//! for membership kinds), the body (for a view: its raw body), and for a
//! view the group id and the vs-sets.

use spread_core::consts::{CAUSED_BY_LEAVE, MAX_GROUP_NAME, TRANSITION_MESS};
use spread_core::flush::FlushMessage;
use spread_core::name::GroupName;
use spread_core::wire::{ByteOrder, DataMessage, GroupId, Message, RejectMessage};

/// Slots of the `int[]` Java passes; `spread.Native` reads the same ones.
pub mod meta {
    pub const SERVICE_TYPE: usize = 0;
    pub const MESS_TYPE: usize = 1;
    pub const ENDIAN_MISMATCH: usize = 2;
    pub const NUM_GROUPS: usize = 3;
    pub const DATA_LEN: usize = 4;
    /// Three slots: the view's group id.
    pub const GROUP_ID: usize = 5;
    /// -1 when the message has no vs-sets (anything but a view).
    pub const NUM_VS_SETS: usize = 8;
    pub const LOCAL_VS_SET: usize = 9;
    pub const LEN: usize = 10;
}

/// Appends a name as Spread's 32-byte field, NUL-padded.
fn name(bytes: &mut Vec<u8>, n: &GroupName) {
    let text = n.as_bytes();
    bytes.extend_from_slice(text);
    bytes.resize(bytes.len() + (MAX_GROUP_NAME - text.len()), 0);
}

/// Numbers with no group id and no vs-sets.
fn blank() -> [i32; meta::LEN] {
    let mut m = [0i32; meta::LEN];
    m[meta::NUM_VS_SETS] = -1;
    m[meta::LOCAL_VS_SET] = -1;
    m
}

/// The sender and the groups into `bytes`, their counts into `m`; the
/// caller appends the vs-sets (if any), then `body`.
fn names(
    m: &mut [i32; meta::LEN],
    bytes: &mut Vec<u8>,
    sender: &GroupName,
    groups: &[GroupName],
    body: &[u8],
) {
    bytes.clear();
    name(bytes, sender);
    for g in groups {
        name(bytes, g);
    }
    m[meta::NUM_GROUPS] = groups.len() as i32;
    m[meta::DATA_LEN] = body.len() as i32;
}

fn data(d: &DataMessage, bytes: &mut Vec<u8>) -> [i32; meta::LEN] {
    let mut m = blank();
    m[meta::SERVICE_TYPE] = d.service_type as i32;
    m[meta::MESS_TYPE] = i32::from(d.mess_type);
    m[meta::ENDIAN_MISMATCH] = i32::from(d.endian_mismatch);
    names(&mut m, bytes, &d.sender, &d.groups, &d.data);
    bytes.extend_from_slice(&d.data);
    m
}

fn reject(r: &RejectMessage, service_type: u32, bytes: &mut Vec<u8>) -> [i32; meta::LEN] {
    let mut m = blank();
    m[meta::SERVICE_TYPE] = service_type as i32;
    m[meta::MESS_TYPE] = i32::from(r.mess_type);
    m[meta::ENDIAN_MISMATCH] = i32::from(r.endian_mismatch);
    names(&mut m, bytes, &r.sender, &r.groups, &r.data);
    bytes.extend_from_slice(&r.data);
    m
}

/// A membership kind without a view (a transitional signal, a self-leave,
/// a flush request): the service type, the group as the sender, `body`.
fn signal(
    service_type: u32,
    group: &GroupName,
    body: &[u8],
    bytes: &mut Vec<u8>,
) -> [i32; meta::LEN] {
    let mut m = blank();
    m[meta::SERVICE_TYPE] = service_type as i32;
    m[meta::MESS_TYPE] = -1;
    names(&mut m, bytes, group, &[], body);
    bytes.extend_from_slice(body);
    m
}

fn group_id(m: &mut [i32; meta::LEN], id: &GroupId) {
    m[meta::GROUP_ID] = id.proc_id as i32;
    m[meta::GROUP_ID + 1] = id.time;
    m[meta::GROUP_ID + 2] = id.index;
}

fn vs_set(bytes: &mut Vec<u8>, set: &[GroupName]) {
    bytes.extend_from_slice(&(set.len() as u32).to_be_bytes());
    for member in set {
        name(bytes, member);
    }
}

/// The message as numbers and bytes. The bytes are: the sender's name
/// field, each group's, then per vs-set its member count (4 bytes, big
/// endian) and its members' fields, then the body. Every name field is
/// Spread's 32 bytes, NUL-padded.
pub fn encode(msg: &Message, private_group: &GroupName, bytes: &mut Vec<u8>) -> [i32; meta::LEN] {
    match msg {
        Message::Data(d) => data(d, bytes),
        Message::Reject(r) => reject(r, msg.service_type(), bytes),
        Message::Membership(v) => {
            let mut m = blank();
            m[meta::SERVICE_TYPE] = v.service_type as i32;
            m[meta::MESS_TYPE] = v.index_of(private_group).map_or(-1, |i| i as i32);
            names(&mut m, bytes, &v.group, &v.members, &v.raw_body);
            group_id(&mut m, &v.group_id);
            m[meta::NUM_VS_SETS] = v.vs_sets.len() as i32;
            m[meta::LOCAL_VS_SET] = v.local_vs_set as i32;
            for set in &v.vs_sets {
                vs_set(bytes, set);
            }
            bytes.extend_from_slice(&v.raw_body);
            m
        }
        // 5.0.1 hands the body through: the group id before the change.
        Message::Transition(t) => signal(
            TRANSITION_MESS,
            &t.group,
            &t.group_id.encode(ByteOrder::NATIVE),
            bytes,
        ),
        Message::SelfLeave { group } => signal(CAUSED_BY_LEAVE, group, &[], bytes),
    }
}

/// A Flush message in the same layout, as `FL_receive` reports it: a view
/// has its members as the groups, this connection's index as the type,
/// its id, one vs-set (the member that joined, left or disconnected; for
/// a network change, those that came along with this connection), and
/// `FL_receive`'s body (the id, the vs-set's size and names, in this
/// host's order). A flush request, a transitional signal and a self-leave
/// name the group as the sender and have no body.
pub fn encode_flush(msg: &FlushMessage, bytes: &mut Vec<u8>) -> [i32; meta::LEN] {
    match msg {
        FlushMessage::Data(d) => data(d, bytes),
        FlushMessage::Reject(r) => reject(r, msg.service_type(), bytes),
        FlushMessage::View(v) => {
            let body = v.body();
            let mut m = blank();
            m[meta::SERVICE_TYPE] = v.service_type as i32;
            m[meta::MESS_TYPE] = v.my_index as i32;
            names(&mut m, bytes, &v.group, &v.members, &body);
            group_id(&mut m, &v.group_id);
            m[meta::NUM_VS_SETS] = 1;
            m[meta::LOCAL_VS_SET] = 0;
            vs_set(bytes, &v.vs_set);
            bytes.extend_from_slice(&body);
            m
        }
        FlushMessage::FlushRequest { group }
        | FlushMessage::Transition { group }
        | FlushMessage::SelfLeave { group } => signal(msg.service_type(), group, &[], bytes),
    }
}
