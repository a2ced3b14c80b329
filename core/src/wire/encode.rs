//! Builders for every frame either side writes.

use super::header::{ByteOrder, Header, Hint};
use super::membership::{GroupId, MembershipBody};
use crate::consts::*;
use crate::name::GroupName;

/// A client request (multicast, join, leave, kill): header and names, with
/// room reserved for a body of `body_len` bytes that the caller appends.
/// The caller checks the counts (`num_groups` and `data_len` are int32).
pub fn request_head(
    service_type: u32,
    sender: &GroupName,
    groups: &[GroupName],
    mess_type: i16,
    body_len: usize,
    order: ByteOrder,
) -> Vec<u8> {
    let header = Header {
        service_type,
        sender: *sender,
        num_groups: groups.len() as i32,
        hint: Hint::new(mess_type, order),
        data_len: body_len as i32,
        order,
    };
    let mut out = Vec::with_capacity(HEADER_LEN + groups.len() * MAX_GROUP_NAME + body_len);
    out.extend_from_slice(&header.encode());
    for g in groups {
        out.extend_from_slice(&g.0);
    }
    out
}

fn daemon_header(
    service_type: u32,
    group: &GroupName,
    num_groups: usize,
    data_len: usize,
    order: ByteOrder,
) -> [u8; HEADER_LEN] {
    Header {
        service_type,
        sender: group.canonical(),
        num_groups: num_groups as i32,
        hint: Hint::marker_only(order),
        data_len: data_len as i32,
        order,
    }
    .encode()
}

/// A regular membership message: [`REG_MEMB_MESS`] + `cause` (one
/// `CAUSED_BY_*` bit), `members` as names, `body` in `order`. Names are
/// written in their canonical form.
pub fn membership(
    cause: u32,
    group: &GroupName,
    members: &[GroupName],
    body: &MembershipBody,
    order: ByteOrder,
) -> Vec<u8> {
    let len = body.encoded_len();
    let mut out = Vec::with_capacity(HEADER_LEN + members.len() * MAX_GROUP_NAME + len);
    out.extend_from_slice(&daemon_header(
        REG_MEMB_MESS | cause,
        group,
        members.len(),
        len,
        order,
    ));
    for m in members {
        out.extend_from_slice(&m.canonical().0);
    }
    body.encode_into(order, &mut out);
    out
}

/// A transitional signal carrying the group's id before the change.
pub fn transition(group: &GroupName, old_id: &GroupId, order: ByteOrder) -> Vec<u8> {
    let mut out = daemon_header(TRANSITION_MESS, group, 0, 12, order).to_vec();
    out.extend_from_slice(&old_id.encode(order));
    out
}

/// The notice to a client that its own leave took effect.
pub fn self_leave(group: &GroupName, order: ByteOrder) -> Vec<u8> {
    daemon_header(CAUSED_BY_LEAVE, group, 0, 0, order).to_vec()
}

/// A refused request returned to its sender: the original header re-marked
/// with REJECT_MESS, the 4-byte original type, the destinations with the
/// sender's private group appended, and `body` (the caller may pass less
/// than the original body, e.g. none for an oversized one).
pub fn reject(original: &Header, names: &[u8], body: &[u8], order: ByteOrder) -> Vec<u8> {
    let mut old_type = original.service_type;
    if old_type & JOIN_MESS != 0 {
        old_type = (old_type & !JOIN_MESS) | CAUSED_BY_JOIN;
    }
    if old_type & LEAVE_MESS != 0 {
        old_type = (old_type & !LEAVE_MESS) | CAUSED_BY_LEAVE;
    }
    let mut names = names.chunks_exact(MAX_GROUP_NAME).collect::<Vec<_>>();
    names.truncate(MAX_GROUPS_PER_MESSAGE - 1);
    let own = original.sender.canonical();
    names.push(&own.0);
    let header = Header {
        service_type: REJECT_MESS | (original.service_type & SELF_DISCARD),
        sender: own,
        num_groups: names.len() as i32,
        hint: original.hint,
        data_len: body.len() as i32,
        order,
    };
    let mut out = Vec::with_capacity(HEADER_LEN + 4 + names.len() * MAX_GROUP_NAME + body.len());
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(&order.write_u32(old_type));
    for n in names {
        out.extend_from_slice(n);
    }
    out.extend_from_slice(body);
    out
}
