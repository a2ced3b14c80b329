//! What a reloaded configuration changes in the group layer: daemons are
//! known by their configuration position, and a reload moves positions
//! (daemons added before others, daemons removed). Every position held
//! (group members, synced set, held requests, an exchange under way) moves
//! to the daemon's new one, found by its id, and members are ordered anew
//! (by daemon position, then by name, as every daemon of the new
//! configuration orders them).
//!
//! A removed daemon keeps a place after the configured ones while anything
//! still names it: its clients stay members until the membership change
//! the reload starts removes them with a network view, like the members of
//! any daemon that left, and the old ring's messages of its clients that
//! are recovered after the reload are still delivered (every daemon of
//! the old ring delivers them, reloaded or not).

use super::exchange::DaemonInfo;
use super::Engine;
use std::collections::BTreeSet;

impl Engine {
    /// Takes the reloaded configuration's daemons (configuration order),
    /// this daemon being at `me`.
    pub fn reconfigure(&mut self, daemons: Vec<DaemonInfo>, me: usize) {
        let configured = daemons.len();
        let mut all = daemons;
        for old in &self.daemons {
            if !all.iter().any(|d| d.id == old.id) {
                all.push(old.clone());
            }
        }
        let moved: Vec<usize> = self
            .daemons
            .iter()
            .map(|old| {
                all.iter()
                    .position(|d| d.id == old.id)
                    .expect("every old daemon has a place")
            })
            .collect();
        let to = |i: usize| moved.get(i).copied().unwrap_or(i);
        let set = |s: &BTreeSet<usize>| s.iter().map(|&i| to(i)).collect::<BTreeSet<usize>>();
        for g in self.groups.iter_mut() {
            for m in &mut g.members {
                m.daemon_index = to(m.daemon_index);
            }
            g.members.sort_by_key(|m| (m.daemon_index, m.name));
        }
        self.synced = set(&self.synced);
        if let Some(s) = self.survivors.as_mut() {
            *s = set(s);
        }
        for (origin, _, _) in &mut self.held {
            *origin = to(*origin);
        }
        if let Some(g) = self.gather.as_mut() {
            g.remap(&to);
        }
        self.me.daemon_index = me;
        self.daemons = all;
        self.configured = configured;
    }

    /// Drops the places of removed daemons once nothing names them (after
    /// a regular configuration, which they are not in). True if it did.
    pub fn forget_removed(&mut self) -> bool {
        if self.daemons.len() == self.configured {
            return false;
        }
        let gone = |i: &usize| *i >= self.configured;
        let named = self
            .groups
            .iter()
            .any(|g| g.members.iter().any(|m| gone(&m.daemon_index)))
            || self.synced.iter().any(gone)
            || self.survivors.as_ref().is_some_and(|s| s.iter().any(gone))
            || self.held.iter().any(|(o, _, _)| gone(o))
            || self.gather.as_ref().is_some_and(|g| g.names_any(&gone));
        if named {
            return false;
        }
        self.daemons.truncate(self.configured);
        true
    }

    /// The daemons known to the group layer: the configured ones, then
    /// removed ones still named.
    pub fn daemons(&self) -> &[DaemonInfo] {
        &self.daemons
    }
}
