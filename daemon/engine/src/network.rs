//! What the group layer does when the daemon membership changes
//! (daemon-protocol.md §4.3, §4.5), for a change that only loses daemons:
//! a transitional signal to the local members of every group that had
//! members at a lost daemon, then, with the regular configuration, one
//! network view per such group (one vs-set: the survivors' daemons share
//! one membership id). A change that also adds daemons goes through the
//! GROUPS state exchange (`exchange.rs`).

use super::{Engine, Output};
use crate::packet::MembId;
use spread_core::consts::{JOIN_MESS, KILL_MESS, LEAVE_MESS};
use spread_core::wire::{encode, ByteOrder, GroupId};
use std::collections::BTreeSet;
use tracing::debug;

impl Engine {
    /// The transitional configuration: the daemons (configuration
    /// positions) that stay, and the transitional membership id.
    pub fn transitional(
        &mut self,
        survivors: &BTreeSet<usize>,
        trans_id: MembId,
        out: &mut Vec<Output>,
    ) {
        // An exchange still running was for a configuration that is gone:
        // its GROUPS messages are void, and this daemon keeps the state of
        // its own synced set (the next regular configuration decides). The
        // messages held for it belong to the old configuration: delivered
        // now, before the signal; the requests stay held (every daemon of
        // this transitional configuration holds the same ones).
        if self.gather.take().is_some() {
            for (origin, header, frame) in std::mem::take(&mut self.held) {
                if header.service_type & (JOIN_MESS | LEAVE_MESS | KILL_MESS) != 0 {
                    self.held.push((origin, header, frame));
                } else {
                    self.ordered(origin, &header, &frame, out);
                }
            }
        }
        let mut signals = Vec::new();
        for g in self.groups.iter_mut() {
            if g.members
                .iter()
                .all(|m| survivors.contains(&m.daemon_index))
            {
                continue;
            }
            let signal = encode::transition(&g.name, &g.id, ByteOrder::NATIVE);
            signals.push((signal, g.local_sessions().collect::<Vec<_>>()));
            g.id = GroupId {
                proc_id: trans_id.proc_id,
                time: trans_id.time,
                index: 1,
            };
            g.changed = true;
        }
        for (frame, to) in signals {
            self.notify(to.into_iter(), frame, out);
        }
        self.survivors = Some(survivors.clone());
    }

    /// The regular configuration after a transitional one that only lost
    /// daemons: members of the lost daemons leave every group (no view of
    /// their own), and each group that lost some gets a network view with
    /// id (regular id, 1).
    pub fn regular_after_loss(&mut self, reg_id: MembId, out: &mut Vec<Output>) {
        let Some(survivors) = self.survivors.take() else {
            return;
        };
        let mut gone_members = Vec::new();
        let mut views = Vec::new();
        for g in self.groups.iter_mut().filter(|g| g.changed) {
            gone_members.extend(
                g.members
                    .iter()
                    .filter(|m| !survivors.contains(&m.daemon_index))
                    .map(|m| m.name),
            );
            g.members.retain(|m| survivors.contains(&m.daemon_index));
            g.changed = false;
            if g.members.is_empty() {
                continue;
            }
            g.id = GroupId {
                proc_id: reg_id.proc_id,
                time: reg_id.time,
                index: 1,
            };
            views.push((g.network_view(), g.local_sessions().collect::<Vec<_>>()));
        }
        self.groups.remove_empty();
        if !gone_members.is_empty() {
            debug!(target: "spread::groups", "membership ({}, {}) lost daemons only: {} of their members leave every group, {} groups have a network view", reg_id.proc_id, reg_id.time, gone_members.len(), views.len());
        }
        for m in gone_members {
            self.memberships.remove(&m);
        }
        self.set_membership(reg_id);
        for (frame, to) in views {
            self.notify(to.into_iter(), frame, out);
        }
        self.replay_held(&survivors, out);
    }
}
