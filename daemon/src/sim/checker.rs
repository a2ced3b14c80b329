//! Checks what clients saw against Extended Virtual Synchrony: the
//! properties of daemon-protocol.md §9.2 that a run without failures must
//! have (membership changes extend the checks in later work).

use std::collections::{HashMap, HashSet};
use std::fmt;

/// A message's identity: its sender and the sender's counter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId {
    pub sender: String,
    pub counter: u64,
}

/// A view's group id: (proc_id, time, index).
pub type ViewId = (u32, i32, i32);

/// One thing a client saw, in the order it saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A regular membership of `group`: (proc_id, time, index) and members.
    View {
        group: String,
        id: (u32, i32, i32),
        members: Vec<String>,
    },
    Message {
        id: MsgId,
        service: u32,
        group: String,
    },
}

/// What one client did and saw.
#[derive(Clone, Debug, Default)]
pub struct ClientLog {
    pub name: String,
    pub events: Vec<Event>,
    /// Messages it sent, in order, with the group each went to.
    pub sent: Vec<(MsgId, String)>,
    /// It stayed connected to the end of the run.
    pub survived: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs every check; the first violation found is returned.
pub fn check(logs: &[ClientLog]) -> Result<(), Violation> {
    no_creation_or_duplication(logs)?;
    fifo_per_sender(logs)?;
    one_agreed_order(logs)?;
    views_agree(logs)?;
    every_member_delivers(logs)?;
    Ok(())
}

fn fail<T>(text: String) -> Result<T, Violation> {
    Err(Violation(text))
}

fn messages(log: &ClientLog) -> impl Iterator<Item = &MsgId> {
    log.events.iter().filter_map(|e| match e {
        Event::Message { id, .. } => Some(id),
        Event::View { .. } => None,
    })
}

fn no_creation_or_duplication(logs: &[ClientLog]) -> Result<(), Violation> {
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

fn fifo_per_sender(logs: &[ClientLog]) -> Result<(), Violation> {
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

/// Anything two clients both saw (messages and views), they saw in the
/// same order.
fn one_agreed_order(logs: &[ClientLog]) -> Result<(), Violation> {
    let key = |e: &Event| -> String {
        match e {
            Event::View { group, id, .. } => format!("view {group} {id:?}"),
            Event::Message { id, .. } => format!("msg {}:{}", id.sender, id.counter),
        }
    };
    let positions: Vec<HashMap<String, usize>> = logs
        .iter()
        .map(|l| {
            l.events
                .iter()
                .enumerate()
                .map(|(i, e)| (key(e), i))
                .collect()
        })
        .collect();
    for (a, la) in logs.iter().enumerate() {
        for lb in logs.iter().skip(a + 1) {
            let mut last: Option<(usize, String)> = None;
            for e in &lb.events {
                let k = key(e);
                if let Some(&pa) = positions[a].get(&k) {
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

/// Clients that install a view with the same id see the same members.
fn views_agree(logs: &[ClientLog]) -> Result<(), Violation> {
    // (group, view id) -> who saw it first, and its members.
    type Seen<'a> = HashMap<(String, ViewId), (&'a str, &'a Vec<String>)>;
    let mut seen: Seen = HashMap::new();
    for l in logs {
        for e in &l.events {
            if let Event::View { group, id, members } = e {
                match seen.get(&(group.clone(), *id)) {
                    Some((who, m)) if *m != members => {
                        return fail(format!(
                            "{} and {who} see view {id:?} of {group} with {members:?} and {m:?}",
                            l.name
                        ));
                    }
                    Some(_) => {}
                    None => {
                        seen.insert((group.clone(), *id), (&l.name, members));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Without failures, every message sent to a group after a client's join
/// view and before its leave reaches that client (self-delivery included).
fn every_member_delivers(logs: &[ClientLog]) -> Result<(), Violation> {
    if !logs.iter().all(|l| l.survived) {
        return Ok(());
    }
    let delivered: Vec<HashSet<&MsgId>> = logs.iter().map(|l| messages(l).collect()).collect();
    for (id, group) in logs.iter().flat_map(|l| l.sent.iter()) {
        for (i, l) in logs.iter().enumerate() {
            // A member to the end whose join was ordered before the message.
            let member_at_end = l.events.iter().rev().find_map(|e| match e {
                Event::View {
                    group: g, members, ..
                } if g == group => Some(members.contains(&l.name)),
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

/// True if `l` saw itself in a view of `group` before some other client
/// delivered `id` (so `id` was ordered after `l`'s join).
fn joined_before(l: &ClientLog, group: &str, id: &MsgId, logs: &[ClientLog]) -> bool {
    // Find a client that delivered both l's first view with l in it and id.
    let first_view = l.events.iter().find_map(|e| match e {
        Event::View {
            group: g,
            id: vid,
            members,
        } if g == group && members.contains(&l.name) => Some(*vid),
        _ => None,
    });
    let Some(vid) = first_view else { return false };
    logs.iter().any(|o| {
        let vpos = o.events.iter().position(
            |e| matches!(e, Event::View { group: g, id: x, .. } if g == group && *x == vid),
        );
        let mpos = o
            .events
            .iter()
            .position(|e| matches!(e, Event::Message { id: m, .. } if m == id));
        matches!((vpos, mpos), (Some(v), Some(m)) if v < m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(sender: &str, counter: u64) -> Event {
        Event::Message {
            id: MsgId {
                sender: sender.into(),
                counter,
            },
            service: 0x10,
            group: "g".into(),
        }
    }

    fn view(index: i32, members: &[&str]) -> Event {
        Event::View {
            group: "g".into(),
            id: (1, 1, index),
            members: members.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn log(name: &str, events: Vec<Event>, sent: &[u64]) -> ClientLog {
        ClientLog {
            name: name.into(),
            events,
            sent: sent
                .iter()
                .map(|&c| {
                    (
                        MsgId {
                            sender: name.into(),
                            counter: c,
                        },
                        "g".into(),
                    )
                })
                .collect(),
            survived: true,
        }
    }

    #[test]
    fn a_good_history_passes() {
        let a = log(
            "a",
            vec![
                view(1, &["a"]),
                view(2, &["a", "b"]),
                msg("a", 1),
                msg("b", 1),
            ],
            &[1],
        );
        let b = log(
            "b",
            vec![view(2, &["a", "b"]), msg("a", 1), msg("b", 1)],
            &[1],
        );
        assert_eq!(check(&[a, b]), Ok(()));
    }

    #[test]
    fn each_violation_is_found() {
        let a = log(
            "a",
            vec![view(1, &["a", "b"]), msg("a", 1), msg("b", 1)],
            &[1],
        );
        let b = log(
            "b",
            vec![view(1, &["a", "b"]), msg("b", 1), msg("a", 1)],
            &[1],
        );
        assert!(check(&[a.clone(), b]).unwrap_err().0.contains("disagree"));
        let dup = log(
            "b",
            vec![view(1, &["a", "b"]), msg("a", 1), msg("a", 1), msg("b", 1)],
            &[1],
        );
        let e = check(&[a.clone(), dup]).unwrap_err().0;
        assert!(e.contains("twice"), "{e}");
        let ghost = log(
            "b",
            vec![view(1, &["a", "b"]), msg("a", 1), msg("b", 1), msg("z", 1)],
            &[1],
        );
        assert!(check(&[a.clone(), ghost])
            .unwrap_err()
            .0
            .contains("nobody sent"));
        let lost = log("b", vec![view(1, &["a", "b"]), msg("b", 1)], &[1]);
        assert!(check(&[a.clone(), lost])
            .unwrap_err()
            .0
            .contains("never delivered"));
        let other_view = log("b", vec![view(1, &["b"]), msg("a", 1), msg("b", 1)], &[1]);
        assert!(check(&[a.clone(), other_view])
            .unwrap_err()
            .0
            .contains("see view"));
        let fifo = log(
            "a",
            vec![view(1, &["a"]), msg("a", 2), msg("a", 1)],
            &[1, 2],
        );
        assert!(check(&[fifo]).unwrap_err().0.contains("after"));
    }
}
