//! The GROUPS state exchange after a daemon membership change that brings
//! daemons together (daemon-protocol.md §4.3 steps 2-3): the
//! representative of each synced set (daemons known to hold the same group
//! state) sends what its set knows; every daemon receives every set's
//! message in the agreed order, merges them the same way, and sends a
//! network view to the local members of every group whose daemons were
//! known under different membership ids — one vs-set per such id.
//!
//! A set's state goes as a sequence of GROUPS messages, each at most
//! 100,000 bytes, as 5.0.1 sends it ([`GroupsBody::split`]): the message
//! built first (with the synced set) is sent last, AGREED; the others go
//! before it, RELIABLE, from the last built back. Receivers keep each
//! sender's records until its AGREED message completes the set.
//!
//! Not here yet: cascades during the exchange, joins and leaves while a
//! group is in a transitional period.

use super::groups::{Group, Member};
use super::{Engine, Output};
use crate::packet::{
    groups_sender_field, groups_sender_name, DaemonRecord, GroupRecord, GroupsBody, MembId,
};
use bytes::Bytes;
use spread_core::consts::*;
use spread_core::name::GroupName;
use spread_core::wire::{encode::request_head, ByteOrder, GroupId, Header};
use std::cmp::Ordering;
use std::collections::{btree_map, BTreeMap, BTreeSet};
use tracing::debug;

/// A configured daemon, as the group layer needs to know it.
#[derive(Clone, Debug)]
pub struct DaemonInfo {
    pub id: u32,
    pub name: String,
}

/// An exchange in progress.
#[derive(Debug)]
pub(super) struct Gather {
    reg_id: MembId,
    /// Daemons of the regular configuration.
    members: BTreeSet<usize>,
    /// Daemons of the regular configuration.
    expected: usize,
    /// Daemons represented by the sets received so far.
    received: usize,
    /// Sequences whose last message has not come yet, by sender
    /// (configuration position).
    partial: BTreeMap<usize, Sequence>,
    /// Senders whose last message came.
    complete: BTreeSet<usize>,
    /// Each record of a complete set with the set's representative (the
    /// sender's id).
    records: Vec<(u32, GroupRecord)>,
    synced: BTreeSet<usize>,
}

/// What one representative sent so far.
#[derive(Debug, Default)]
struct Sequence {
    /// The synced set, from the message that carries it.
    synced_set: Option<Vec<u32>>,
    records: Vec<GroupRecord>,
}

impl Gather {
    /// A reload moved daemons' positions (see `reload.rs`).
    pub(super) fn remap(&mut self, to: &impl Fn(usize) -> usize) {
        let set = |s: &BTreeSet<usize>| s.iter().map(|&i| to(i)).collect::<BTreeSet<usize>>();
        self.members = set(&self.members);
        self.complete = set(&self.complete);
        self.synced = set(&self.synced);
        self.partial = std::mem::take(&mut self.partial)
            .into_iter()
            .map(|(i, s)| (to(i), s))
            .collect();
    }

    /// Whether a position `gone` says is gone is named here.
    pub(super) fn names_any(&self, gone: &impl Fn(&usize) -> bool) -> bool {
        self.members.iter().any(gone)
            || self.complete.iter().any(gone)
            || self.synced.iter().any(gone)
            || self.partial.keys().any(gone)
    }
}

/// 5.0.1's order of membership ids: the sign of the wrapping difference
/// of the proc ids, then of the times (not an unsigned comparison).
fn compare_ids(a: MembId, b: MembId) -> Ordering {
    let by = |x: i32| x.cmp(&0);
    match by((a.proc_id as i32).wrapping_sub(b.proc_id as i32)) {
        Ordering::Equal => by(a.time.wrapping_sub(b.time)),
        other => other,
    }
}

impl Engine {
    /// The configured daemons in configuration order. They start in one
    /// synced set (every daemon starts with no groups).
    pub fn configure(&mut self, daemons: Vec<DaemonInfo>) {
        self.synced = (0..daemons.len()).collect();
        self.configured = daemons.len();
        self.daemons = daemons;
    }

    fn index_of(&self, id: u32) -> Option<usize> {
        self.daemons.iter().position(|d| d.id == id)
    }

    /// The regular configuration `members` (configuration positions) with
    /// id `reg_id`, after a transitional one. If nobody new came, this is
    /// the end of a pure loss; otherwise the exchange starts, and this
    /// daemon's set's message is queued for ordering if it represents it.
    pub fn regular(&mut self, members: &BTreeSet<usize>, reg_id: MembId, out: &mut Vec<Output>) {
        let survivors = self.survivors.clone().unwrap_or_else(|| members.clone());
        let synced: BTreeSet<usize> = self.synced.intersection(&survivors).copied().collect();
        if self.gather.is_none() && members.is_subset(&synced) {
            // Everyone here shares this daemon's group state: a pure loss.
            self.synced = synced;
            self.regular_after_loss(reg_id, out);
            return;
        }
        debug!(target: "spread::groups", "group state exchange for membership ({}, {}): {} daemons, {} in sync with this one", reg_id.proc_id, reg_id.time, members.len(), synced.len());
        self.survivors = None;
        // Members of daemons that are gone leave the changed groups now; the
        // views come with the merge.
        for g in self.groups.iter_mut().filter(|g| g.changed) {
            g.members.retain(|m| survivors.contains(&m.daemon_index));
        }
        self.groups.remove_empty();
        // Requests ordered since the last settled state apply now, before
        // this set's state is sent; the exchange's views show them.
        self.quiet = true;
        self.replay_held(&survivors, out);
        self.quiet = false;
        self.synced = synced;
        self.gather = Some(Gather {
            reg_id,
            members: members.clone(),
            expected: members.len(),
            received: 0,
            partial: BTreeMap::new(),
            complete: BTreeSet::new(),
            records: Vec::new(),
            synced: BTreeSet::new(),
        });
        if self.synced.first() == Some(&self.me.daemon_index) {
            for (frame, service) in self.groups_messages(reg_id) {
                out.push(Output::Order { frame, service });
            }
        }
    }

    /// This set's state as GROUPS messages with their services, in the
    /// order to send them (see the module's documentation).
    fn groups_messages(&self, reg_id: MembId) -> Vec<(Bytes, u32)> {
        let records: Vec<GroupRecord> = self
            .groups
            .iter()
            .map(|g| {
                let mut daemons: BTreeMap<usize, Vec<GroupName>> = BTreeMap::new();
                for m in &g.members {
                    daemons.entry(m.daemon_index).or_default().push(m.name);
                }
                GroupRecord {
                    name: g.name,
                    group_id: g.id,
                    changed: GroupRecord::changed_flag(g.changed, ByteOrder::NATIVE),
                    daemons: daemons
                        .into_iter()
                        .map(|(index, mut members)| {
                            members.sort();
                            DaemonRecord {
                                proc_id: self.daemons[index].id,
                                memb_id: MembId::new(g.id.proc_id, g.id.time),
                                members,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let synced: Vec<u32> = self.synced.iter().map(|&i| self.daemons[i].id).collect();
        let bodies = GroupsBody::split(reg_id, &synced, &records);
        let name = self.daemons[self.me.daemon_index].name.as_bytes();
        let sender = groups_sender_field(name, synced.len() as u32, ByteOrder::NATIVE);
        bodies
            .iter()
            .enumerate()
            .rev()
            .map(|(i, body)| {
                let body = body.encode(ByteOrder::NATIVE);
                let service = if i == 0 { AGREED_MESS } else { RELIABLE_MESS };
                let mut frame = request_head(
                    GROUPS_MESS | service,
                    &sender,
                    &[],
                    0,
                    body.len(),
                    ByteOrder::NATIVE,
                );
                frame.extend_from_slice(&body);
                (Bytes::from(frame), service)
            })
            .collect()
    }

    /// A GROUPS message of daemon `origin` in the agreed order. It counts
    /// if it is of this exchange's regular configuration and names the
    /// daemon that sent it, a member of that configuration whose sequence
    /// is not complete yet; its AGREED message completes the sequence.
    pub(super) fn on_groups_message(
        &mut self,
        origin: usize,
        header: &Header,
        frame: &Bytes,
        out: &mut Vec<Output>,
    ) {
        let Some(body) = frame.get(HEADER_LEN..) else {
            return;
        };
        let Ok(body) = GroupsBody::decode(body, header.order) else {
            return;
        };
        let Some(gather) = self.gather.as_mut() else {
            return;
        };
        if body.memb_id != gather.reg_id {
            return;
        }
        let name = groups_sender_name(&header.sender);
        let sender = self.daemons.iter().position(|d| d.name.as_bytes() == name);
        if sender != Some(origin)
            || !gather.members.contains(&origin)
            || gather.complete.contains(&origin)
        {
            return;
        }
        let sequence = gather.partial.entry(origin).or_default();
        if let Some(set) = body.synced_set {
            if sequence.synced_set.is_some() {
                return; // a second first message
            }
            sequence.synced_set = Some(set);
        }
        sequence.records.extend(body.groups);
        if header.service_type & AGREED_MESS == 0 {
            return;
        }
        let sequence = gather.partial.remove(&origin).unwrap_or_default();
        gather.complete.insert(origin);
        // A sequence that never said whom it speaks for counts for nobody.
        let Some(set) = sequence.synced_set else {
            return;
        };
        let indices: Vec<usize> = set
            .iter()
            .filter_map(|&id| self.daemons.iter().position(|d| d.id == id))
            .collect();
        gather.received += indices.len();
        gather.synced.extend(indices);
        let set_key = self.daemons[origin].id;
        gather
            .records
            .extend(sequence.records.into_iter().map(|g| (set_key, g)));
        if gather.received >= gather.expected {
            self.finish_exchange(out);
        }
    }

    /// Every set has spoken: merge, send the network views, and make one
    /// synced set of everyone.
    fn finish_exchange(&mut self, out: &mut Vec<Output>) {
        let Some(gather) = self.gather.take() else {
            return;
        };
        // Group name -> (changed by anyone, its id, daemon -> (how it was
        // known, members)). A daemon's members are known under a group id
        // and by a synced set: members known alike saw the same views.
        type Known = (MembId, u32);
        type Merged =
            BTreeMap<GroupName, (bool, GroupId, BTreeMap<usize, (Known, Vec<GroupName>)>)>;
        let mut merged: Merged = BTreeMap::new();
        for (set_key, r) in gather.records {
            let entry =
                merged
                    .entry(r.name.canonical())
                    .or_insert((false, r.group_id, BTreeMap::new()));
            entry.0 |= r.is_changed();
            for d in r.daemons {
                let Some(index) = self.index_of(d.proc_id) else {
                    continue;
                };
                let known = (d.memb_id, set_key);
                match entry.2.entry(index) {
                    // The rest of a member list cut between messages.
                    btree_map::Entry::Occupied(mut o) if o.get().0 == known => {
                        o.get_mut().1.extend(d.members)
                    }
                    btree_map::Entry::Occupied(mut o) => {
                        o.insert((known, d.members));
                    }
                    btree_map::Entry::Vacant(v) => {
                        v.insert((known, d.members));
                    }
                }
            }
        }
        let reg = gather.reg_id;
        let mut views = Vec::new();
        self.groups.clear();
        self.memberships.clear();
        for (name, (changed, id, mut daemons)) in merged {
            let ids: BTreeSet<Known> = daemons.values().map(|(m, _)| *m).collect();
            let changed = changed || ids.len() > 1;
            let mut members = Vec::new();
            for (index, (_, names)) in daemons.iter_mut() {
                let index = *index;
                // Parts of a cut list come in any order.
                names.sort_unstable();
                names.dedup();
                for n in names.iter() {
                    let session = self.by_private_group.get(n).copied();
                    members.push(Member {
                        name: *n,
                        daemon_index: index,
                        session,
                    });
                    self.memberships.entry(*n).or_default().insert(name);
                }
            }
            if members.is_empty() {
                continue;
            }
            let group_id = if changed {
                GroupId {
                    proc_id: reg.proc_id,
                    time: reg.time,
                    index: 1,
                }
            } else {
                id
            };
            let group = Group {
                name,
                id: group_id,
                members,
                changed: false,
            };
            if changed {
                // One vs-set per way the daemons were known, ordered by the
                // id (5.0.1's order), then by synced set and daemon position.
                let mut order: Vec<(usize, Known)> =
                    daemons.iter().map(|(&i, (m, _))| (i, *m)).collect();
                order.sort_by(|a, b| {
                    compare_ids(a.1 .0, b.1 .0)
                        .then(a.1 .1.cmp(&b.1 .1))
                        .then(a.0.cmp(&b.0))
                });
                let mut sets: Vec<(Known, Vec<usize>)> = Vec::new();
                for (index, mid) in order {
                    match sets.last_mut() {
                        Some((last, v)) if *last == mid => v.push(index),
                        _ => sets.push((mid, vec![index])),
                    }
                }
                let vs_sets: Vec<Vec<GroupName>> = sets
                    .iter()
                    .map(|(_, idx)| {
                        group
                            .members
                            .iter()
                            .filter(|m| idx.contains(&m.daemon_index))
                            .map(|m| m.name)
                            .collect()
                    })
                    .collect();
                let local = sets
                    .iter()
                    .position(|(_, idx)| idx.contains(&self.me.daemon_index))
                    .unwrap_or(0);
                views.push((
                    group.network_view_with(vs_sets, local),
                    group.local_sessions().collect::<Vec<_>>(),
                ));
            }
            self.groups.insert(group);
        }
        self.synced = gather.synced;
        self.set_membership(reg);
        debug!(target: "spread::groups", "group state exchanged: {} groups, {} changed by the merge", self.groups.len(), views.len());
        for (frame, to) in views {
            self.notify(to.into_iter(), frame, out);
        }
        self.replay_held(&gather.members, out);
    }

    /// Joins, leaves and disconnects ordered during an exchange take effect
    /// once the state is settled, in their order (those of daemons no
    /// longer in the configuration are void).
    /// Before an exchange (`quiet`), joins are not applied but ordered
    /// again by the joiner's daemon, so the joiner gets a view of its own
    /// after the exchange instead of appearing inside others' vs-sets.
    pub(super) fn replay_held(&mut self, members: &BTreeSet<usize>, out: &mut Vec<Output>) {
        for (origin, header, frame) in std::mem::take(&mut self.held) {
            if !members.contains(&origin) {
                continue;
            }
            if self.quiet && header.service_type & JOIN_MESS != 0 {
                let local = self
                    .by_private_group
                    .contains_key(&header.sender.canonical());
                if origin == self.me.daemon_index && local {
                    out.push(Output::Order {
                        frame,
                        service: header.service_type,
                    });
                }
                continue;
            }
            self.ordered(origin, &header, &frame, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_as_501_does() {
        assert_eq!(
            compare_ids(MembId::new(1249384167, 5), MembId::new(3002951344, 1)),
            Ordering::Less
        );
        assert_eq!(
            compare_ids(MembId::new(1, 5), MembId::new(1, 4)),
            Ordering::Greater
        );
        // More than 2^31 apart: the wrapping difference decides, not the
        // unsigned values.
        assert_eq!(
            compare_ids(MembId::new(0, 0), MembId::new(0x9000_0000, 0)),
            Ordering::Greater
        );
        assert_eq!(
            compare_ids(MembId::new(7, 7), MembId::new(7, 7)),
            Ordering::Equal
        );
    }
}
