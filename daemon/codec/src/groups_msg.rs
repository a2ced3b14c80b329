//! The body of a GROUPS state message (§4.3): what a synced set's
//! representative knows about every group, sent after a daemon membership
//! change. It travels as a client message (48-byte header, no group names,
//! this body), so its integers are in the order of that inner header's
//! marker, and it is packed without any alignment:
//!
//! ```text
//! membership id (8) | flag (1): 1 first message of the sequence, 0 later
//! [first: uint32 synced-set size | int32 ids[size]]
//! per group: name (32) | group id (12) | uint16 changed | uint16 num_daemons
//!   per daemon: int32 id | membership id (8) | uint16 n | n × member name (32)
//! ```
//!
//! `changed` is the one field 5.0.1 never converts (it only tests it for
//! non-zero), so it is kept as its two raw bytes.

use super::error::{PacketError, Result};
use super::wire::{Reader, Writer};
use super::MembId;
use spread_core::consts::MAX_GROUP_NAME;
use spread_core::wire::{ByteOrder, GroupId};
use spread_core::GroupName;

/// A synced set holds at most every daemon of a configuration.
pub const MAX_SYNCED_SET: usize = 128;

/// One daemon's members of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonRecord {
    pub proc_id: u32,
    /// The membership part of the group's id at the sending set.
    pub memb_id: MembId,
    /// Private group names, in name order.
    pub members: Vec<GroupName>,
}

/// One group as the sending set knows it (repeated, with the remaining
/// daemons, when its daemons continue in the next message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    pub name: GroupName,
    pub group_id: GroupId,
    /// Raw bytes of the `uint16` flag, never byte-swapped.
    pub changed: [u8; 2],
    pub daemons: Vec<DaemonRecord>,
}

impl GroupRecord {
    pub fn is_changed(&self) -> bool {
        self.changed != [0, 0]
    }

    /// The flag as the sender writes it: 1 or 0 in its own order.
    pub fn changed_flag(changed: bool, order: ByteOrder) -> [u8; 2] {
        super::wire::write_u16(order, u16::from(changed))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupsBody {
    /// The regular membership the message belongs to.
    pub memb_id: MembId,
    /// `Some` (the synced set, configuration order) in the first message of
    /// a sequence, `None` in the later ones.
    pub synced_set: Option<Vec<u32>>,
    pub groups: Vec<GroupRecord>,
}

fn read_name(r: &mut Reader, what: &'static str) -> Result<GroupName> {
    Ok(GroupName::from_field(r.take(MAX_GROUP_NAME, what)?))
}

impl GroupsBody {
    /// Decodes a body whose integers are in `order` (the inner header's).
    pub fn decode(body: &[u8], order: ByteOrder) -> Result<GroupsBody> {
        let mut r = Reader::new(body, order);
        let memb_id = r.memb_id("groups memb_id")?;
        let synced_set = match r.u8("groups first-message flag")? {
            0 => None,
            1 => {
                let size = r.u32("synced set size")?;
                if size as usize > MAX_SYNCED_SET {
                    return Err(PacketError::OutOfRange {
                        what: "synced set size",
                        value: size.into(),
                    });
                }
                Some(r.u32s(size as usize, "synced set")?)
            }
            flag => {
                return Err(PacketError::OutOfRange {
                    what: "groups first-message flag",
                    value: flag.into(),
                })
            }
        };
        let mut groups = Vec::new();
        while r.remaining() > 0 {
            groups.push(read_group(&mut r)?);
        }
        Ok(GroupsBody {
            memb_id,
            synced_set,
            groups,
        })
    }

    /// The body in `order`.
    pub fn encode(&self, order: ByteOrder) -> Vec<u8> {
        let mut w = Writer::new(order);
        w.memb_id(self.memb_id);
        match &self.synced_set {
            Some(set) => {
                w.bytes(&[1]);
                w.u32(set.len() as u32);
                for &id in set {
                    w.u32(id);
                }
            }
            None => w.bytes(&[0]),
        }
        for g in &self.groups {
            w.bytes(&g.name.0);
            w.bytes(&g.group_id.encode(order));
            w.bytes(&g.changed);
            w.u16(g.daemons.len() as u16);
            for d in &g.daemons {
                w.u32(d.proc_id);
                w.memb_id(d.memb_id);
                w.u16(d.members.len() as u16);
                for m in &d.members {
                    w.bytes(&m.0);
                }
            }
        }
        w.into_vec()
    }
}

fn read_group(r: &mut Reader) -> Result<GroupRecord> {
    let name = read_name(r, "group name")?;
    let gid = r.take(12, "group id")?;
    let group_id = GroupId::decode(gid, r.order()).ok_or(PacketError::Truncated {
        what: "group id",
        at: r.pos(),
        need: 12,
        have: 0,
    })?;
    let changed = r.raw2("group changed flag")?;
    let num_daemons = r.u16("group num_daemons")?;
    // Each daemon record takes at least 14 bytes.
    r.check_room(num_daemons.into(), 14, "group daemons")?;
    let mut daemons = Vec::with_capacity(num_daemons.into());
    for _ in 0..num_daemons {
        let proc_id = r.u32("daemon id")?;
        let memb_id = r.memb_id("daemon memb_id")?;
        let n = r.u16("daemon num_members")?;
        r.check_room(n.into(), MAX_GROUP_NAME, "daemon members")?;
        let members = (0..n)
            .map(|_| read_name(r, "member name"))
            .collect::<Result<_>>()?;
        daemons.push(DaemonRecord {
            proc_id,
            memb_id,
            members,
        });
    }
    Ok(GroupRecord {
        name,
        group_id,
        changed,
        daemons,
    })
}

/// The sending daemon's name from a GROUPS header's `private_group_name`:
/// the bytes before the first NUL among the first 28 (the last 4 carry the
/// synced-set size).
pub fn groups_sender_name(field: &GroupName) -> &[u8] {
    let head = &field.0[..MAX_GROUP_NAME - 4];
    let end = head.iter().position(|&b| b == 0).unwrap_or(head.len());
    &head[..end]
}

/// The synced-set size stored in bytes 28..32 of a GROUPS header's
/// `private_group_name`, in the inner header's `order`.
pub fn groups_synced_set_size(field: &GroupName, order: ByteOrder) -> u32 {
    let b = &field.0[MAX_GROUP_NAME - 4..];
    order.read_u32([b[0], b[1], b[2], b[3]])
}

/// The `private_group_name` field a daemon writes into its GROUPS
/// messages: its name NUL-padded, bytes 28..32 the synced-set size.
pub fn groups_sender_field(
    daemon_name: &[u8],
    synced_set_size: u32,
    order: ByteOrder,
) -> GroupName {
    let mut field = [0u8; MAX_GROUP_NAME];
    let n = daemon_name.len().min(MAX_GROUP_NAME - 5);
    field[..n].copy_from_slice(&daemon_name[..n]);
    field[MAX_GROUP_NAME - 4..].copy_from_slice(&order.write_u32(synced_set_size));
    GroupName(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GroupsBody {
        GroupsBody {
            memb_id: MembId::new(1552775919, 1795773600),
            synced_set: Some(vec![348480928, 4014350958]),
            groups: vec![GroupRecord {
                name: GroupName::new(b"pg"),
                group_id: GroupId {
                    proc_id: 348480928,
                    time: 1795773591,
                    index: 1,
                },
                changed: GroupRecord::changed_flag(false, ByteOrder::Little),
                daemons: vec![
                    DaemonRecord {
                        proc_id: 348480928,
                        memb_id: MembId::new(348480928, 1795773591),
                        members: vec![GroupName::new(b"#c2#d2")],
                    },
                    DaemonRecord {
                        proc_id: 4014350958,
                        memb_id: MembId::new(348480928, 1795773591),
                        members: vec![GroupName::new(b"#c3#d3")],
                    },
                ],
            }],
        }
    }

    #[test]
    fn sizes_and_round_trip() {
        let g = sample();
        let b = g.encode(ByteOrder::Little);
        // 8 + 1 + 4 + 8 + 48 + 2 × (14 + 32): the 161 bytes of vectors 07 #142
        assert_eq!(b.len(), 161);
        assert_eq!(GroupsBody::decode(&b, ByteOrder::Little).unwrap(), g);
        let mut big = g.clone();
        big.groups[0].changed = GroupRecord::changed_flag(true, ByteOrder::Big);
        let bb = big.encode(ByteOrder::Big);
        let back = GroupsBody::decode(&bb, ByteOrder::Big).unwrap();
        assert!(back.groups[0].is_changed());
        assert_eq!(back.groups[0].changed, [0, 1], "the flag is never swapped");
        assert_eq!(back, big);
    }

    #[test]
    fn later_message_and_bad_input() {
        let mut g = sample();
        g.synced_set = None;
        let b = g.encode(ByteOrder::Little);
        assert_eq!(GroupsBody::decode(&b, ByteOrder::Little).unwrap(), g);
        let mut flag = b.clone();
        flag[8] = 2;
        assert!(GroupsBody::decode(&flag, ByteOrder::Little).is_err());
        for cut in 0..b.len() {
            if cut == 9 {
                continue; // a later message with no group is complete
            }
            assert!(
                GroupsBody::decode(&b[..cut], ByteOrder::Little).is_err(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn sender_field() {
        let f = groups_sender_field(b"d2", 2, ByteOrder::Little);
        assert_eq!(groups_sender_name(&f), b"d2");
        assert_eq!(groups_synced_set_size(&f, ByteOrder::Little), 2);
        assert_eq!(&f.0[28..], &[2, 0, 0, 0]);
    }
}
