//! Checks on messages: nothing created or duplicated, FIFO per sender, one
//! order at every client, and (without failures) delivery to every member.

use super::{fail, ClientLog, Event, MsgId, View, Violation};
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
    l.events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let k = match e {
                Event::View(v) => format!("view {} {:?}", v.group, v.id),
                Event::Transition { group, id } => {
                    let next = l.events[i + 1..].iter().find_map(|e| match e {
                        Event::View(v) if v.group == *group => Some(v.id),
                        _ => None,
                    });
                    format!("transition {group} {id:?} to {next:?}")
                }
                Event::Message { id, .. } => format!("msg {}:{}", id.sender, id.counter),
                Event::Left { .. } => return None,
            };
            Some((i, k))
        })
        .collect()
}

/// Anything two clients both saw (messages, views, transitional signals),
/// they saw in the same order.
pub(super) fn one_agreed_order(logs: &[ClientLog]) -> Result<(), Violation> {
    let keyed: Vec<Vec<(usize, String)>> = logs.iter().map(keys).collect();
    let positions: Vec<HashMap<&str, usize>> = keyed
        .iter()
        .map(|ks| ks.iter().map(|(i, k)| (k.as_str(), *i)).collect())
        .collect();
    for (a, la) in logs.iter().enumerate() {
        for (b, lb) in logs.iter().enumerate().skip(a + 1) {
            let mut last: Option<(usize, &str)> = None;
            for (_, k) in &keyed[b] {
                let k = k.as_str();
                if let Some(&pa) = positions[a].get(k) {
                    if let Some((prev, prev_key)) = &last {
                        if pa < *prev {
                            return fail(format!(
                                "{} and {} disagree on the order of {prev_key} and {k}",
                                la.name, lb.name
                            ));
                        }
                    }
                    last = Some((pa, k));
                }
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
    let delivered: Vec<HashSet<&MsgId>> = logs.iter().map(|l| messages(l).collect()).collect();
    for (id, group) in logs.iter().flat_map(|l| l.sent.iter()) {
        for (i, l) in logs.iter().enumerate() {
            let member_at_end = l.events.iter().rev().find_map(|e| match e {
                Event::View(v) if v.group == *group => Some(v.members.contains(&l.name)),
                Event::Left { group: g } if g == group => Some(false),
                _ => None,
            });
            if member_at_end == Some(true)
                && joined_before(l, group, id, logs)
                && !delivered[i].contains(id)
            {
                return fail(format!("{} never delivered {id:?} sent to {group}", l.name));
            }
        }
    }
    Ok(())
}

/// True if some client delivered `id` after a view of `group` that has `l`
/// in it (so `id` was ordered after `l`'s join).
fn joined_before(l: &ClientLog, group: &str, id: &MsgId, logs: &[ClientLog]) -> bool {
    let first_view = l.events.iter().find_map(|e| match e {
        Event::View(View {
            group: g,
            id: vid,
            members,
            ..
        }) if g == group && members.contains(&l.name) => Some(*vid),
        _ => None,
    });
    let Some(vid) = first_view else { return false };
    logs.iter().any(|o| {
        let vpos = o
            .events
            .iter()
            .position(|e| matches!(e, Event::View(v) if v.group == group && v.id == vid));
        let mpos = o
            .events
            .iter()
            .position(|e| matches!(e, Event::Message { id: m, .. } if m == id));
        matches!((vpos, mpos), (Some(v), Some(m)) if v < m)
    })
}
