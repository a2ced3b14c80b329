//! MaxGroupsPerSession. The cap is kept by the daemon a session belongs
//! to, before its join is ordered: every daemon applies an ordered join
//! alike, and other daemons (5.0.1's among them) have no cap. A join
//! counts from when it is submitted until it comes back in the agreed
//! order, from then on it is in the engine's memberships.

use spread_core::consts::{GROUPS_MESS, JOIN_MESS};
use spread_core::name::GroupName;
use spread_core::wire::Header;
use std::collections::HashMap;

#[derive(Debug)]
pub struct GroupCap {
    cap: usize,
    /// This daemon's position in the configuration.
    me: usize,
    /// Joins submitted and not yet back, by member (none: no entry).
    in_flight: HashMap<GroupName, usize>,
}

fn join_of(header: &Header) -> Option<GroupName> {
    let st = header.service_type;
    (st & JOIN_MESS != 0 && st & GROUPS_MESS == 0).then(|| header.sender.canonical())
}

impl GroupCap {
    pub fn new(cap: usize, me: usize) -> GroupCap {
        GroupCap {
            cap,
            me,
            in_flight: HashMap::new(),
        }
    }

    /// A reloaded configuration: this daemon's new position and cap.
    pub fn reconfigure(&mut self, cap: usize, me: usize) {
        self.cap = cap;
        self.me = me;
    }

    /// Whether the request in `header`, from a session of this daemon, may
    /// be ordered: anything but a join may; a join if its sender is in
    /// fewer than the cap, counting its joins in flight (`groups_of` says
    /// how many it is in). An admitted join counts as in flight. Refused:
    /// how many the sender is in, with those in flight.
    pub fn admit(
        &mut self,
        header: &Header,
        groups_of: impl FnOnce(&GroupName) -> usize,
    ) -> Result<(), usize> {
        let Some(member) = join_of(header) else {
            return Ok(());
        };
        let flying = self.in_flight.get(&member).copied().unwrap_or(0);
        let groups = groups_of(&member) + flying;
        if groups >= self.cap {
            return Err(groups);
        }
        *self.in_flight.entry(member).or_default() += 1;
        Ok(())
    }

    /// A message came back in the agreed order from the daemon at
    /// configuration position `origin`.
    pub fn ordered(&mut self, origin: usize, header: &Header) {
        if origin == self.me {
            self.applied(header);
        }
    }

    /// A request of this daemon's was applied (for a daemon alone, at once
    /// when it was admitted).
    pub fn applied(&mut self, header: &Header) {
        let Some(member) = join_of(header) else {
            return;
        };
        if let Some(n) = self.in_flight.get_mut(&member) {
            *n -= 1;
            if *n == 0 {
                self.in_flight.remove(&member);
            }
        }
    }

    /// A session opens as `member`: nothing of an earlier one of that
    /// name is counted for it.
    pub fn forget(&mut self, member: &GroupName) {
        self.in_flight.remove(&member.canonical());
    }

    pub fn cap(&self) -> usize {
        self.cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spread_core::consts::{AGREED_MESS, LEAVE_MESS};
    use spread_core::wire::{ByteOrder, Hint};

    fn header(service_type: u32, sender: &str) -> Header {
        Header {
            service_type,
            sender: sender.into(),
            num_groups: 1,
            hint: Hint::new(0, ByteOrder::NATIVE),
            data_len: 0,
            order: ByteOrder::NATIVE,
        }
    }

    #[test]
    fn joins_in_flight_count_until_they_come_back() {
        let mut cap = GroupCap::new(3, 0);
        let join = header(JOIN_MESS, "#a#d1");
        let in_one = |_: &GroupName| 1;
        assert_eq!(cap.admit(&join, in_one), Ok(()));
        assert_eq!(cap.admit(&join, in_one), Ok(()));
        assert_eq!(cap.admit(&join, in_one), Err(3));
        assert_eq!(cap.admit(&header(AGREED_MESS, "#a#d1"), in_one), Ok(()));
        assert_eq!(cap.admit(&header(LEAVE_MESS, "#a#d1"), in_one), Ok(()));
        // Another daemon's join of the same name changes nothing here.
        cap.ordered(1, &join);
        assert_eq!(cap.admit(&join, in_one), Err(3));
        // Back, and now in the memberships.
        cap.ordered(0, &join);
        assert_eq!(cap.admit(&join, |_| 2), Err(3));
        cap.ordered(0, &join);
        assert_eq!(cap.admit(&join, |_| 2), Ok(()));
        assert_eq!(cap.admit(&header(JOIN_MESS, "#b#d1"), |_| 0), Ok(()));
        cap.forget(&"#a#d1".into());
        assert_eq!(cap.admit(&join, |_| 0), Ok(()));
    }
}
