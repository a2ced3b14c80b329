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
//!
//! A set's state larger than one message goes as a sequence
//! ([`GroupsBody::split`]), cut where 5.0.1 cuts it: each message, its
//! header included, is at most [`MAX_GROUPS_MESSAGE`] bytes; a group's
//! daemons that do not fit continue in the next message under a repeated
//! group record (name, id, flag, the remaining daemons). 5.0.1 never cuts
//! one daemon's member list, since its daemons refuse local members beyond
//! what one message holds; ours have no such limit, so a member list longer
//! than [`MAX_MEMBERS_PER_RECORD`] continues, in name order, in a repeated
//! daemon record of the next message.

use super::error::{PacketError, Result};
use super::packer::MAX_MESSAGE_LEN;
use super::wire::{Reader, Writer};
use super::MembId;
use spread_core::consts::{HEADER_LEN as MESSAGE_HEADER_LEN, MAX_GROUP_NAME};
use spread_core::wire::{ByteOrder, GroupId};
use spread_core::GroupName;

/// A synced set holds at most every daemon of a configuration.
pub const MAX_SYNCED_SET: usize = 128;

/// The largest GROUPS message, 48-byte header and body (5.0.1's buffer for
/// one message of a sequence).
pub const MAX_GROUPS_MESSAGE: usize = 100_000;
const _: () = assert!(MAX_GROUPS_MESSAGE <= MAX_MESSAGE_LEN, "a ring carries it");

/// Membership id and flag.
const PREAMBLE_LEN: usize = 8 + 1;
/// A group record without its daemons: name, id, flag, daemon count.
const GROUP_INFO_LEN: usize = MAX_GROUP_NAME + 12 + 2 + 2;
/// A daemon record without its members: id, membership id, member count.
const DAEMON_INFO_LEN: usize = 4 + 8 + 2;

/// The most members one daemon record carries whole in a message after
/// the first (3,121); a longer list is cut between members.
pub const MAX_MEMBERS_PER_RECORD: usize =
    (MAX_GROUPS_MESSAGE - MESSAGE_HEADER_LEN - PREAMBLE_LEN - GROUP_INFO_LEN - DAEMON_INFO_LEN)
        / MAX_GROUP_NAME;

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
    /// A set's state (`groups` in name order, each with all its daemons in
    /// configuration order) as the bodies of a sequence, in the order they
    /// are built: the first carries the synced set. Each body with its
    /// message header is at most [`MAX_GROUPS_MESSAGE`] bytes.
    ///
    /// As 5.0.1: a group is begun only if its record's head and a message
    /// header's worth of room are left; a daemon goes in whole only if its
    /// record and that room are left, otherwise the message ends there (with
    /// the group's record as far as it got, possibly without daemons) and
    /// the next one repeats the group's record for the remaining daemons.
    /// A member list no message could hold whole fills the rest of this
    /// message and continues in the next.
    pub fn split(memb_id: MembId, synced_set: &[u32], groups: &[GroupRecord]) -> Vec<GroupsBody> {
        // Room left after `used` body bytes, keeping a header's worth as
        // 5.0.1 does.
        let room = |used: usize| MAX_GROUPS_MESSAGE - MESSAGE_HEADER_LEN - used;
        let mut bodies = Vec::new();
        // Where the next message resumes: group, daemon of the group,
        // member of the daemon.
        let (mut g, mut d, mut m) = (0, 0, 0);
        loop {
            let first = bodies.is_empty();
            let mut used = PREAMBLE_LEN;
            if first {
                used += 4 + 4 * synced_set.len();
            }
            let mut records = Vec::new();
            while let Some(group) = groups.get(g) {
                if GROUP_INFO_LEN > room(used) {
                    break;
                }
                used += GROUP_INFO_LEN;
                let mut record = GroupRecord {
                    name: group.name,
                    group_id: group.group_id,
                    changed: group.changed,
                    daemons: Vec::new(),
                };
                let mut full = false;
                while let Some(daemon) = group.daemons.get(d) {
                    let rest = &daemon.members[m..];
                    let need = DAEMON_INFO_LEN + rest.len() * MAX_GROUP_NAME;
                    let (take, done) = if need <= room(used) {
                        (rest.len(), true)
                    } else if rest.len() > MAX_MEMBERS_PER_RECORD {
                        let fit = room(used).saturating_sub(DAEMON_INFO_LEN) / MAX_GROUP_NAME;
                        (fit, false)
                    } else {
                        (0, false)
                    };
                    if take > 0 || done {
                        record.daemons.push(DaemonRecord {
                            members: rest[..take].to_vec(),
                            ..*daemon
                        });
                        used += DAEMON_INFO_LEN + take * MAX_GROUP_NAME;
                    }
                    if !done {
                        m += take;
                        full = true;
                        break;
                    }
                    d += 1;
                    m = 0;
                }
                records.push(record);
                if full {
                    break;
                }
                g += 1;
                d = 0;
            }
            bodies.push(GroupsBody {
                memb_id,
                synced_set: first.then(|| synced_set.to_vec()),
                groups: records,
            });
            if g >= groups.len() {
                return bodies;
            }
        }
    }

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

    /// A group of `sizes[i]` members at daemon `i` (ids 1, 2, ...).
    fn group(name: &str, sizes: &[usize]) -> GroupRecord {
        GroupRecord {
            name: GroupName::new(name.as_bytes()),
            group_id: GroupId {
                proc_id: 1,
                time: 5,
                index: 3,
            },
            changed: GroupRecord::changed_flag(true, ByteOrder::Little),
            daemons: sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| DaemonRecord {
                    proc_id: i as u32 + 1,
                    memb_id: MembId::new(1, 5),
                    members: (0..n)
                        .map(|k| GroupName::new(format!("#m{k:05}#d{i}").as_bytes()))
                        .collect(),
                })
                .collect(),
        }
    }

    /// The bodies put back together: a record continuing the previous
    /// message's last group adds its daemons, and a daemon record
    /// continuing that group's last daemon adds its members.
    fn rejoin(bodies: &[GroupsBody]) -> Vec<GroupRecord> {
        let mut groups: Vec<GroupRecord> = Vec::new();
        for b in bodies {
            for (i, r) in b.groups.iter().enumerate() {
                let last = groups.last_mut().filter(|l| i == 0 && l.name == r.name);
                let Some(last) = last else {
                    groups.push(r.clone());
                    continue;
                };
                assert_eq!((last.group_id, last.changed), (r.group_id, r.changed));
                for d in &r.daemons {
                    match last.daemons.last_mut() {
                        Some(l) if l.proc_id == d.proc_id => {
                            l.members.extend_from_slice(&d.members)
                        }
                        _ => last.daemons.push(d.clone()),
                    }
                }
            }
        }
        groups
    }

    /// Each body fits, travels byte-exact, and only the first has the set.
    fn check_sequence(bodies: &[GroupsBody], set: &[u32]) {
        for (i, b) in bodies.iter().enumerate() {
            let bytes = b.encode(ByteOrder::Little);
            assert!(48 + bytes.len() <= MAX_GROUPS_MESSAGE, "message {i}");
            assert_eq!(GroupsBody::decode(&bytes, ByteOrder::Little).unwrap(), *b);
            let want = (i == 0).then(|| set.to_vec());
            assert_eq!(b.synced_set, want, "message {i}");
            for g in &b.groups {
                for d in &g.daemons {
                    assert!(d.members.len() <= MAX_MEMBERS_PER_RECORD);
                }
            }
        }
    }

    #[test]
    fn a_small_state_is_one_message() {
        let memb = MembId::new(9, 10);
        let state = vec![group("a", &[2, 0, 3]), group("b", &[1])];
        let bodies = GroupsBody::split(memb, &[1, 2], &state);
        assert_eq!(bodies.len(), 1);
        check_sequence(&bodies, &[1, 2]);
        assert_eq!(bodies[0].groups, state);
        let empty = GroupsBody::split(memb, &[1], &[]);
        assert_eq!(empty.len(), 1);
        // The 17-byte body of vectors 01 #40.
        assert_eq!(empty[0].encode(ByteOrder::Little).len(), 17);
    }

    /// 5.0.1 sums its limit on local members of a group (3,122) without
    /// the 48-byte header its builder keeps room for: a record holds one
    /// fewer whole.
    #[test]
    fn a_record_holds_what_501_admits_less_one() {
        use spread_core::consts::MAX_LOCAL_GROUP_MEMBERS;
        assert_eq!(MAX_MEMBERS_PER_RECORD, 3121);
        assert_eq!(
            (MAX_GROUPS_MESSAGE - PREAMBLE_LEN - GROUP_INFO_LEN - DAEMON_INFO_LEN) / MAX_GROUP_NAME,
            MAX_LOCAL_GROUP_MEMBERS
        );
    }

    /// Groups that fill several messages: each message is cut where the
    /// next item no longer fits, a group's daemons continue under a
    /// repeated record, and the whole comes back.
    #[test]
    fn a_large_state_is_cut_between_groups_and_daemons() {
        let memb = MembId::new(9, 10);
        let set = [1, 2, 3];
        let state: Vec<GroupRecord> = (0..300)
            .map(|i| group(&format!("g{i:03}"), &[20 + i % 7, 0, 31, 5 + i % 3]))
            .collect();
        let bodies = GroupsBody::split(memb, &set, &state);
        check_sequence(&bodies, &set);
        assert!(bodies.len() >= 5, "{} messages", bodies.len());
        assert_eq!(rejoin(&bodies), state);
        let mut continued = 0;
        for pair in bodies.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let (end, next) = (a.groups.last().unwrap(), &b.groups[0]);
            let len = 48 + a.encode(ByteOrder::Little).len();
            if end.name == next.name {
                continued += 1;
                // The daemon that went to the next message did not fit.
                let d = &next.daemons[0];
                let need = 14 + 32 * d.members.len();
                assert!(len + 48 + need > MAX_GROUPS_MESSAGE, "{len} + {need}");
            } else {
                // Nor did the next group's head.
                assert!(len + 48 + GROUP_INFO_LEN > MAX_GROUPS_MESSAGE, "{len}");
            }
        }
        assert!(continued > 0, "some group continues in the next message");
    }

    /// A group's head fits but not its first daemon: 5.0.1 ends the message
    /// with the group's record holding no daemon, and repeats the record in
    /// the next one.
    #[test]
    fn a_group_whose_first_daemon_does_not_fit_ends_the_message_empty() {
        let memb = MembId::new(9, 10);
        // 17 + 48 + 14 + 32 × 3000 leaves 3873 bytes (of 99,952, the
        // header's 48 kept free): a second group's head fits, its first
        // daemon's 200 members do not.
        let state = vec![group("a", &[3000]), group("b", &[200, 1])];
        let bodies = GroupsBody::split(memb, &[1], &state);
        check_sequence(&bodies, &[1]);
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[0].groups.len(), 2);
        assert_eq!(bodies[0].groups[1].name, state[1].name);
        assert!(bodies[0].groups[1].daemons.is_empty());
        assert_eq!(bodies[1].groups, state[1..]);
        assert_eq!(rejoin(&bodies), state);
    }

    /// One daemon with 10,000 members of one group: its list is cut
    /// between members, in name order, over four messages.
    #[test]
    fn a_member_list_no_message_holds_is_cut_between_members() {
        let memb = MembId::new(9, 10);
        let state = vec![group("a", &[3, 10_000, 2]), group("b", &[1])];
        let bodies = GroupsBody::split(memb, &[1, 2, 3], &state);
        check_sequence(&bodies, &[1, 2, 3]);
        assert_eq!(bodies.len(), 4);
        let counts: Vec<Vec<usize>> = bodies
            .iter()
            .map(|b| {
                b.groups[0]
                    .daemons
                    .iter()
                    .map(|d| d.members.len())
                    .collect()
            })
            .collect();
        // After the 3 members of daemon 1, the first message holds what
        // fits of daemon 2's; each later one 3,121 (the most a record
        // takes), the last the rest and daemon 3.
        let first = (99_952 - 25 - 48 - 14 - 96 - 14) / 32;
        assert_eq!(
            counts,
            [
                vec![3, first],
                vec![3121],
                vec![3121],
                vec![10_000 - first - 2 * 3121, 2]
            ]
        );
        assert_eq!(bodies[3].groups[1], state[1]);
        assert_eq!(rejoin(&bodies), state);
    }

    #[test]
    fn sender_field() {
        let f = groups_sender_field(b"d2", 2, ByteOrder::Little);
        assert_eq!(groups_sender_name(&f), b"d2");
        assert_eq!(groups_synced_set_size(&f, ByteOrder::Little), 2);
        assert_eq!(&f.0[28..], &[2, 0, 0, 0]);
    }
}
