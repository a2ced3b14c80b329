//! What a client receives, decoded into one enum of message kinds.

use super::frame::Frame;
use super::header::ByteOrder;
use super::membership::{GroupId, MembershipBody};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::name::GroupName;

/// One message from the daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// An application message.
    Data(DataMessage),
    /// A regular membership message (REG_MEMB_MESS) with its vs-sets.
    Membership(MembershipMessage),
    /// A transitional signal for a group.
    Transition(TransitionMessage),
    /// The notice that this client's own leave of `group` took effect.
    SelfLeave {
        /// The group left.
        group: GroupName,
    },
    /// A message the daemon refused, sent back to its sender.
    Reject(RejectMessage),
}

/// An application message as a receiver gets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataMessage {
    /// The service type as sent (service bit, SELF_DISCARD, ...).
    pub service_type: u32,
    /// The sender's private group.
    pub sender: GroupName,
    /// The sender's whole destination list.
    pub groups: Vec<GroupName>,
    /// The application's 16-bit message type.
    pub mess_type: i16,
    /// The sender wrote its `mess_type` in the other byte order.
    pub endian_mismatch: bool,
    /// The body.
    pub data: Vec<u8>,
}

/// A regular membership message ([`REG_MEMB_MESS`]): a group's new view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipMessage {
    /// REG_MEMB_MESS plus exactly one CAUSED_BY_* bit.
    pub service_type: u32,
    /// The group whose membership changed.
    pub group: GroupName,
    /// The members now in the group, in daemon then name order.
    pub members: Vec<GroupName>,
    /// The id of the new view.
    pub group_id: GroupId,
    /// The virtual-synchrony sets: members that came from the same earlier
    /// view, each set in one list.
    pub vs_sets: Vec<Vec<GroupName>>,
    /// Index into `vs_sets` of the set that concerns this receiver.
    pub local_vs_set: usize,
    /// The raw body as the daemon sent it (daemon byte order).
    pub raw_body: Vec<u8>,
    /// The order of `raw_body`'s int32 fields.
    pub body_order: ByteOrder,
}

impl MembershipMessage {
    /// For join, leave and disconnect: the member that changed (the one name
    /// of the first vs-set). `None` for a network change.
    pub fn changed_member(&self) -> Option<&GroupName> {
        if self.service_type & CAUSED_BY_NETWORK != 0 {
            return None;
        }
        self.vs_sets.first().and_then(|s| s.first())
    }

    /// The position of `private_group` in the member list (what libspread
    /// reports as `mess_type` of a regular membership message).
    pub fn index_of(&self, private_group: &GroupName) -> Option<usize> {
        self.members.iter().position(|m| m == private_group)
    }

    /// The `CAUSED_BY_*` bit of the change.
    pub fn cause(&self) -> u32 {
        self.service_type
            & (CAUSED_BY_JOIN | CAUSED_BY_LEAVE | CAUSED_BY_DISCONNECT | CAUSED_BY_NETWORK)
    }
}

/// A transitional signal ([`TRANSITION_MESS`]): messages delivered from now
/// until the group's next regular membership message are delivered in a
/// transitional configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionMessage {
    /// The group about to change.
    pub group: GroupName,
    /// The group's id before the change.
    pub group_id: GroupId,
}

/// A message the daemon refused ([`REJECT_MESS`]), as returned to its
/// sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectMessage {
    /// The refused message's service type (JOIN/LEAVE shown as CAUSED_BY_*).
    pub old_type: u32,
    /// This session's private group (the refused message's sender).
    pub sender: GroupName,
    /// The refused message's destinations, then the sender's private group.
    pub groups: Vec<GroupName>,
    /// The refused message's `mess_type`.
    pub mess_type: i16,
    /// The hint is in the other byte order.
    pub endian_mismatch: bool,
    /// As much of the refused body as the daemon returned.
    pub data: Vec<u8>,
}

impl Message {
    /// The service type as libspread's `SP_receive` reports it (a reject:
    /// `old_type | REJECT_MESS`).
    pub fn service_type(&self) -> u32 {
        match self {
            Message::Data(m) => m.service_type,
            Message::Membership(m) => m.service_type,
            Message::Transition(_) => TRANSITION_MESS,
            Message::SelfLeave { .. } => CAUSED_BY_LEAVE,
            Message::Reject(m) => m.old_type | REJECT_MESS,
        }
    }

    /// Decodes a complete frame.
    ///
    /// # Errors
    ///
    /// [`Error::IllegalMessage`] for a malformed membership body or a
    /// service type of no kind a client receives. A transitional signal
    /// with a short body gets the default group id.
    pub fn from_frame(frame: &Frame<'_>) -> Result<Message> {
        let h = &frame.header;
        let st = h.service_type;
        let groups = || frame.groups().collect::<Vec<_>>();
        let mismatch = h.hint.order() != ByteOrder::NATIVE;
        if is_reject(st) {
            return Ok(Message::Reject(RejectMessage {
                old_type: frame.old_type.unwrap_or(0),
                sender: h.sender,
                groups: groups(),
                mess_type: h.mess_type(),
                endian_mismatch: mismatch,
                data: frame.body.to_vec(),
            }));
        }
        if is_regular(st) {
            return Ok(Message::Data(DataMessage {
                service_type: st,
                sender: h.sender,
                groups: groups(),
                mess_type: h.mess_type(),
                endian_mismatch: mismatch,
                data: frame.body.to_vec(),
            }));
        }
        if is_reg_memb(st) {
            let body = MembershipBody::decode(frame.body, h.order).ok_or_else(|| {
                Error::IllegalMessage(format!("malformed membership body for {}", h.sender))
            })?;
            return Ok(Message::Membership(MembershipMessage {
                service_type: st,
                group: h.sender,
                members: groups(),
                group_id: body.group_id,
                vs_sets: body.vs_sets,
                local_vs_set: body.local_vs_set,
                raw_body: frame.body.to_vec(),
                body_order: h.order,
            }));
        }
        if is_transition(st) {
            let group_id = GroupId::decode(frame.body, h.order).unwrap_or_default();
            return Ok(Message::Transition(TransitionMessage {
                group: h.sender,
                group_id,
            }));
        }
        if is_self_leave(st) {
            return Ok(Message::SelfLeave { group: h.sender });
        }
        Err(Error::IllegalMessage(format!(
            "unknown service type {st:#x} from the daemon"
        )))
    }
}
