//! The codec of every daemon-to-daemon UDP packet of Spread 5.0.1
//! (daemon-protocol.md §2, §3.2, §3.4, §4.3, §6): data packets with their
//! fragments, the packer that fills them, regular and form tokens, the
//! membership packets, the GROUPS state message and the spmonitor packets.
//!
//! Sans-IO: pure functions over byte slices. Decoders check every length and
//! count before indexing or allocating and return a [`PacketError`] naming
//! the field at fault. Encoders write the order recorded in the decoded
//! header, so a decoded packet re-encodes byte for byte; new packets are
//! built little-endian with the marker, as every x86 5.0.1 daemon sends.
//! Decoders accept both orders and convert exactly what 5.0.1 converts:
//! client message bytes (inner headers included), the header `padding`, the
//! GROUPS `changed` flags and array slots past their counts keep their raw
//! bytes.

mod classify;
mod data;
mod error;
mod form;
mod fragment;
mod groups_msg;
mod membership;
mod monitor;
mod packer;
mod rtr;
pub mod seal;
mod token;
mod type_bits;
mod wire;

pub use classify::{Packet, Port};
pub use data::{DataHeader, DataPacket};
pub use error::{PacketError, Result};
pub use form::{
    Form1Body, Form2Body, FormBody, FormMembers, FormReps, FormToken, RingInfo, StaleSlots,
    FORM_MEMBERS_LEN, FORM_REPS_LEN, MAX_FORM_MEMBERS, MAX_FORM_RINGS, MAX_HOLES, MAX_REPS,
    RING_INFO_LEN,
};
pub use fragment::{fragment_count, FragHeader, Fragment, Fragments, FRAG_HEADER_LEN};
pub use groups_msg::{
    groups_sender_field, groups_sender_name, groups_synced_set_size, DaemonRecord, GroupRecord,
    GroupsBody, MAX_GROUPS_MESSAGE, MAX_MEMBERS_PER_RECORD, MAX_SYNCED_SET,
};
pub use membership::{MemberList, MembershipBody, MembershipPacket, Rep, RepList};
pub use membership::{POTENTIAL_REP, RING_REP, SEG_REP};
pub use monitor::{
    FlowControlTable, MonitorBody, MonitorPacket, PartitionTable, Status, FC_LEN, PARTITION_LEN,
    STATUS_LEN,
};
pub use packer::{
    fragment_message, packet_body, ring_message_limit, OutMessage, Packer, MAX_LARGE_MESSAGE_LEN,
    MAX_MESSAGE_FRAGMENTS, MAX_MESSAGE_LEN, MIN_PACKET_BODY,
};
pub use rtr::{RtrBlock, RTR_BLOCK_HEADER_LEN};
pub use token::{RegularToken, TokenHeader, MAX_TOKEN_BODY};
pub use type_bits::*;

/// Largest data packet a daemon sends (one Ethernet MTU of UDP payload).
pub const MAX_PACKET_SIZE: usize = 1472;
/// Both the data packet header and the token header are 40 bytes.
pub const HEADER_LEN: usize = 40;
/// Largest data packet body: also the size of one message fragment.
pub const MAX_BODY_LEN: usize = MAX_PACKET_SIZE - HEADER_LEN;

/// A ring (membership) id: the leader's daemon id and a wall-clock second.
/// Also used for form-token attempts, old-ring ids and transitional ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MembId {
    pub proc_id: u32,
    pub time: i32,
}

impl MembId {
    pub fn new(proc_id: u32, time: i32) -> MembId {
        MembId { proc_id, time }
    }
}
