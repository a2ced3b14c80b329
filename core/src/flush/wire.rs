//! The flush protocol's messages as they travel: ordinary Spread messages
//! whose bodies carry trailers, laid out byte for byte as 5.0.1's libspread
//! writes them (integers in the sender's byte order, read back with the
//! header's endian marker):
//!
//! | message | service | groups | mess_type | body |
//! |---|---|---|---|---|
//! | FLUSH_OK | FIFO | the group | -32768 | group id of the view consented to (12) |
//! | FLUSH_RECV | FIFO | the group | -32767 | group id of the view installed (12) |
//! | data, during a change (vulnerable), FIFO or weaker | as sent | as below | -32766 | data, the application's mess_type (2), the sender's view id (12) |
//! | unicast / subgroupcast | as sent + SUBGROUP_CAST | the receivers | as sent or -32766 | data [+ vulnerable trailer], the group's name (32, NUL-padded) |

use super::error::{FlushError, FlushResult};
use crate::consts::*;
use crate::name::GroupName;
use crate::wire::{ByteOrder, DataMessage, GroupId};

const GROUP_ID_LEN: usize = crate::wire::membership::GROUP_ID_LEN;

/// What an incoming data message is to the flush layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A member's FLUSH_OK for the view with this id.
    FlushOk(GroupId),
    /// A member's FLUSH_RECV for the view with this id.
    FlushRecv(GroupId),
    /// An application message; `view` is the sender's view id when it was
    /// sent during a change (a vulnerable message).
    Data {
        /// The view id a vulnerable message carries.
        view: Option<GroupId>,
    },
}

/// A data message with its trailers taken off: `msg` as the application
/// sees it (data, mess_type and, for a subgroup message, the group appended
/// to the receivers as 5.0.1 reports it), `dest` the group it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The message as delivered.
    pub msg: DataMessage,
    /// The group it addresses: the first destination, or for a subgroup
    /// message the group named in its trailer.
    pub dest: GroupName,
    /// Its role in the protocol.
    pub kind: Incoming,
}

fn other(order: ByteOrder) -> ByteOrder {
    match order {
        ByteOrder::Little => ByteOrder::Big,
        ByteOrder::Big => ByteOrder::Little,
    }
}

/// The order the sender wrote its trailer integers in.
fn sender_order(endian_mismatch: bool) -> ByteOrder {
    if endian_mismatch {
        other(ByteOrder::NATIVE)
    } else {
        ByteOrder::NATIVE
    }
}

/// Takes the trailers off a data message. `None` when a trailer its
/// service or type announces is missing (a message no Flush client sent).
pub fn decode(mut msg: DataMessage) -> Option<Decoded> {
    let mut dest = msg.groups.first().copied().unwrap_or(GroupName::EMPTY);
    if msg.service_type & SUBGROUP_CAST != 0 {
        let at = msg.data.len().checked_sub(MAX_GROUP_NAME)?;
        dest = GroupName::from_field(&msg.data[at..]);
        msg.data.truncate(at);
        msg.groups.push(dest);
    }
    if msg.mess_type >= FL_MIN_LEGAL_MESS_TYPE {
        return Some(Decoded {
            msg,
            dest,
            kind: Incoming::Data { view: None },
        });
    }
    let order = sender_order(msg.endian_mismatch);
    let at = msg.data.len().checked_sub(GROUP_ID_LEN)?;
    let gid = GroupId::decode(&msg.data[at..], order)?;
    msg.data.truncate(at);
    let kind = match msg.mess_type {
        FL_FLUSH_OK_MESS => Incoming::FlushOk(gid),
        FL_FLUSH_RECV_MESS => Incoming::FlushRecv(gid),
        _ => {
            let at = msg.data.len().checked_sub(2)?;
            let b = [msg.data[at], msg.data[at + 1]];
            msg.mess_type = match order {
                ByteOrder::Little => i16::from_le_bytes(b),
                ByteOrder::Big => i16::from_be_bytes(b),
            };
            msg.data.truncate(at);
            Incoming::Data { view: Some(gid) }
        }
    };
    Some(Decoded { msg, dest, kind })
}

/// The body of a FLUSH_OK or FLUSH_RECV: the view id in this host's order.
pub fn control_body(view: &GroupId) -> [u8; GROUP_ID_LEN] {
    view.encode(ByteOrder::NATIVE)
}

/// A send as it goes to the Spread layer: the application's data parts
/// followed by `trailer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Service type (with [`SUBGROUP_CAST`] for a subgroup send).
    pub service_type: u32,
    /// Destinations: the group, or the receivers of a subgroup send.
    pub groups: Vec<GroupName>,
    /// The type on the wire ([`FL_VULNERABLE_MESS`] for a vulnerable one).
    pub mess_type: i16,
    /// Bytes to append after the application's data.
    pub trailer: Vec<u8>,
}

impl Outgoing {
    /// Lays out a send: `vulnerable` is the sender's current view id when the
    /// message must carry it, `subgroup` the receivers of a subgroup send.
    pub fn new(
        service_type: u32,
        group: &GroupName,
        subgroup: Option<&[GroupName]>,
        mess_type: i16,
        vulnerable: Option<GroupId>,
    ) -> Outgoing {
        let mut trailer = Vec::new();
        let mut wire_type = mess_type;
        if let Some(view) = vulnerable {
            trailer.extend_from_slice(&mess_type.to_ne_bytes());
            trailer.extend_from_slice(&view.encode(ByteOrder::NATIVE));
            wire_type = FL_VULNERABLE_MESS;
        }
        let groups = match subgroup {
            Some(receivers) => {
                trailer.extend_from_slice(&GroupName::new(group.as_bytes()).0);
                receivers.to_vec()
            }
            None => vec![*group],
        };
        let service_type = if subgroup.is_some() {
            service_type | SUBGROUP_CAST
        } else {
            service_type & !SUBGROUP_CAST
        };
        Outgoing {
            service_type,
            groups,
            mess_type: wire_type,
            trailer,
        }
    }
}

/// Checks what 5.0.1 checks of a send before looking at the group: the
/// service bits an application may not use, the message type, the number
/// of scatter elements.
pub fn check_send(service_type: u32, mess_type: i16, parts: usize) -> FlushResult<()> {
    if service_type & (FLUSH_REQ_MESS | MEMBERSHIP_MESS | ENDIAN_RESERVED | RESERVED) != 0 {
        return Err(crate::Error::IllegalService(service_type).into());
    }
    if mess_type < FL_MIN_LEGAL_MESS_TYPE {
        return Err(FlushError::IllegalMessageType(mess_type));
    }
    if parts > FL_MAX_SCATTER_ELEMENTS {
        return Err(crate::Error::IllegalMessage(format!(
            "{parts} scatter elements (at most {FL_MAX_SCATTER_ELEMENTS})"
        ))
        .into());
    }
    Ok(())
}
