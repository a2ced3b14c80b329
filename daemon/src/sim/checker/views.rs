//! Checks on views: agreement, group ids, vs-sets, transitional signals,
//! virtual synchrony and SAFE delivery across view changes.

use super::{fail, ClientLog, Event, View, ViewId, Violation};
use spread_core::consts::{CAUSED_BY_NETWORK, SAFE_MESS};
use std::collections::{BTreeSet, HashMap};

fn is_network(v: &View) -> bool {
    v.cause & CAUSED_BY_NETWORK != 0
}

/// The client's views of each group with the event positions between them.
fn views_of(l: &ClientLog) -> impl Iterator<Item = (usize, &View)> {
    l.events.iter().enumerate().filter_map(|(i, e)| match e {
        Event::View(v) => Some((i, v)),
        _ => None,
    })
}

/// The view of `group` the client had before position `at`, unless it left
/// the group after it.
fn previous_view<'a>(l: &'a ClientLog, group: &str, at: usize) -> Option<(usize, &'a View)> {
    for (i, e) in l.events[..at].iter().enumerate().rev() {
        match e {
            Event::View(v) if v.group == group => return Some((i, v)),
            Event::Left { group: g } if g == group => return None,
            _ => {}
        }
    }
    None
}

fn as_set(sets: &[Vec<String>]) -> BTreeSet<BTreeSet<&str>> {
    sets.iter()
        .map(|s| s.iter().map(String::as_str).collect())
        .collect()
}

/// Clients that install a view with the same id see the same members and
/// the same vs-sets (only their own set's index differs).
pub(super) fn views_agree(logs: &[ClientLog]) -> Result<(), Violation> {
    let mut seen: HashMap<(String, ViewId), (&str, &View)> = HashMap::new();
    for l in logs {
        for (_, v) in views_of(l) {
            match seen.get(&(v.group.clone(), v.id)) {
                Some((who, w))
                    if w.members != v.members || as_set(&w.vs_sets) != as_set(&v.vs_sets) =>
                {
                    return fail(format!(
                        "{} and {who} see view {:?} of {} differently: {v:?} and {w:?}",
                        l.name, v.id, v.group
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert((v.group.clone(), v.id), (&l.name, v));
                }
            }
        }
    }
    Ok(())
}

/// A network view has index 1; any other view keeps its group's ring id
/// and raises the index.
pub(super) fn ids_advance(logs: &[ClientLog]) -> Result<(), Violation> {
    for l in logs {
        for (i, v) in views_of(l) {
            if is_network(v) {
                if v.id.2 != 1 {
                    return fail(format!(
                        "{}: network view {:?} of {} does not have index 1",
                        l.name, v.id, v.group
                    ));
                }
                continue;
            }
            if let Some((_, p)) = previous_view(l, &v.group, i) {
                if (p.id.0, p.id.1) != (v.id.0, v.id.1) || v.id.2 <= p.id.2 {
                    return fail(format!(
                        "{}: view {:?} of {} follows {:?}",
                        l.name, v.id, v.group, p.id
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The vs-sets of a network view partition its members; the receiver is in
/// its own set, and everyone in its set was in its previous view.
pub(super) fn vs_sets_are_sane(logs: &[ClientLog]) -> Result<(), Violation> {
    for l in logs {
        for (i, v) in views_of(l).filter(|(_, v)| is_network(v)) {
            let mut all: Vec<&str> = v.vs_sets.iter().flatten().map(String::as_str).collect();
            all.sort_unstable();
            let mut members: Vec<&str> = v.members.iter().map(String::as_str).collect();
            members.sort_unstable();
            if all != members {
                return fail(format!(
                    "{}: vs-sets {:?} of {} do not partition its members {:?}",
                    l.name, v.vs_sets, v.group, v.members
                ));
            }
            let Some(mine) = v.vs_sets.get(v.my_set) else {
                return fail(format!(
                    "{}: own vs-set {} of {} is not there",
                    l.name, v.my_set, v.group
                ));
            };
            if !mine.contains(&l.name) {
                return fail(format!(
                    "{}: own vs-set {mine:?} of {} leaves it out",
                    l.name, v.group
                ));
            }
            if let Some((_, p)) = previous_view(l, &v.group, i) {
                if let Some(stranger) = mine.iter().find(|m| !p.members.contains(m)) {
                    return fail(format!(
                        "{}: {stranger} is in its vs-set of {} but was not in its previous view",
                        l.name, v.group
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A network view that lost members of the client's previous view comes
/// after a transitional signal; a transitional signal is followed by a
/// network view of its group (unless the client left or the log ends).
pub(super) fn transitional_signals(logs: &[ClientLog]) -> Result<(), Violation> {
    for l in logs {
        for (i, v) in views_of(l).filter(|(_, v)| is_network(v)) {
            let Some((p_at, p)) = previous_view(l, &v.group, i) else {
                continue;
            };
            let lost = p.members.iter().any(|m| !v.members.contains(m));
            let signalled = l.events[p_at..i]
                .iter()
                .any(|e| matches!(e, Event::Transition { group, .. } if *group == v.group));
            if lost && !signalled {
                return fail(format!(
                    "{}: view {:?} of {} lost members without a transitional signal",
                    l.name, v.id, v.group
                ));
            }
        }
        for (i, e) in l.events.iter().enumerate() {
            let Event::Transition { group, .. } = e else {
                continue;
            };
            let next = l.events[i + 1..].iter().find_map(|e| match e {
                Event::View(v) if v.group == *group => Some(is_network(v)),
                Event::Left { group: g } if g == group => Some(true),
                _ => None,
            });
            if next == Some(false) {
                return fail(format!("{}: the transitional signal of {group} is followed by a view that is not a network view", l.name));
            }
        }
    }
    Ok(())
}

/// Messages of `group` that `l` delivered after position `from` and before
/// the next event `stop` accepts.
fn delivered_between<'a>(
    l: &'a ClientLog,
    group: &str,
    from: usize,
    stop: impl Fn(&Event) -> bool,
) -> BTreeSet<&'a super::MsgId> {
    l.events[from + 1..]
        .iter()
        .take_while(|e| !stop(e))
        .filter_map(|e| match e {
            Event::Message { id, group: g, .. } if g == group => Some(id),
            _ => None,
        })
        .collect()
}

/// Two clients that move together from view V to the same next view V'
/// delivered the same messages of the group in V. Moving together means
/// being in the same vs-set of V' when V' is a network view (clients cut
/// off from each other meanwhile are in different vs-sets and may have
/// delivered different messages).
pub(super) fn virtual_synchrony(logs: &[ClientLog]) -> Result<(), Violation> {
    // (group, V, V', vs-set in V') -> (client, messages delivered in V).
    type Key = (String, ViewId, ViewId, Vec<String>);
    type Seen<'a> = HashMap<Key, (&'a str, BTreeSet<&'a super::MsgId>)>;
    let mut seen: Seen = HashMap::new();
    for l in logs {
        let views: Vec<(usize, &View)> = views_of(l).collect();
        for (k, &(at, v)) in views.iter().enumerate() {
            let Some(&(_, next)) = views[k + 1..].iter().find(|(_, w)| w.group == v.group) else {
                continue;
            };
            let left = l.events[at..]
                .iter()
                .any(|e| matches!(e, Event::Left { group } if *group == v.group));
            if left {
                continue;
            }
            let set = delivered_between(
                l,
                &v.group,
                at,
                |e| matches!(e, Event::View(w) if w.group == v.group),
            );
            let mut together = if is_network(next) {
                next.vs_sets.get(next.my_set).cloned().unwrap_or_default()
            } else {
                Vec::new()
            };
            together.sort();
            let key = (v.group.clone(), v.id, next.id, together);
            match seen.get(&key) {
                Some((who, other)) if *other != set => {
                    return fail(format!(
                        "{} and {who} both went from {:?} to {:?} of {} but delivered different messages in between: {set:?} and {other:?}",
                        l.name, v.id, next.id, v.group
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert(key, (&l.name, set));
                }
            }
        }
    }
    Ok(())
}

/// A SAFE message delivered by anyone in view V before V's transitional
/// signal is delivered by every member of V that survives.
pub(super) fn safe_delivery(logs: &[ClientLog]) -> Result<(), Violation> {
    for l in logs {
        for (at, v) in views_of(l) {
            let safe: Vec<&super::MsgId> = l.events[at + 1..]
                .iter()
                .take_while(|e| {
                    !matches!(e, Event::Transition { group, .. } if *group == v.group)
                        && !matches!(e, Event::View(w) if w.group == v.group)
                })
                .filter_map(|e| match e {
                    Event::Message { id, service, group }
                        if *group == v.group && service & SAFE_MESS != 0 =>
                    {
                        Some(id)
                    }
                    _ => None,
                })
                .collect();
            if safe.is_empty() {
                continue;
            }
            for other in logs.iter().filter(|o| o.survived && o.name != l.name) {
                let Some(o_at) = other.events.iter().position(
                    |e| matches!(e, Event::View(w) if w.group == v.group && w.id == v.id),
                ) else {
                    continue;
                };
                for id in &safe {
                    let has = other.events[o_at..]
                        .iter()
                        .any(|e| matches!(e, Event::Message { id: m, .. } if m == *id));
                    if !has {
                        return fail(format!(
                            "SAFE {id:?} delivered by {} in view {:?} of {} never reached {}",
                            l.name, v.id, v.group, other.name
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}
