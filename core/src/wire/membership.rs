//! Bodies of membership messages: the group id and the vs-sets.

use super::header::{field4, ByteOrder};
use crate::consts::MAX_GROUP_NAME;
use crate::name::GroupName;
use std::fmt;

/// A group id: the daemon membership it was set in, and an index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GroupId {
    /// The daemon membership's representative (an IPv4 address in 5.0.1).
    pub proc_id: u32,
    /// The daemon membership's timestamp.
    pub time: i32,
    /// Tells apart the group's views within one daemon membership.
    pub index: i32,
}

/// Bytes of a group id on the wire: three int32.
pub const GROUP_ID_LEN: usize = 12;

impl GroupId {
    /// The three fields in `order`.
    pub fn encode(&self, order: ByteOrder) -> [u8; GROUP_ID_LEN] {
        let mut out = [0u8; GROUP_ID_LEN];
        out[0..4].copy_from_slice(&order.write_u32(self.proc_id));
        out[4..8].copy_from_slice(&order.write_u32(self.time as u32));
        out[8..12].copy_from_slice(&order.write_u32(self.index as u32));
        out
    }

    /// Reads the first 12 bytes of `b` in `order`; `None` if there are fewer.
    pub fn decode(b: &[u8], order: ByteOrder) -> Option<GroupId> {
        if b.len() < GROUP_ID_LEN {
            return None;
        }
        Some(GroupId {
            proc_id: order.read_u32(field4(b, 0)),
            time: order.read_u32(field4(b, 4)) as i32,
            index: order.read_u32(field4(b, 8)) as i32,
        })
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.proc_id, self.time, self.index)
    }
}

/// The body of a regular membership message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipBody {
    /// The id of the new view.
    pub group_id: GroupId,
    /// The virtual-synchrony sets, each a list of members.
    pub vs_sets: Vec<Vec<GroupName>>,
    /// Which of `vs_sets` concerns the receiver.
    pub local_vs_set: usize,
}

/// Bytes before the first vs-set: gid, num_vs_sets, local offset.
pub const MEMBERSHIP_PREFIX_LEN: usize = GROUP_ID_LEN + 8;

impl MembershipBody {
    /// Bytes [`MembershipBody::encode_into`] writes.
    pub fn encoded_len(&self) -> usize {
        MEMBERSHIP_PREFIX_LEN
            + self
                .vs_sets
                .iter()
                .map(|s| 4 + s.len() * MAX_GROUP_NAME)
                .sum::<usize>()
    }

    /// The local offset as the wire counts it: from the first vs-set.
    pub fn local_offset(&self) -> u32 {
        self.vs_sets[..self.local_vs_set.min(self.vs_sets.len())]
            .iter()
            .map(|s| 4 + s.len() * MAX_GROUP_NAME)
            .sum::<usize>() as u32
    }

    /// Appends the body to `out`, int32 fields in `order`.
    pub fn encode_into(&self, order: ByteOrder, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.extend_from_slice(&self.group_id.encode(order));
        out.extend_from_slice(&order.write_u32(self.vs_sets.len() as u32));
        out.extend_from_slice(&order.write_u32(self.local_offset()));
        for set in &self.vs_sets {
            out.extend_from_slice(&order.write_u32(set.len() as u32));
            for m in set {
                out.extend_from_slice(&m.0);
            }
        }
    }

    /// Reads a body; `None` if it is malformed (a count or the offset points
    /// past the end). Never allocates more than the body can hold. An offset
    /// that is at no set's start gives `local_vs_set` 0.
    pub fn decode(b: &[u8], order: ByteOrder) -> Option<MembershipBody> {
        let group_id = GroupId::decode(b, order)?;
        if b.len() < MEMBERSHIP_PREFIX_LEN {
            return None;
        }
        let num_sets = order.read_u32(field4(b, 12)) as usize;
        let local_offset = order.read_u32(field4(b, 16)) as usize;
        let sets_bytes = &b[MEMBERSHIP_PREFIX_LEN..];
        if num_sets > sets_bytes.len() / 4 {
            return None;
        }
        let mut vs_sets = Vec::with_capacity(num_sets);
        let mut local_vs_set = None;
        let mut at = 0usize;
        for i in 0..num_sets {
            if at == local_offset {
                local_vs_set = Some(i);
            }
            let count = order.read_u32(field4(sets_bytes.get(at..at + 4)?, 0)) as usize;
            at += 4;
            let names = sets_bytes.get(at..at.checked_add(count.checked_mul(MAX_GROUP_NAME)?)?)?;
            vs_sets.push(
                names
                    .chunks(MAX_GROUP_NAME)
                    .map(GroupName::from_field)
                    .collect(),
            );
            at += names.len();
        }
        Some(MembershipBody {
            group_id,
            vs_sets,
            local_vs_set: local_vs_set.unwrap_or(0),
        })
    }
}

/// Rewrites, in place, the int32 fields of a regular membership body that
/// was written in `from` order into this host's order: the group id, the
/// set count, the local offset and every set's count (names are bytes and
/// stay). Stops quietly at the first field that would run past the end.
pub fn body_to_native(body: &mut [u8], from: ByteOrder) {
    if from == ByteOrder::NATIVE {
        return;
    }
    let mut swap = |at: usize| -> Option<u32> {
        let field = body.get_mut(at..at + 4)?;
        let v = from.read_u32([field[0], field[1], field[2], field[3]]);
        field.copy_from_slice(&v.to_ne_bytes());
        Some(v)
    };
    for at in [0, 4, 8, 16] {
        if swap(at).is_none() {
            return;
        }
    }
    let Some(sets) = swap(12) else { return };
    let mut at = MEMBERSHIP_PREFIX_LEN;
    for _ in 0..sets {
        let Some(count) = swap(at) else { return };
        at = match (count as usize)
            .checked_mul(MAX_GROUP_NAME)
            .and_then(|n| n.checked_add(at + 4))
        {
            Some(next) => next,
            None => return,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_from_the_first_set() {
        let b = MembershipBody {
            group_id: GroupId {
                proc_id: 1,
                time: 2,
                index: 1,
            },
            vs_sets: vec![vec!["#netX#n1".into()], vec!["#netY#n2".into()]],
            local_vs_set: 1,
        };
        assert_eq!(b.local_offset(), 36);
        let mut v = Vec::new();
        b.encode_into(ByteOrder::Little, &mut v);
        assert_eq!(v.len(), b.encoded_len());
        assert_eq!(MembershipBody::decode(&v, ByteOrder::Little), Some(b));
    }

    #[test]
    fn foreign_bodies_become_native() {
        let b = MembershipBody {
            group_id: GroupId {
                proc_id: 7,
                time: -3,
                index: 2,
            },
            vs_sets: vec![vec!["#a#b".into()], vec!["#c#d".into(), "#e#f".into()]],
            local_vs_set: 1,
        };
        let foreign = if ByteOrder::NATIVE == ByteOrder::Little {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        };
        let mut v = Vec::new();
        b.encode_into(foreign, &mut v);
        body_to_native(&mut v, foreign);
        assert_eq!(MembershipBody::decode(&v, ByteOrder::NATIVE), Some(b));
        let mut short = v[..30].to_vec();
        body_to_native(&mut short, foreign);
    }

    #[test]
    fn hostile_counts_are_refused() {
        let mut v = GroupId::default().encode(ByteOrder::Little).to_vec();
        v.extend_from_slice(&u32::MAX.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(MembershipBody::decode(&v, ByteOrder::Little), None);
        v.truncate(12);
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(MembershipBody::decode(&v, ByteOrder::Little), None);
    }
}
