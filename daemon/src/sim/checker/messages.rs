//! Checks on messages: nothing created or duplicated, FIFO per sender, one
//! order at every client, and (without failures) delivery to every member.

use super::{fail, ClientLog, Event, MsgId, ViewKey, Violation};
use std::collections::{HashMap, HashSet};

pub(super) fn messages(log: &ClientLog) -> impl Iterator<Item = &MsgId> {
    log.events.iter().filter_map(|e| match e {
        Event::Message { id, .. } => Some(id),
        _ => None,
    })
}

pub(super) fn no_creation_or_duplication(logs: &[ClientLog]) -> Result<(), Violation> {
    let sent: HashSet<&MsgId> = logs
        .iter()
        .flat_map(|l| l.sent.iter().map(|(id, _)| id))
        .collect();
    for l in logs {
        let mut seen = HashSet::new();
        for id in messages(l) {
            if !sent.contains(id) {
                return fail(format!("{} delivered {id:?}, which nobody sent", l.name));
            }
            if !seen.insert(id) {
                return fail(format!("{} delivered {id:?} twice", l.name));
            }
        }
    }
    Ok(())
}

pub(super) fn fifo_per_sender(logs: &[ClientLog]) -> Result<(), Violation> {
    for l in logs {
        let mut last: HashMap<&str, u64> = HashMap::new();
        for id in messages(l) {
            if let Some(&prev) = last.get(id.sender.as_str()) {
                if id.counter <= prev {
                    return fail(format!(
                        "{} delivered {}'s message {} after {prev}",
                        l.name, id.sender, id.counter
                    ));
                }
            }
            last.insert(&id.sender, id.counter);
        }
    }
    Ok(())
}

/// What identifies the events of a log across clients, with their
/// positions (own leaves are private). A transitional signal is the same
/// event for clients that move on to the same next view: clients cut off
/// from each other have different transitional configurations, which may
/// order the old view's last messages differently.
fn keys(l: &ClientLog) -> Vec<(usize, String)> {
    // The next view of each event's group, from a pass backwards.
    let mut next_view: HashMap<&str, super::ViewKey> = HashMap::new();
    let mut keys: Vec<(usize, String)> = Vec::with_capacity(l.events.len());
    for (i, e) in l.events.iter().enumerate().rev() {
        let k = match e {
            Event::View(v) => {
                next_view.insert(&v.group, v.key());
                format!("view {:?}", v.key())
            }
            Event::Transition { group, id } => {
                let next = next_view.get(group.as_str());
                format!("transition {group} {id:?} to {next:?}")
            }
            Event::Message { id, .. } => format!("msg {}:{}", id.sender, id.counter),
            Event::Left { .. } => continue,
        };
        keys.push((i, k));
    }
    keys.reverse();
    keys
}

/// Anything two clients both saw (messages, views, transitional signals),
/// they saw in the same order. Each client's events are compared with
/// those of the clients that saw the same events (an index from each event
/// to who saw it and where), so the cost grows with the events times how
/// many saw each, not with the square of the clients.
pub(super) fn one_agreed_order(logs: &[ClientLog]) -> Result<(), Violation> {
    let keyed: Vec<Vec<(usize, String)>> = logs.iter().map(keys).collect();
    // Each key's holders with its (last) position in their logs.
    let mut holders: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for (c, ks) in keyed.iter().enumerate() {
        let mut at: HashMap<&str, usize> = HashMap::new();
        for (i, k) in ks {
            at.insert(k.as_str(), *i);
        }
        for (k, i) in at {
            holders.entry(k).or_default().push((c, i));
        }
    }
    // For client b, walking its events in order: the position in a's log
    // of the last event a and b both saw, for each a before b.
    let mut last: Vec<Option<(usize, &str)>> = vec![None; logs.len()];
    for (b, ks) in keyed.iter().enumerate() {
        last.iter_mut().for_each(|l| *l = None);
        for (_, k) in ks {
            let k = k.as_str();
            for &(a, pa) in &holders[k] {
                if a >= b {
                    continue;
                }
                if let Some((prev, prev_key)) = last[a] {
                    if pa < prev {
                        return fail(format!(
                            "{} and {} disagree on the order of {prev_key} and {k}",
                            logs[a].name, logs[b].name
                        ));
                    }
                }
                last[a] = Some((pa, k));
            }
        }
    }
    Ok(())
}

fn network_changes(logs: &[ClientLog]) -> bool {
    logs.iter().any(|l| l.events.iter().any(|e| matches!(e, Event::Transition { .. }) || matches!(e, Event::View(v) if v.cause & spread_core::consts::CAUSED_BY_NETWORK != 0)))
}

/// Without failures, every message sent to a group after a client's join
/// was ordered reaches that client if it is still a member at the end
/// (self-delivery included).
pub(super) fn every_member_delivers(logs: &[ClientLog]) -> Result<(), Violation> {
    if !logs.iter().all(|l| l.survived) || network_changes(logs) {
        return Ok(());
    }
    // Where each client first installed each view and delivered each
    // message, and what was sent to each group.
    let mut installed: HashMap<ViewKey, Vec<(usize, usize)>> = HashMap::new();
    let mut delivered: Vec<HashMap<&MsgId, usize>> = vec![HashMap::new(); logs.len()];
    for (c, l) in logs.iter().enumerate() {
        let mut firsts: HashSet<ViewKey> = HashSet::new();
        for (i, e) in l.events.iter().enumerate() {
            match e {
                Event::View(v) if firsts.insert(v.key()) => {
                    installed.entry(v.key()).or_default().push((c, i));
                }
                Event::Message { id, .. } => {
                    delivered[c].entry(id).or_insert(i);
                }
                _ => {}
            }
        }
    }
    let mut sent_to: HashMap<&str, Vec<&MsgId>> = HashMap::new();
    for (id, group) in logs.iter().flat_map(|l| l.sent.iter()) {
        sent_to.entry(group).or_default().push(id);
    }
    // True if some client delivered `id` after view `first` (so `id` was
    // ordered after the join that view shows).
    let joined_before = |first: &ViewKey, id: &MsgId| {
        installed
            .get(first)
            .into_iter()
            .flatten()
            .any(|&(o, at)| delivered[o].get(id).is_some_and(|&m| m > at))
    };
    for (i, l) in logs.iter().enumerate() {
        // Each group's membership at the end, and the client's first view
        // of it with itself in it.
        let mut member_at_end: HashMap<&str, bool> = HashMap::new();
        let mut first_view: HashMap<&str, ViewKey> = HashMap::new();
        for e in &l.events {
            match e {
                Event::View(v) => {
                    let member = v.members.contains(&l.name);
                    member_at_end.insert(&v.group, member);
                    if member {
                        first_view.entry(&v.group).or_insert_with(|| v.key());
                    }
                }
                Event::Left { group } => {
                    member_at_end.insert(group, false);
                }
                _ => {}
            }
        }
        for (group, _) in member_at_end.iter().filter(|(_, m)| **m) {
            let Some(first) = first_view.get(group) else {
                continue;
            };
            for id in sent_to.get(group).into_iter().flatten() {
                if !delivered[i].contains_key(id) && joined_before(first, id) {
                    return fail(format!("{} never delivered {id:?} sent to {group}", l.name));
                }
            }
        }
    }
    Ok(())
}
