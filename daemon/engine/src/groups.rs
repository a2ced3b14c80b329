//! Group state: who is in which group, group ids, and the membership
//! messages a change produces.

use super::SessionId;
use crate::packet::MembId;
use spread_core::consts::*;
use spread_core::name::GroupName;
use spread_core::wire::{encode, ByteOrder, GroupId, MembershipBody};
use std::collections::BTreeMap;

/// A member of a group: its private group name, and its session if local.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: GroupName,
    /// Position of the member's daemon in the configuration (for ordering).
    pub daemon_index: usize,
    pub session: Option<SessionId>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub name: GroupName,
    pub id: GroupId,
    /// Ordered by daemon position in the configuration, then by name.
    pub members: Vec<Member>,
    /// Lost daemons during a daemon membership change (5.0.1's "changed"):
    /// its next view is a network view.
    pub changed: bool,
}

impl Group {
    fn position(&self, name: &GroupName) -> Option<usize> {
        self.members.iter().position(|m| m.name == *name)
    }

    fn member_names(&self) -> Vec<GroupName> {
        self.members.iter().map(|m| m.name).collect()
    }

    pub fn local_sessions(&self) -> impl Iterator<Item = SessionId> + '_ {
        self.members.iter().filter_map(|m| m.session)
    }

    /// A network view: every member in one vs-set (what 5.0.1 sends after a
    /// pure loss, when the survivors' daemons share one membership id).
    pub fn network_view(&self) -> Vec<u8> {
        let everyone = self.member_names();
        let body = MembershipBody {
            group_id: self.id,
            vs_sets: vec![everyone.clone()],
            local_vs_set: 0,
        };
        encode::membership(
            CAUSED_BY_NETWORK,
            &self.name,
            &everyone,
            &body,
            ByteOrder::NATIVE,
        )
    }

    /// A network view with the given vs-sets, `local` being the receiver's.
    pub fn network_view_with(&self, vs_sets: Vec<Vec<GroupName>>, local: usize) -> Vec<u8> {
        let body = MembershipBody {
            group_id: self.id,
            vs_sets,
            local_vs_set: local,
        };
        encode::membership(
            CAUSED_BY_NETWORK,
            &self.name,
            &self.member_names(),
            &body,
            ByteOrder::NATIVE,
        )
    }

    /// A lightweight view: one vs-set holding the member that changed.
    fn lightweight_view(&self, cause: u32, changed: &GroupName) -> Vec<u8> {
        let body = MembershipBody {
            group_id: self.id,
            vs_sets: vec![vec![*changed]],
            local_vs_set: 0,
        };
        encode::membership(
            cause,
            &self.name,
            &self.member_names(),
            &body,
            ByteOrder::NATIVE,
        )
    }
}

/// What a change tells local sessions: `frame` for each of `to`.
#[derive(Debug, Default)]
pub struct Notice {
    pub to: Vec<SessionId>,
    pub frame: Vec<u8>,
}

/// Every group of the system, keyed by name.
#[derive(Debug, Default)]
pub struct Groups {
    groups: BTreeMap<GroupName, Group>,
}

impl Groups {
    pub fn iter(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Group> {
        self.groups.values_mut()
    }

    pub fn clear(&mut self) {
        self.groups.clear();
    }

    pub fn insert(&mut self, g: Group) {
        self.groups.insert(g.name, g);
    }

    /// Drops groups left without members.
    pub fn remove_empty(&mut self) {
        self.groups.retain(|_, g| !g.members.is_empty());
    }

    pub fn get(&self, name: &GroupName) -> Option<&Group> {
        self.groups.get(name)
    }

    /// Marks a group as changed since its members' last view.
    pub fn mark_changed(&mut self, name: &GroupName) {
        if let Some(g) = self.groups.get_mut(name) {
            g.changed = true;
        }
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Adds `member` to `group` (created with `membership` as its id base);
    /// `None` if it was already a member.
    pub fn join(
        &mut self,
        group: GroupName,
        member: Member,
        membership: MembId,
    ) -> Option<Vec<u8>> {
        let g = self.groups.entry(group).or_insert_with(|| Group {
            name: group,
            id: GroupId {
                proc_id: membership.proc_id,
                time: membership.time,
                index: 0,
            },
            members: Vec::new(),
            changed: false,
        });
        if g.position(&member.name).is_some() {
            return None;
        }
        let at = g
            .members
            .partition_point(|m| (m.daemon_index, m.name) < (member.daemon_index, member.name));
        let joiner = member.name;
        g.members.insert(at, member);
        g.id.index += 1;
        Some(g.lightweight_view(CAUSED_BY_JOIN, &joiner))
    }

    /// Removes `member` from `group` for `cause` (CAUSED_BY_LEAVE or
    /// CAUSED_BY_DISCONNECT). Returns the removed member, and the view for
    /// the remaining members unless the group is gone.
    pub fn remove(
        &mut self,
        group: &GroupName,
        member: &GroupName,
        cause: u32,
    ) -> Option<(Member, Option<Vec<u8>>)> {
        let g = self.groups.get_mut(group)?;
        let at = g.position(member)?;
        let gone = g.members.remove(at);
        if g.members.is_empty() {
            self.groups.remove(group);
            return Some((gone, None));
        }
        g.id.index += 1;
        Some((gone, Some(g.lightweight_view(cause, member))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spread_core::wire::{split_frame, Limits, Message};

    fn member(name: &str, daemon_index: usize, session: u64) -> Member {
        Member {
            name: name.into(),
            daemon_index,
            session: Some(SessionId(session)),
        }
    }

    fn decode(frame: &[u8]) -> spread_core::wire::MembershipMessage {
        let (f, _) = split_frame(frame, &Limits::CLIENT).unwrap().unwrap();
        match Message::from_frame(&f).unwrap() {
            Message::Membership(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn members_are_ordered_by_daemon_then_name() {
        let mut g = Groups::default();
        let grp = GroupName::from("g");
        g.join(grp, member("#b#d1", 0, 1), MembId::new(7, 100))
            .unwrap();
        g.join(grp, member("#a#d2", 1, 2), MembId::new(7, 100))
            .unwrap();
        let view = decode(
            &g.join(grp, member("#a#d1", 0, 3), MembId::new(7, 100))
                .unwrap(),
        );
        let names: Vec<String> = view.members.iter().map(|m| m.to_string()).collect();
        assert_eq!(names, ["#a#d1", "#b#d1", "#a#d2"]);
        assert_eq!(
            view.group_id,
            GroupId {
                proc_id: 7,
                time: 100,
                index: 3
            }
        );
        assert_eq!(view.changed_member().unwrap(), &GroupName::from("#a#d1"));
    }

    #[test]
    fn duplicate_join_and_bogus_leave_are_silent() {
        let mut g = Groups::default();
        let grp = GroupName::from("g");
        assert!(g
            .join(grp, member("#a#d", 0, 1), MembId::new(1, 1))
            .is_some());
        assert!(g
            .join(grp, member("#a#d", 0, 1), MembId::new(1, 1))
            .is_none());
        assert!(g.remove(&grp, &"#x#d".into(), CAUSED_BY_LEAVE).is_none());
        assert_eq!(g.get(&grp).unwrap().id.index, 1);
    }

    #[test]
    fn last_leave_deletes_the_group_without_a_view() {
        let mut g = Groups::default();
        let grp = GroupName::from("g");
        g.join(grp, member("#a#d", 0, 1), MembId::new(1, 1));
        g.join(grp, member("#b#d", 0, 2), MembId::new(1, 1));
        let (_, view) = g
            .remove(&grp, &"#a#d".into(), CAUSED_BY_DISCONNECT)
            .unwrap();
        let view = decode(&view.unwrap());
        assert_eq!(view.cause(), CAUSED_BY_DISCONNECT);
        assert_eq!(view.group_id.index, 3);
        assert_eq!(view.vs_sets, vec![vec![GroupName::from("#a#d")]]);
        let (_, view) = g.remove(&grp, &"#b#d".into(), CAUSED_BY_LEAVE).unwrap();
        assert!(view.is_none());
        assert!(g.is_empty());
    }
}
