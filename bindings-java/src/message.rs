//! A received `spread_core::wire::Message`, handed to Java in two arrays:
//! a few numbers, and one byte array with the names and the body. Java
//! (`spread.Native.decode`) builds the `SpreadMessage` from them.
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
use spread_core::name::GroupName;
use spread_core::wire::{ByteOrder, Message};

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

/// The message as numbers and bytes. The bytes are: the sender's name
/// field, each group's, then per vs-set its member count (4 bytes, big
/// endian) and its members' fields, then the body. Every name field is
/// Spread's 32 bytes, NUL-padded.
pub fn encode(msg: &Message, private_group: &GroupName, bytes: &mut Vec<u8>) -> [i32; meta::LEN] {
    let mut m = [0i32; meta::LEN];
    m[meta::NUM_VS_SETS] = -1;
    m[meta::LOCAL_VS_SET] = -1;
    bytes.clear();
    let name = |bytes: &mut Vec<u8>, n: &GroupName| {
        let text = n.as_bytes();
        bytes.extend_from_slice(text);
        bytes.resize(bytes.len() + (MAX_GROUP_NAME - text.len()), 0);
    };
    let data_and_groups = |m: &mut [i32; meta::LEN],
                           bytes: &mut Vec<u8>,
                           sender: &GroupName,
                           groups: &[GroupName],
                           body: &[u8]| {
        name(bytes, sender);
        for g in groups {
            name(bytes, g);
        }
        m[meta::NUM_GROUPS] = groups.len() as i32;
        m[meta::DATA_LEN] = body.len() as i32;
    };
    match msg {
        Message::Data(d) => {
            m[meta::SERVICE_TYPE] = d.service_type as i32;
            m[meta::MESS_TYPE] = i32::from(d.mess_type);
            m[meta::ENDIAN_MISMATCH] = i32::from(d.endian_mismatch);
            data_and_groups(&mut m, bytes, &d.sender, &d.groups, &d.data);
            bytes.extend_from_slice(&d.data);
        }
        Message::Reject(r) => {
            m[meta::SERVICE_TYPE] = msg.service_type() as i32;
            m[meta::MESS_TYPE] = i32::from(r.mess_type);
            m[meta::ENDIAN_MISMATCH] = i32::from(r.endian_mismatch);
            data_and_groups(&mut m, bytes, &r.sender, &r.groups, &r.data);
            bytes.extend_from_slice(&r.data);
        }
        Message::Membership(v) => {
            m[meta::SERVICE_TYPE] = v.service_type as i32;
            m[meta::MESS_TYPE] = v.index_of(private_group).map_or(-1, |i| i as i32);
            data_and_groups(&mut m, bytes, &v.group, &v.members, &v.raw_body);
            m[meta::GROUP_ID] = v.group_id.proc_id as i32;
            m[meta::GROUP_ID + 1] = v.group_id.time;
            m[meta::GROUP_ID + 2] = v.group_id.index;
            m[meta::NUM_VS_SETS] = v.vs_sets.len() as i32;
            m[meta::LOCAL_VS_SET] = v.local_vs_set as i32;
            for set in &v.vs_sets {
                bytes.extend_from_slice(&(set.len() as u32).to_be_bytes());
                for member in set {
                    name(bytes, member);
                }
            }
            bytes.extend_from_slice(&v.raw_body);
        }
        Message::Transition(t) => {
            m[meta::SERVICE_TYPE] = TRANSITION_MESS as i32;
            m[meta::MESS_TYPE] = -1;
            // 5.0.1 hands the body through: the group id before the change.
            let body = t.group_id.encode(ByteOrder::NATIVE);
            data_and_groups(&mut m, bytes, &t.group, &[], &body);
            bytes.extend_from_slice(&body);
        }
        Message::SelfLeave { group } => {
            m[meta::SERVICE_TYPE] = CAUSED_BY_LEAVE as i32;
            m[meta::MESS_TYPE] = -1;
            data_and_groups(&mut m, bytes, group, &[], &[]);
        }
    }
    m
}
